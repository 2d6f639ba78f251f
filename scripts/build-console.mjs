#!/usr/bin/env node
// Builds the review console (console/) into console/dist with Vite, for the server to serve at /console/.
// `node scripts/build-console.mjs` builds it; tests import buildConsole() and consoleIsBuilt().
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const consoleRoot = join(root, 'console');
export const consoleDist = join(consoleRoot, 'dist');

/** Runs Vite's build with console/vite.config.ts; quiet unless told otherwise. */
export async function buildConsole({ logLevel = 'warn' } = {}) {
  const { build } = await import('vite');
  await build({ configFile: join(consoleRoot, 'vite.config.ts'), logLevel });
}

function newestModification(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, name)));
  return newest;
}

/** True when console/dist/index.html is newer than every source of the console, so a rebuild would change nothing. */
export function consoleIsBuilt() {
  let built;
  try {
    built = statSync(join(consoleDist, 'index.html')).mtimeMs;
  } catch {
    return false;
  }
  const sources = [join(consoleRoot, 'src'), join(consoleRoot, 'index.html'), join(consoleRoot, 'vite.config.ts')];
  return sources.every((source) => newestModification(source) < built);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole({ logLevel: 'info' });
}
