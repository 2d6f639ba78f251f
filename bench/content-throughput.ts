/**
 * Uploads under a surge of matches, on PostgreSQL and on the embedded store, side by side.
 *
 * For each store a server runs in its own process (as in production) with a bank of random
 * PDQ hashes, a rule that removes matched content and opens a case, and a webhook target
 * served by this process. autocannon loads it over loopback with three kinds of request:
 *   - POST /v1/match: hashes nothing, stores nothing (the reference);
 *   - POST /v1/content whose hash matches nothing;
 *   - POST /v1/content whose hash is in the bank: content.matched → rule → case + decision
 *     → remove_content action → signed webhook, every stage an outbox consumer.
 * After the load it prints how far each outbox consumer is behind (events not yet handled)
 * and how many webhooks arrived, then waits for the pipeline to catch up and says how long.
 *
 *   node --import tsx bench/content-throughput.ts [--store both|postgres|embedded]
 *     [--bank-size 200000] [--seconds 20] [--connections 32]
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
import { countingWebhook } from './counting-webhook.ts';
import { matchRuleFile } from '../test/helpers/match-rules.ts';
import { scratchDatabase } from '../test/helpers/postgres-scratch.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    'bank-size': { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '32' },
    /** Only the all-match row, e.g. to profile it (BULWARK_BENCH_SERVER_FLAGS=--cpu-prof). */
    'all-match-only': { type: 'boolean', default: false },
    'database-url': { type: 'string', default: process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const bankSize = Number(values['bank-size']);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const stores = values.store === 'both' ? ['postgres', 'embedded'] : [values.store!];
const random = seededRandom(42);
const randomHex = (digits: number) => Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');

const RULES = matchRuleFile({ bank: 'bench', remove: true });

/** The platform's webhook endpoint: counts deliveries and answers 200 at once. */
const webhook = await countingWebhook();
const webhookUrl = webhook.url;

interface Row {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

interface StoreRun {
  store: string;
  rows: Row[];
  lag: Record<string, number>;
  deliveredAfterLoad: number;
  catchUpSeconds: number | undefined;
  matchedUploads: number;
}

const bankHashes: string[] = [];
function* bankRows(): Generator<RawBankRow> {
  for (let i = 0; i < bankSize; i++) {
    const value = randomHex(64);
    bankHashes.push(value);
    yield { line: i + 1, signalType: 'pdq', value, tags: [] };
  }
}

async function run(store: string): Promise<StoreRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
  const scratch = store === 'postgres' ? await scratchDatabase(values['database-url']) : undefined;
  const databaseUrl = scratch?.url;
  const location = databaseUrl ? { databaseUrl } : { dataDir };
  console.log(`\n[${store}] preparing a bank of ${bankSize.toLocaleString()} PDQ hashes and the rule…`);
  bankHashes.length = 0;
  const setup = await openBulwark({ ...location, dispatchActions: false });
  await setup.banks.create('bench', 'random PDQ hashes');
  await setup.banks.importRows('bench', bankRows(), { sourceName: 'bench', format: 'generated', batchSize: 10_000 });
  await setup.rules.activate(RULES, 'bench-rules.yaml');
  const { key } = await setup.apiKeys.create('bench');
  await setup.close();

  const port = 20_000 + Math.floor(random() * 20_000);
  const args = ['bin/bulwark.js', ...(databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir]), 'serve', '--port', String(port)];
  // BULWARK_BENCH_SERVER_FLAGS, e.g. --cpu-prof, profiles the server under load.
  const serverFlags = (process.env.BULWARK_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...serverFlags, ...args], {
    env: { ...process.env, BULWARK_LOG_LEVEL: 'warn', BULWARK_WEBHOOK_URL: webhookUrl, BULWARK_WEBHOOK_SECRET: 'bench-webhook-signing-secret' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  try {
    for (;;) {
      if (server.exitCode !== null) throw new Error('the server exited during start-up');
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let uploads = 0;
    const load = async (name: string, path: string, body: (n: number) => string): Promise<Row> => {
      let counter = 0;
      const result = await autocannon({
        url: base,
        connections,
        duration: seconds,
        headers,
        requests: [{ method: 'POST', path, setupRequest: (req) => ({ ...req, body: body(counter++) }) }],
      });
      return { name, requests: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
    };
    const signals = (value: string) => [{ signal_type: 'pdq', value, quality: 90 }];
    const upload = (value: string) => JSON.stringify({ content_id: `bench-${uploads++}`, account_id: `acct-${uploads % 5000}`, signals: signals(value) });
    const skipped: Row = { name: '(skipped)', requests: 0, rps: 0, p50: 0, p99: 0, errors: 0 };
    const rows = values['all-match-only']
      ? [skipped, skipped]
      : [
          await load('POST /v1/match', '/v1/match', (n) => JSON.stringify({ signals: signals(n % 2 ? randomHex(64) : bankHashes[n % bankHashes.length]) })),
          await load('POST /v1/content, no match', '/v1/content', () => upload(randomHex(64))),
        ];
    const deliveredBefore = webhook.deliveries;
    const matching = await load('POST /v1/content, all match', '/v1/content', (n) => upload(bankHashes[(n * 7919) % bankHashes.length]));
    rows.push(matching);
    // Retried: right after the load a kept-alive connection may be reset under the client.
    const status = async (): Promise<{ consumers: { name: string; behind: number }[] }> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await (await fetch(`${base}/v1/outbox/status`, { headers })).json()) as { consumers: { name: string; behind: number }[] };
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    };
    const lag = Object.fromEntries((await status()).consumers.map((c) => [c.name, c.behind]));
    const deliveredAfterLoad = webhook.deliveries - deliveredBefore;
    // Each matched upload is one remove_content webhook once the pipeline has caught up.
    const caughtUpFrom = performance.now();
    let catchUpSeconds: number | undefined;
    for (let waited = 0; waited < 900; waited++) {
      const consumers = (await status()).consumers;
      if (consumers.every((c) => c.behind === 0) && webhook.deliveries - deliveredBefore >= matching.requests - matching.errors) {
        catchUpSeconds = (performance.now() - caughtUpFrom) / 1000;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { store, rows, lag, deliveredAfterLoad, catchUpSeconds, matchedUploads: matching.requests - matching.errors };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

const runs: StoreRun[] = [];
try {
  for (const store of stores) runs.push(await run(store));
} finally {
  webhook.close();
}

console.log(`\nbank: ${bankSize.toLocaleString()} PDQ hashes; autocannon, ${connections} connections, ${seconds} s per row, loopback; each server in its own process`);
console.log(['store'.padEnd(9), 'request'.padEnd(28), 'requests'.padStart(9), 'req/s'.padStart(7), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'errors'.padStart(7), 'vs no match'.padStart(12)].join(' '));
for (const run of runs) {
  const noMatch = run.rows[1].rps;
  for (const row of run.rows) {
    const ratio = row.name.includes('all match') ? `${Math.round((row.rps / noMatch) * 100)}%` : '';
    console.log([run.store.padEnd(9), row.name.padEnd(28), String(row.requests).padStart(9), row.rps.toFixed(0).padStart(7), String(row.p50).padStart(7), String(row.p99).padStart(7), String(row.errors).padStart(7), ratio.padStart(12)].join(' '));
  }
}
console.log('\noutbox consumers right after the all-match load (events behind), webhooks delivered during it, time to catch up:');
for (const run of runs) {
  const lag = Object.entries(run.lag).map(([name, behind]) => `${name} ${behind}`).join(', ');
  const caughtUp = run.catchUpSeconds === undefined ? 'not within 180 s' : `${run.catchUpSeconds.toFixed(1)} s`;
  console.log(`  ${run.store}: ${lag}; webhooks ${run.deliveredAfterLoad}/${run.matchedUploads}; caught up in ${caughtUp}`);
}
console.log('\ngoal (issue 11): all-match ≥ 70% of no-match with p99 < 300 ms on PostgreSQL, ≥ 50% on the embedded store');
