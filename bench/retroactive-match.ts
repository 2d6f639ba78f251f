/**
 * Retroactive matching: new bank entries per second matched against N stored content PDQ
 * hashes (default 10 million) on PostgreSQL, beside two references measured in the same run
 * on the same hashes:
 *   - brute force: every new entry compared with every stored hash, in memory (no store);
 *   - the live matcher's way: a multi-index built over all stored hashes, queried per entry
 *     (what keeping every upload's hash in a live index would cost: build time and memory).
 * Retroactive matching streams the stored hashes from the store in batches through an index
 * of the new entries, so its figure includes reading them from PostgreSQL.
 *
 * The stored hashes are random (benign: random bits), written by the server itself in large
 * INSERT … SELECT batches. Of each run's new entries a share (--planted, default 1%, at least
 * one) lie 1-12 bits from a stored hash and must be found; the rest are random. Matches are
 * rare in life, and each costs an event and a content update, which is not what is measured.
 *
 *   npm run bench:retro -- [--stored 10000000] [--entries 1,100,1000,10000] [--brute-entries 20]
 *     [--planted 0.01] [--database-url postgres://…/postgres] [--use URL-of-a-database-loaded-before] [--keep]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openBulwark } from '../src/app.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { BruteForceHash256Index, MultiIndexHash256Index } from '../src/match/hamming-index.ts';
import { packHex256 } from '../src/match/retroactive/scan.ts';
import { RetroactiveStore } from '../src/match/retroactive/store.ts';
import { HASH256_WORDS } from '../src/signals/pdq/hash256.ts';
import { scratchDatabase } from '../test/helpers/postgres-scratch.ts';

const { values } = parseArgs({
  options: {
    stored: { type: 'string', default: '10000000' },
    entries: { type: 'string', default: '1,100,1000,10000' },
    'brute-entries': { type: 'string', default: '20' },
    planted: { type: 'string', default: '0.01' },
    'database-url': { type: 'string', default: process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    use: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const stored = Number(values.stored);
const entryCounts = values.entries!.split(',').map(Number);
const bruteEntries = Number(values['brute-entries']);
const planted = Number(values.planted);
const THRESHOLD = 31;
const LOAD_BATCH = 1_000_000;
const random = seededRandom(20261207);
const seconds = (since: number) => (performance.now() - since) / 1000;
const rate = (count: number, secs: number) => `${Math.round(count / secs).toLocaleString()}/s`;

const database = values.use ? { url: values.use, drop: async () => undefined } : await scratchDatabase(values['database-url']);
console.log(`database: ${database.url}; stored PDQ hashes: ${stored.toLocaleString()}`);

// Migrations first (openBulwark applies them). An api process runs no outbox consumers, so
// nothing else competes with the stage, which runs only when drained below.
const open = () => openBulwark({ databaseUrl: database.url, hashing: { workers: 0 }, role: 'api', retroactive: { pollMs: 0 } });
let bulwark = await open();
const client = new pg.Client({ connectionString: database.url });
await client.connect();
const have = Number((await client.query("SELECT count(*) AS n FROM content_signals WHERE signal_type = 'pdq'")).rows[0].n);
if (have < stored) {
  console.log(`loading ${(stored - have).toLocaleString()} hashes in batches of ${LOAD_BATCH.toLocaleString()} (received over the last 80 days)…`);
  const started = performance.now();
  for (let from = have; from < stored; from += LOAD_BATCH) {
    const to = Math.min(from + LOAD_BATCH, stored);
    await client.query(
      `WITH made AS (
         INSERT INTO content (content_id, account_id, content_type, signals, matches, received_at)
         SELECT 'bench-' || g, 'acct-' || (g % 100000), 'photo', '[]', '[]', now() - (g % 80) * interval '1 day' FROM generate_series($1::bigint, $2::bigint - 1) AS g
         RETURNING content_id, received_at
       )
       INSERT INTO content_signals (content_id, signal_type, value, exact, received_at)
       SELECT content_id, 'pdq', md5(random()::text) || md5(random()::text), false, received_at FROM made`,
      [from, to],
    );
    process.stdout.write(`  ${to.toLocaleString()} (${rate(to - have, seconds(started))})\n`);
  }
  await client.query('ANALYZE content_signals');
  console.log(`loaded in ${seconds(started).toFixed(0)} s`);
}

// The stored hashes in memory, for the references (read the way the stage reads them).
let started = performance.now();
const store = new RetroactiveStore(bulwark.sql);
const words = new Uint32Array(stored * HASH256_WORDS);
const hexOf: string[] = [];
let count = 0;
for (let after = 0; count < stored; ) {
  const page = await store.scanPage('pdq', true, after, new Date(0), 200_000);
  if (page.ids.length === 0) break;
  const take = Math.min(page.ids.length, stored - count);
  words.set(packHex256(page.hex!, page.ids.length).subarray(0, take * HASH256_WORDS), count * HASH256_WORDS);
  if (hexOf.length < 100_000) for (let i = 0; i < take && hexOf.length < 100_000; i += 7) hexOf.push(page.hex!.slice(i * 64, i * 64 + 64));
  count += take;
  after = page.last;
}
console.log(`read ${count.toLocaleString()} stored hashes from the store into memory in ${seconds(started).toFixed(1)} s (for the references)`);

const randomHex = () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join('');
/** A stored hash with 1-12 bits flipped (a match), or a random hash (no match). */
function newEntries(n: number): { values: string[]; near: number } {
  const list: string[] = [];
  let near = 0;
  const every = Math.max(1, Math.round(1 / planted));
  for (let i = 0; i < n; i++) {
    if (i % every !== 0) {
      list.push(randomHex());
      continue;
    }
    const bytes = Buffer.from(hexOf[Math.floor(random() * hexOf.length)], 'hex');
    const flips = 1 + (i % 12);
    const bits = new Set<number>();
    while (bits.size < flips) bits.add(Math.floor(random() * 256));
    for (const bit of bits) bytes[bit >>> 3] ^= 1 << (bit & 7);
    list.push(bytes.toString('hex'));
    near++;
  }
  return { values: [...new Set(list)], near };
}

