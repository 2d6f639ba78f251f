/**
 * Query latency while a PDQ bank of N hashes (default 10 million) changes. Queries run one
 * after another on the event loop, as a server's would, first with nothing changing, then
 * while 1, 10,000 and 1,000,000 rows are imported through the bank service into the store
 * and applied to the live index, and last while every piece of the index is merged into one
 * in the background. Each import's window lasts from its start until the rows are visible.
 *
 *   npm run bench:index -- [--size 10000000] [--store postgres|pglite] [--baseline-seconds 10]
 *
 * The bank's N hashes are random and made in memory, as in bench:match, and handed to the
 * live index directly (ids far above the store's); the imports go through the store and the
 * matcher exactly as an operator's would. PostgreSQL gets a schema of its own, dropped after.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BankService } from '../src/banks/banks.ts';
import type { RawBankRow } from '../src/banks/import-formats.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { Matcher } from '../src/match/matcher.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { HASH256_WORDS, hash256ToHex } from '../src/signals/pdq/hash256.ts';
import { PdqSignalIndex } from '../src/signals/pdq/pdq-index.ts';
import { migrate } from '../src/store/migrate.ts';
import { openSql, type StoreLocation } from '../src/store/sql.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000000' },
    store: { type: 'string', default: 'postgres' },
    'database-url': { type: 'string', default: process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'baseline-seconds': { type: 'string', default: '10' },
    imports: { type: 'string', default: '1,10000,1000000' },
  },
});
const size = Number(values.size);
const importSizes = values.imports!.split(',').map(Number);
const baselineMs = Number(values['baseline-seconds']) * 1000;
const BASE_ID = 2 ** 40;
const random = seededRandom(20261207);
const word = () => Math.floor(random() * 0x1_0000_0000) >>> 0;
const randomHash = () => Uint32Array.from({ length: HASH256_WORDS }, word);
const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

let location: StoreLocation = {};
let dropSchema = async () => undefined as void;
if (values.store === 'postgres') {
  const schema = `bench_index_${randomBytes(4).toString('hex')}`;
  location = { databaseUrl: values['database-url'], schema };
  dropSchema = async () => {
    const client = new pg.Client({ connectionString: values['database-url'] });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  };
}
const sql = await openSql(location);
await migrate(sql);
const signals = defaultSignalRegistry();
const banks = new BankService(sql, signals);
const matcher = new Matcher(sql, signals, banks, { refreshIntervalMs: 1000 });
let committedAt = 0;
banks.onChange({ bankChanged: () => void (committedAt = performance.now()) });

try {
  await banks.create('bench', 'random PDQ hashes');
  await banks.addEntry('bench', { signalType: 'pdq', value: hash256ToHex(randomHash()) });
  await matcher.refresh();
  const index = matcher.index('bench', 'pdq') as PdqSignalIndex;

  console.log(`generating ${size.toLocaleString()} random PDQ hashes and building the live index (on a worker thread)…`);
  let started = performance.now();
  const planted: Uint32Array[] = [];
  const seed = index.batch();
  for (let i = 0; i < size; i++) {
    const hash = randomHash();
    if (i % Math.max(1, Math.floor(size / 1000)) === 0) planted.push(hash);
    seed.addHash(BASE_ID + i, hash);
  }
  await seed.prepare();
  seed.apply();
  console.log(`index of ${index.size.toLocaleString()} hashes ready in ${seconds(performance.now() - started)}`);

  // Half the queries sit 5..31 bits from a bank hash (they hit), half are random (they miss).
  const queries = Array.from({ length: 2000 }, (_, q) => {
    if (q % 2 === 1) return hash256ToHex(randomHash());
    const query = Uint32Array.from(planted[q % planted.length]);
    for (let flips = 5 + (q % 27); flips > 0; flips--) {
      const bit = Math.floor(random() * 256);
      query[bit >>> 5] ^= 1 << (bit & 31);
    }
    return hash256ToHex(query);
  });

  let window: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let q = 0; running; q++) {
      const t = performance.now();
      await matcher.match([{ signalType: 'pdq', value: queries[q % queries.length], quality: 100 }]);
      window.push(performance.now() - t);
    }
  })();
  const measure = async (work: () => Promise<void>) => {
    window = [];
    await work();
    const latencies = window.sort((a, b) => a - b);
    window = [];
    return latencies;
  };
  const rest = () => new Promise((resolve) => setTimeout(resolve, Math.min(2000, baselineMs / 4)));

  await measure(() => new Promise((resolve) => setTimeout(resolve, 2000))); // warms the JIT
  const baseline = await measure(() => new Promise((resolve) => setTimeout(resolve, baselineMs)));
  const rows: { phase: string; latencies: number[]; note: string }[] = [{ phase: 'no import', latencies: baseline, note: '' }];

  for (const count of importSizes) {
    const probe: string[] = [];
    function* generated(): Generator<RawBankRow> {
      for (let i = 0; i < count; i++) {
        const value = hash256ToHex(randomHash());
        if (i === count - 1) probe.push(value);
        yield { line: i + 1, signalType: 'pdq', value, tags: [] };
      }
    }
    let timing = '';
    process.stdout.write(`importing ${count.toLocaleString()} row${count === 1 ? '' : 's'}…`);
    const latencies = await measure(async () => {
      const start = performance.now();
      await banks.importRows('bench', generated(), { sourceName: `bench-${count}`, format: 'generated' });
      const visible = performance.now();
      const found = (await matcher.match([{ signalType: 'pdq', value: probe[0], quality: 100 }])).matched;
      if (!found) throw new Error(`the last imported row is not matched after the import of ${count}`);
      timing = `visible ${seconds(visible - start)} after the start (commit at ${seconds(committedAt - start)}, applied ${seconds(visible - committedAt)} later)`;
    });
    console.log(` ${timing}`);
    rows.push({ phase: `import ${count.toLocaleString()} row${count === 1 ? '' : 's'}`, latencies, note: timing });
    await matcher.idle();
    await index.maintain();
    await rest();
  }

  process.stdout.write(`merging every piece (${JSON.stringify(index.pieces.segments.map((n) => n.toLocaleString()))} + tail ${index.pieces.tail}) into one, on a worker thread…`);
  let merged = '';
  const merging = await measure(async () => {
    started = performance.now();
    await matcher.rebuild('bench');
    merged = `merged ${index.size.toLocaleString()} hashes in ${seconds(performance.now() - started)}; queries used the old pieces until the swap`;
  });
  console.log(` ${merged}`);
  rows.push({ phase: 'background rebuild', latencies: merging, note: merged });
  running = false;
  await loop;

  const p99 = percentile(baseline, 99);
  console.log(`\nbank: ${index.size.toLocaleString()} PDQ hashes, threshold 31, queries one at a time on the event loop; store: ${values.store}`);
  console.log(`${'phase'.padEnd(22)} ${'queries'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'p99 no import'.padStart(14)} ${'max ms'.padStart(8)}  change visible`);
  for (const row of rows) {
    const l = row.latencies;
    console.log(
      `${row.phase.padEnd(22)} ${String(l.length).padStart(8)} ${percentile(l, 50).toFixed(2).padStart(8)} ${percentile(l, 99).toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(14)} ${l[l.length - 1].toFixed(1).padStart(8)}  ${row.note}`,
    );
  }
} finally {
  await sql.close();
  await dropSchema();
}
