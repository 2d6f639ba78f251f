import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a new embedded store (PostgreSQL's initdb, run by PGlite) in a short-lived child
 * process. Creating one grows PGlite's WebAssembly memory to about 800 MB, and WebAssembly
 * memory is never given back while its instance lives: done in the process that then
 * imports, that memory would stay for the whole command (measured by bench/event-import.ts).
 * The caller holds the store's lock; the child only writes the new files.
 */
export function createEmbeddedStoreApart(dataDir: string): void {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = new PGlite(process.argv[1]); await db.waitReady; await db.close();`;
  const created = spawnSync(process.execPath, ['--input-type=module', '-e', script, dataDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`could not create the embedded store in ${dataDir}: ${created.stderr.trim() || `exit ${created.status}`}`);
}