console.log(`building the live matcher's index over all ${count.toLocaleString()} stored hashes (reference)…`);
started = performance.now();
const live = MultiIndexHash256Index.build(words, count);
const liveBuild = seconds(started);
const brute = new BruteForceHash256Index(words, count);

const rows: Record<string, string | number>[] = [];
for (const [run, n] of entryCounts.entries()) {
  const batch = newEntries(n);
  const bank = `retro-${run}-${n}`;
  await bulwark.banks.create(bank);
  await bulwark.banks.importRows(bank, batch.values.map((value, i) => ({ line: i + 1, signalType: 'pdq', value, tags: [] })), { sourceName: 'bench', format: 'lines' });
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  // How long the event loop (which answers match requests) was held at a time while the stage ran.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  await bulwark.retroactive.drain();
  loopDelay.disable();
  const retroSeconds = seconds(started);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const matched = (await bulwark.retroactive.status()).find((row) => row.bank === bank)!.matches;

  const queries = batch.values.map((value) => packHex256(value, 1));
  started = performance.now();
  let liveHits = 0;
  for (const query of queries) liveHits += live.search(query, THRESHOLD).length;
  const liveSeconds = seconds(started);
  const bruteSample = queries.slice(0, Math.max(1, Math.min(bruteEntries, queries.length)));
  started = performance.now();
  for (const query of bruteSample) brute.search(query, THRESHOLD);
  const bruteSeconds = seconds(started);

  rows.push({
    'new entries': batch.values.length,
    'retroactive (store → stream)': `${retroSeconds.toFixed(2)} s (${cpuSeconds.toFixed(1)} s CPU here), ${rate(batch.values.length, retroSeconds)} entries, ${rate(count, retroSeconds)} stored hashes`,
    'matches': `${matched} (≥ ${batch.near} planted)`,
    'event loop held, p99 / max': `${(loopDelay.percentile(99) / 1e6).toFixed(0)} / ${(loopDelay.max / 1e6).toFixed(0)} ms`,
    'brute force, in memory': `${rate(bruteSample.length, bruteSeconds)} entries (on ${bruteSample.length})`,
    'live index, in memory': `${rate(queries.length, liveSeconds)} entries (${liveHits} hits) + ${liveBuild.toFixed(1)} s build`,
  });
  // A fresh process each run, so no run reuses another's loaded job.
  await bulwark.close();
  bulwark = await open();
}

console.log(`\nnew entries matched against ${count.toLocaleString()} stored PDQ hashes, threshold ${THRESHOLD}, one core (node ${process.version})`);
console.table(rows);
console.log(
  'retroactive: the stage as it runs in the server (PostgreSQL read included), one bank job per row; event loop held: the longest waits a request would have had meanwhile.\n' +
    'brute force: each entry compared with every stored hash in memory; live index: the stored hashes in one multi-index in memory (the live matcher over uploads instead of entries), built once.',
);
await client.end();
await bulwark.close();
if (!values.keep) await database.drop();
else console.log(`kept the database: ${database.url} (--use it again to skip loading)`);
