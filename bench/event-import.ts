/**
 * `events import` on both stores, side by side: the same JSON-lines file of synthetic
 * platform events (src/demo/synthetic-platform.ts) imported through importEventLines, as the
 * command line does, once into the embedded store (PGlite, on disk) and once into
 * PostgreSQL. Each import runs in its own process, so its peak resident memory (getrusage
 * maxrss) is its own; the memory right after the store opened is printed beside it, so the
 * store's fixed cost and what the import adds can be told apart.
 *
 *   node --import tsx bench/event-import.ts [--events 200000] [--batch-size 5000,1000]
 *        [--database-url postgres://postgres@127.0.0.1:5432/test] [--cpu-prof DIR] [--only pglite|postgres]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openBulwark } from '../src/app.ts';
import { syntheticPlatform } from '../src/demo/synthetic-platform.ts';
import { importEventLines } from '../src/ingest/event-import.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'batch-size': { type: 'string', default: '5000' },
    'database-url': { type: 'string', default: process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'cpu-prof': { type: 'string' },
    only: { type: 'string' },
    'statement-times': { type: 'boolean', default: false },
    // Internal: run one import in this process and print its figures as JSON.
    child: { type: 'string' },
    file: { type: 'string' },
    schema: { type: 'string' },
    'data-dir': { type: 'string' },
  },
});

interface ImportFigures {
  store: string;
  batchSize: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  rssAfterOpenMb: number;
  peakRssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  /** PostgreSQL only: the largest peak resident memory of the server backends that served the import. */
  serverBackendPeakMb: number | null;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function child(store: string): Promise<void> {
  const batchSize = Number(values['batch-size']);
  // The application name finds this import's own server backends among everyone else's.
  const applicationName = `bulwark-bench-${values.schema}`;
  const databaseUrl = `${values['database-url']!}${values['database-url']!.includes('?') ? '&' : '?'}application_name=${applicationName}`;
  const location = store === 'postgres' ? { databaseUrl, schema: values.schema! } : { dataDir: values['data-dir']! };
  if (store === 'pglite-initdb-in-process') {
    // The reference: PGlite creating a store in the process that goes on to use it, as Bulwark did.
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(values['data-dir']!);
    await db.waitReady;
    await db.close();
    process.stdout.write(`${JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
    return;
  }
  const opened = performance.now();
  const bulwark = await openBulwark({ ...location, identifierKey: 'bench-key', dispatchActions: false, hashing: { workers: 0 } });
  // A new embedded store is created (initdb) on first open, which costs far more memory than
  // reopening one; an operator's store exists already, so that open is a separate step.
  if (store === 'pglite-create') {
    await bulwark.close();
    process.stdout.write(`${JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), seconds: Math.round((performance.now() - opened) / 100) / 10 })}\n`);
    return;
  }
  const rssAfterOpen = process.memoryUsage().rss;
  const statements = values['statement-times'] && store === 'postgres' ? timeStatements() : undefined;
  const started = performance.now();
  const result = await importEventLines(bulwark.platformEvents, () => createReadStream(values.file!), { batchSize });
  const seconds = (performance.now() - started) / 1000;
  const memory = process.memoryUsage();
  let serverBackendPeakMb: number | null = null;
  if (store === 'postgres') {
    const backends = await bulwark.sql.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    const peaks = backends.rows.map((row) => {
      const status = readFileSync(`/proc/${row.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    });
    serverBackendPeakMb = Math.round(Math.max(0, ...peaks) / 1024);
  }
  await bulwark.close();
  const figures: ImportFigures = {
    store,
    batchSize,
    events: result.received,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerSecond: Math.round(result.received / seconds),
    rssAfterOpenMb: mb(rssAfterOpen),
    // maxRSS is in kilobytes: the true peak, not a sample.
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: mb(memory.heapUsed),
    externalMb: mb(memory.external),
    arrayBuffersMb: mb(memory.arrayBuffers),
    serverBackendPeakMb,
  };
  if (statements) process.stderr.write(statements());
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/**
 * Wall time spent waiting for each kind of statement (by its first words), measured around
 * pg's client: where an import's time goes on the server side. Returns a printer.
 */
function timeStatements(): () => string {
  const spent = new Map<string, { ms: number; calls: number }>();
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string };
    const text = (typeof config === 'string' ? config : (config?.text ?? '')).replace(/\s+/g, ' ').trim().slice(0, 70);
    const started = performance.now();
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      void result.then(
        () => {
          const entry = spent.get(text) ?? { ms: 0, calls: 0 };
          entry.ms += performance.now() - started;
          entry.calls++;
          spent.set(text, entry);
        },
        () => undefined,
      );
    }
    return result;
  } as typeof pg.Client.prototype.query;
  return () =>
    [...spent.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 12)
      .map(([text, entry]) => `${(entry.ms / 1000).toFixed(1).padStart(7)} s ${String(entry.calls).padStart(6)} calls  ${text}\n`)
      .join('');
}

