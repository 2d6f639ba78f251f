/**
 * Latency of POST /v1/guardrails/recommendations with 500 candidates, against a platform of
 * 1M accounts of which ~11% have a standing the guardrail must know (minors, network
 * members, labelled accounts, high-risk leads, removed accounts).
 *
 * The server runs in its own process on the embedded store. Latency is measured one
 * request at a time from this process (what one recommender call waits), beside the same
 * server's floor (GET /healthz) and the guardrail's own decision time in process; then
 * throughput with several connections.
 *
 *   node --import tsx bench/guardrail-latency.ts [--accounts 1000000] [--candidates 500] [--requests 3000]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openBulwark } from '../src/app.ts';
import { seededRandom } from '../src/demo/benign-images.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    candidates: { type: 'string', default: '500' },
    requests: { type: 'string', default: '5000' },
  },
});
const accounts = Number(values.accounts);
const candidateCount = Number(values.candidates);
const requests = Number(values.requests);
const random = seededRandom(9);
const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-guardrail-'));

console.log(`preparing ${accounts.toLocaleString()} accounts in an embedded store…`);
const setup = await openBulwark({ dataDir });
// Setting the standing up directly in SQL: this measures the guardrail, not the ingest.
await setup.sql.query(
  `INSERT INTO accounts (external_id, minor, label, network_id, risk, deleted_at)
   SELECT 'acct-' || g,
          CASE WHEN g % 10 = 3 THEN true END,
          CASE WHEN g % 500 = 1 THEN 'confirmed' END,
          CASE WHEN g % 200 = 7 THEN g / 1000 END,
          CASE WHEN g % 250 = 11 THEN 0.6 END,
          CASE WHEN g % 1000 = 13 THEN now() END
   FROM generate_series(1, $1::integer) AS g`,
  [accounts],
);
const { key } = await setup.apiKeys.create('bench');
const inProcess = setup.guardrail;
await inProcess.refresh();
const standing = inProcess.stats().accounts;

function body(n: number): string {
  const candidates = Array.from({ length: candidateCount }, () => ({ account_id: `acct-${1 + Math.floor(random() * accounts)}` }));
  // Every third request comes from a minor, every seventh from a network member.
  const viewer = n % 3 === 0 ? `acct-${10 * (n % 1000) + 3}` : n % 7 === 0 ? `acct-${200 * (n % 1000) + 7}` : `acct-${1 + (n % accounts)}`;
  return JSON.stringify({ viewer, surface: 'recommendation:suggested', candidates });
}

// The decision alone, in process.
const decideTimes: number[] = [];
let removedShare = 0;
for (let n = 0; n < 2000; n++) {
  const parsed = JSON.parse(body(n)) as { viewer: string; candidates: { account_id: string }[] };
  const candidates = parsed.candidates.map((c) => ({ accountId: c.account_id }));
  const started = performance.now();
  const decision = inProcess.decide(parsed.viewer, candidates);
  decideTimes.push(performance.now() - started);
  removedShare += decision.removed.length / candidateCount;
}
await setup.close();

const port = 20_000 + Math.floor(random() * 20_000);
const server = spawn(process.execPath, ['bin/bulwark.js', '--data-dir', dataDir, 'serve', '--port', String(port)], {
  env: { ...process.env, BULWARK_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
const started = performance.now();
for (;;) {
  if (server.exitCode !== null) throw new Error('the server exited during start-up');
  if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const startSeconds = (performance.now() - started) / 1000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
function summary(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] };
}

// node:http with one kept-alive socket: fetch's own overhead on this VM (p99 ~4 ms against an
// empty server) would hide what is being measured.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function send(path: string, payload: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: payload ? 'POST' : 'GET',
        agent,
        headers: { authorization: `Bearer ${key}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

async function sequential(path: string, makeBody?: (n: number) => string): Promise<number[]> {
  const times: number[] = [];
  for (let n = 0; n < requests + 200; n++) {
    const payload = makeBody?.(n);
    const begin = performance.now();
    const status = await send(path, payload);
    if (status !== 200) throw new Error(`${path} answered ${status}`);
    // The first 200 warm the server's JIT and connection; they are not counted.
    if (n >= 200) times.push(performance.now() - begin);
  }
  return times;
}

try {
  const floor = summary(await sequential('/healthz'));
  const guard = summary(await sequential('/v1/guardrails/recommendations', body));
  const decide = summary(decideTimes);
  let counter = 0;
  const loaded = await autocannon({
    url: base,
    connections: 4,
    duration: 10,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [{ method: 'POST', path: '/v1/guardrails/recommendations', setupRequest: (req) => ({ ...req, body: body(counter++) }) }],
  });

  console.log(`\n${accounts.toLocaleString()} accounts, ${standing.toLocaleString()} with a standing held in memory; server start ${startSeconds.toFixed(1)} s`);
  console.log(`${candidateCount} candidates a request; ${(100 * removedShare / 2000).toFixed(1)}% of candidates removed on average\n`);
  console.log('one request at a time, loopback          p50 ms   p99 ms   max ms');
  const line = (name: string, s: { p50: number; p99: number; max: number }) =>
    console.log(`${name.padEnd(40)}${s.p50.toFixed(2).padStart(7)}${s.p99.toFixed(2).padStart(9)}${s.max.toFixed(2).padStart(9)}`);
  line('POST /v1/guardrails/recommendations', guard);
  line('reference: GET /healthz (HTTP floor)', floor);
  line('reference: decide() in process', decide);
  console.log(`\n4 connections, 10 s: ${loaded.requests.average.toFixed(0)} req/s (${(loaded.requests.average * candidateCount).toLocaleString()} candidates/s), p99 ${loaded.latency.p99} ms, errors ${loaded.errors + loaded.non2xx}`);
} finally {
  agent.destroy();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
