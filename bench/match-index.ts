/**
 * One PDQ query against a bank of N hashes (default 10 million) at threshold 31, on one
 * core: the multi-index beside a linear scan, with build time, memory, and a check that
 * both returned the same results for every query measured.
 *
 *   npm run bench:match -- [--size 10000000] [--queries 2000]
 *
 * The npm script runs Node with glibc's hugetlb tunable, as `bulwark` and `npm start` do, so
 * the index sits on transparent huge pages; run the command in package.json without it to
 * see the difference.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BruteForceHash256Index, type Hash256Hit, MultiIndexHash256Index } from '../src/match/hamming-index.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { HASH256_WORDS } from '../src/signals/pdq/hash256.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '10000000' }, queries: { type: 'string', default: '2000' }, 'scan-queries': { type: 'string', default: '20' } } });
const size = Number(values.size);
const queryCount = Number(values.queries);
const scanQueries = Number(values['scan-queries']);
const threshold = 31;
const random = seededRandom(20261125);
const word = () => Math.floor(random() * 0x1_0000_0000) >>> 0;

/** How much of this process sits on transparent huge pages, from the kernel's own accounting. */
function hugePages(): string {
  try {
    const kb = Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0);
    return kb > 0 ? `${mb(kb * 1024)} of the process on transparent huge pages` : `none (run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 to ask for them)`;
  } catch {
    return 'unknown (no /proc/self/smaps_rollup)';
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const rssBefore = process.memoryUsage().rss;

console.log(`generating ${size.toLocaleString()} random PDQ hashes…`);
const words = new Uint32Array(size * HASH256_WORDS);
for (let i = 0; i < words.length; i++) words[i] = word();

/** Half the queries sit at distance 5..31 from a bank entry (they must be found); half are random. */
const queries = Array.from({ length: queryCount }, (_, q) => {
  const query = new Uint32Array(HASH256_WORDS);
  if (q % 2 === 1) {
    for (let w = 0; w < HASH256_WORDS; w++) query[w] = word();
    return query;
  }
  const source = Math.floor(random() * size);
  query.set(words.subarray(source * HASH256_WORDS, (source + 1) * HASH256_WORDS));
  const flips = 5 + (q % 27);
  const chosen = new Set<number>();
  while (chosen.size < flips) chosen.add(Math.floor(random() * 256));
  for (const bit of chosen) query[bit >>> 5] ^= 1 << (bit & 31);
  return query;
});

let started = performance.now();
const index = MultiIndexHash256Index.build(words, size);
const buildSeconds = (performance.now() - started) / 1000;
const rssAfterBuild = process.memoryUsage().rss;

const time = (search: (query: Uint32Array) => Hash256Hit[], list: Uint32Array[]) => {
  const latencies: number[] = [];
  const results: Hash256Hit[][] = [];
  for (const query of list) {
    const t = performance.now();
    results.push(search(query));
    latencies.push(performance.now() - t);
  }
  return { latencies: latencies.sort((a, b) => a - b), results };
};

// Warm up the JIT on a few queries before measuring.
for (const query of queries.slice(0, 50)) index.search(query, threshold);
const indexed = time((query) => index.search(query, threshold), queries);
const brute = new BruteForceHash256Index(words, size);
const scanned = time((query) => brute.search(query, threshold), queries.slice(0, scanQueries));

let agreeing = 0;
for (let q = 0; q < scanQueries; q++) if (JSON.stringify(scanned.results[q]) === JSON.stringify(indexed.results[q])) agreeing++;
const planted = indexed.results.filter((hits, q) => q % 2 === 0 && hits.length > 0).length;

const row = (name: string, latencies: number[], n: number) =>
  `${name.padEnd(22)} ${String(n).padStart(7)} ${percentile(latencies, 50).toFixed(3).padStart(10)} ${percentile(latencies, 90).toFixed(3).padStart(10)} ${percentile(latencies, 99).toFixed(3).padStart(10)}`;

console.log(`\nbank: ${size.toLocaleString()} PDQ hashes (${mb(words.byteLength)}), threshold ${threshold}, one core`);
console.log(`index: multi-index hashing, ${(index as unknown as { tables: unknown[] }).tables.length} substrings; built in ${buildSeconds.toFixed(2)} s`);
console.log(`huge pages: ${hugePages()}`);
console.log(`memory: index tables ${mb(index.tableBytes)} + hashes ${mb(words.byteLength)} = ${mb(index.tableBytes + words.byteLength)}; process RSS grew ${mb(rssAfterBuild - rssBefore)}   (target < 1 GB)\n`);
console.log(`${'search'.padEnd(22)} ${'queries'.padStart(7)} ${'p50 ms'.padStart(10)} ${'p90 ms'.padStart(10)} ${'p99 ms'.padStart(10)}`);
console.log(row('multi-index', indexed.latencies, queryCount));
console.log(row('linear scan (reference)', scanned.latencies, scanQueries));
console.log(`\nspeed-up at the median: ${(percentile(scanned.latencies, 50) / percentile(indexed.latencies, 50)).toFixed(0)}x   (target: median < 1 ms)`);
console.log(`same results as the scan: ${agreeing}/${scanQueries} queries; planted neighbours found: ${planted}/${Math.ceil(queryCount / 2)}`);
if (agreeing !== scanQueries || planted !== Math.ceil(queryCount / 2)) {
  console.error('MISMATCH: the index and the scan disagree');
  process.exitCode = 1;
}