async function writeEvents(path: string, count: number): Promise<number> {
  // About 30 events per ordinary account on the default synthetic platform.
  const platform = syntheticPlatform({ seed: 5, accounts: Math.max(1000, Math.round(count / 30)), networks: Math.max(2, Math.round(count / 40_000)) });
  const out = createWriteStream(path);
  let written = 0;
  for (const event of platform.events()) {
    if (written >= count) break;
    if (!out.write(`${JSON.stringify({ ...event, event_id: `bench-${written}` })}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written++;
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return written;
}

async function main(): Promise<void> {
  if (values.child) return child(values.child);
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-import-bench-'));
  const file = join(dir, 'events.jsonl');
  const schemas: string[] = [];
  try {
    const written = await writeEvents(file, Number(values.events));
    const size = Number(execFileSync('stat', ['-c', '%s', file], { encoding: 'utf8' }));
    console.log(`events import: ${written.toLocaleString()} synthetic events (${mb(size)} MB of JSON lines), each store in its own process`);
    const rows: ImportFigures[] = [];
    const batchSizes = values['batch-size']!.split(',').map(Number);
    for (const batchSize of batchSizes) {
      for (const store of ['pglite', 'postgres']) {
        if (values.only && values.only !== store) continue;
        const schema = `bench_${randomBytes(5).toString('hex')}`;
        if (store === 'postgres') schemas.push(schema);
        const args = [
          ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof'], '--cpu-prof-name', `import-${store}-${batchSize}.cpuprofile`] : []),
          '--import',
          'tsx',
          import.meta.filename,
          '--child',
          store,
          '--file',
          file,
          '--batch-size',
          String(batchSize),
          '--database-url',
          values['database-url']!,
          '--schema',
          schema,
          '--data-dir',
          join(dir, `data-${batchSize}`),
        ];
        if (store === 'pglite') {
          const plain = args.filter((arg) => !arg.startsWith('--cpu-prof') && !arg.endsWith('.cpuprofile') && arg !== values['cpu-prof']);
          const created = spawnSync(process.execPath, plain.map((arg) => (arg === 'pglite' ? 'pglite-create' : arg)), { encoding: 'utf8' });
          if (created.status !== 0) throw new Error(`creating the embedded store failed: ${created.stderr}`);
          if (batchSize === batchSizes[0]) {
            const reference = spawnSync(
              process.execPath,
              plain.map((arg) => (arg === 'pglite' ? 'pglite-initdb-in-process' : arg.startsWith(join(dir, 'data-')) ? join(dir, 'initdb-reference') : arg)),
              { encoding: 'utf8' },
            );
            if (reference.status !== 0) throw new Error(`the in-process reference failed: ${reference.stderr}`);
            const now = JSON.parse(created.stdout.trim().split('\n').at(-1)!);
            const before = JSON.parse(reference.stdout.trim().split('\n').at(-1)!);
            console.log(
              `new embedded store: opening it through Bulwark (initdb in a child process) peaks at ${now.peakRssMb} MB in ${now.seconds} s; PGlite creating it in-process, as Bulwark did before: ${before.peakRssMb} MB`,
            );
          }
        }
        const run = spawnSync(process.execPath, [...args, ...(values['statement-times'] ? ['--statement-times'] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (values['statement-times']) process.stdout.write(`${store}, batches of ${batchSize}: time waiting per statement\n${run.stderr}`);
        if (run.status !== 0) throw new Error(`${store} import failed: ${run.stderr}`);
        rows.push(JSON.parse(run.stdout.trim().split('\n').at(-1)!));
      }
    }
    console.table(rows);
    const byStore = (store: string) => rows.filter((row) => row.store === store);
    for (const [pglite, postgres] of byStore('pglite').map((row, i) => [row, byStore('postgres')[i]] as const)) {
      if (!pglite || !postgres) continue;
      console.log(
        `batch ${pglite.batchSize}: PGlite ${pglite.eventsPerSecond.toLocaleString()} events/s, peak RSS ${pglite.peakRssMb} MB (${pglite.peakRssMb - pglite.rssAfterOpenMb} MB over its open store)` +
          ` | PostgreSQL ${postgres.eventsPerSecond.toLocaleString()} events/s, peak RSS ${postgres.peakRssMb} MB (${postgres.peakRssMb - postgres.rssAfterOpenMb} MB over its open store)` +
            ` + a server backend of up to ${postgres.serverBackendPeakMb} MB in the server's own process`,
      );
    }
  } finally {
    if (schemas.length > 0) {
      const client = new pg.Client({ connectionString: values['database-url'] });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
