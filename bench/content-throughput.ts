/**
 * Throughput of POST /v1/content with a precomputed PDQ hash against a bank of 1M hashes.
 *
 * The server runs in its own process (as in production) on the embedded store; autocannon
 * loads it over loopback from this process. Printed beside it, as references: the same
 * server's floor (an authenticated GET /healthz) and POST /v1/match, which hashes nothing
 * and stores nothing, so the cost of storing the result and its event is visible.
 *
 *   node --import tsx bench/content-throughput.ts [--bank-size 1000000] [--seconds 10] [--connections 16]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openBulwark } from '../src/app.ts';
import type { RawBankRow } from '../src/banks/import-formats.ts';
import { seededRandom } from '../src/demo/benign-images.ts';

const { values } = parseArgs({
  options: {
    'bank-size': { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
  },
});
const bankSize = Number(values['bank-size']);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const random = seededRandom(42);
const randomHex = (digits: number) => Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');

const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
const sampleHashes: string[] = [];

console.log(`preparing an embedded store with a bank of ${bankSize.toLocaleString()} PDQ hashes…`);
const setup = await openBulwark({ dataDir });
await setup.banks.create('bench', 'random PDQ hashes');
let started = performance.now();
function* rows(): Generator<RawBankRow> {
  for (let i = 0; i < bankSize; i++) {
    const value = randomHex(64);
    if (i % 1000 === 0) sampleHashes.push(value);
    yield { line: i + 1, signalType: 'pdq', value, tags: [] };
  }
}
await setup.banks.importRows('bench', rows(), { sourceName: 'bench', format: 'generated', batchSize: 10_000 });
const importSeconds = (performance.now() - started) / 1000;
const { key } = await setup.apiKeys.create('bench');
await setup.close();

const port = 20_000 + Math.floor(random() * 20_000);
started = performance.now();
const server = spawn(process.execPath, ['bin/bulwark.js', '--data-dir', dataDir, 'serve', '--port', String(port)], {
  env: { ...process.env, BULWARK_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (;;) {
  if (server.exitCode !== null) throw new Error('the server exited during start-up');
  const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
  if (ok) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const startSeconds = (performance.now() - started) / 1000;

/** A query near a bank entry (distance 8) half the time, a random hash otherwise. */
function queryHash(n: number): string {
  if (n % 2 === 1) return randomHex(64);
  const chars = sampleHashes[n % sampleHashes.length].split('');
  for (let i = 0; i < 8; i++) {
    const at = (n * 7 + i * 8) % 64;
    chars[at] = (Number.parseInt(chars[at], 16) ^ 1).toString(16);
  }
  return chars.join('');
}

interface Row {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(name: string, request: autocannon.Request): Promise<Row> {
  let counter = 0;
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [request.method === 'POST' ? { ...request, setupRequest: (req) => ({ ...req, body: bodyFor(name, counter++) }) } : request],
  });
  return {
    name,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

function bodyFor(name: string, n: number): string {
  const signals = [{ signal_type: 'pdq', value: queryHash(n), quality: 90 }];
  if (name.startsWith('POST /v1/match')) return JSON.stringify({ signals });
  return JSON.stringify({ content_id: `bench-${n}`, account_id: `acct-${n % 5000}`, signals });
}

try {
  const rowsOut = [
    await load('GET /healthz (floor)', { method: 'GET', path: '/healthz' }),
    await load('POST /v1/match (no storage)', { method: 'POST', path: '/v1/match' }),
    await load('POST /v1/content', { method: 'POST', path: '/v1/content' }),
  ];
  console.log(`\nbank: ${bankSize.toLocaleString()} PDQ hashes; import ${importSeconds.toFixed(1)} s (${Math.round(bankSize / importSeconds).toLocaleString()} rows/s); server start incl. index load ${startSeconds.toFixed(1)} s`);
  console.log(`load: autocannon, ${connections} connections, ${seconds} s each, loopback, server in its own process (embedded PGlite store)\n`);
  console.log(['endpoint'.padEnd(30), 'requests'.padStart(9), 'req/s'.padStart(8), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'errors'.padStart(7)].join(' '));
  for (const row of rowsOut) {
    console.log([row.name.padEnd(30), String(row.requests).padStart(9), row.rps.toFixed(0).padStart(8), String(row.p50).padStart(7), String(row.p99).padStart(7), String(row.errors).padStart(7)].join(' '));
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
