import { HASH256_WORDS, type Hash256, popcount32 } from '../signals/pdq/hash256.ts';

export interface Hash256Hit {
  /** Position of the hash in the array the index was built from. */
  id: number;
  distance: number;
}

export interface Hash256MultiHit extends Hash256Hit {
  /** Which of the queries gave the smallest distance. */
  queryIndex: number;
}

/** Exact nearest-neighbour search by Hamming distance over 256-bit hashes. */
export interface Hash256Index {
  readonly size: number;
  /** Every hash within maxDistance of the query, by distance then id. */
  search(query: Hash256, maxDistance: number): Hash256Hit[];
  /** Every hash within maxDistance of any query, with its best distance, by distance then id. */
  searchAny(queries: Hash256[], maxDistance: number): Hash256MultiHit[];
}

const byDistanceThenId = (a: Hash256Hit, b: Hash256Hit) => a.distance - b.distance || a.id - b.id;

/** Hamming distance, or a number above limit as soon as the partial sum passes it. */
function distanceUpTo(words: Uint32Array, offset: number, query: Hash256, limit: number): number {
  let distance = 0;
  for (let w = 0; w < HASH256_WORDS; w++) {
    distance += popcount32(words[offset + w] ^ query[w]);
    if (distance > limit) return distance;
  }
  return distance;
}

function mergeAny(index: Hash256Index, queries: Hash256[], maxDistance: number): Hash256MultiHit[] {
  const best = new Map<number, Hash256MultiHit>();
  queries.forEach((query, queryIndex) => {
    for (const hit of index.search(query, maxDistance)) {
      const current = best.get(hit.id);
      if (!current || hit.distance < current.distance) best.set(hit.id, { ...hit, queryIndex });
    }
  });
  return [...best.values()].sort(byDistanceThenId);
}

/** A linear scan: the reference every other index must agree with, and the fastest choice for small banks. */
export class BruteForceHash256Index implements Hash256Index {
  constructor(private readonly words: Uint32Array, readonly size: number) {}

  search(query: Hash256, maxDistance: number): Hash256Hit[] {
    const hits: Hash256Hit[] = [];
    const words = this.words;
    for (let id = 0, offset = 0; id < this.size; id++, offset += HASH256_WORDS) {
      const distance = distanceUpTo(words, offset, query, maxDistance);
      if (distance <= maxDistance) hits.push({ id, distance });
    }
    return hits.sort(byDistanceThenId);
  }

  searchAny(queries: Hash256[], maxDistance: number): Hash256MultiHit[] {
    return mergeAny(this, queries, maxDistance);
  }
}

/** Bits [start, start + length) of the hash at offset, most significant first; length ≤ 32. */
function substring(words: Uint32Array, offset: number, start: number, length: number): number {
  const shift = start & 31;
  const first = words[offset + (start >>> 5)];
  const next = shift === 0 || (start >>> 5) + 1 >= HASH256_WORDS ? 0 : words[offset + (start >>> 5) + 1] >>> (32 - shift);
  return ((first << shift) | next) >>> (32 - length);
}

function grow(array: Uint32Array): Uint32Array {
  const grown = new Uint32Array(array.length * 2);
  grown.set(array);
  return grown;
}

function binomialSum(n: number, k: number): number {
  let term = 1;
  let total = 1;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    total += term;
  }
  return total;
}

interface Table {
  start: number;
  length: number;
  /** Bits of the substring used to pick a bucket; the rest travel with the id in each entry. */
  prefixBits: number;
  lowBits: number;
  /** Where this table's buckets start in the index's one offsets array. */
  offsetBase: number;
  /** This table's part of that array: bucket b spans entries [offsets[b], offsets[b + 1]) of the one entries array. */
  offsets: Uint32Array;
  /** This table's part of the one entries array: (low bits << idBits) | id, grouped by bucket. */
  entries: Uint32Array;
}

/** A multi-index's tables without its hashes (see MultiIndexHash256Index.parts). */
export interface MultiIndexParts {
  size: number;
  idBits: number;
  scanWhenCheaper: boolean;
  tables: Pick<Table, 'start' | 'length' | 'prefixBits' | 'lowBits' | 'offsetBase'>[];
  offsets: Uint32Array;
  entries: Uint32Array;
}

/**
 * Multi-index hashing (Norouzi, Punjani and Fleet, 2012). The 256 bits are cut into m
 * substrings; a hash within distance r of the query has, by pigeonhole, some substring
 * within floor(r / m) of the query's. Each substring has a table of buckets keyed by its
 * leading bits, whose entries carry the remaining bits beside the id, so a bucket scan
 * rejects most entries without touching the hashes. Candidates are verified with the full
 * distance, so results are exactly those of a linear scan.
 */
export class MultiIndexHash256Index implements Hash256Index {
  private readonly idMask: number;
  private readonly brute: BruteForceHash256Index;
  // Scratch space for one search (searches are synchronous, so one set serves all).
  private candidates: Uint32Array = new Uint32Array(1 << 14);
  private probeCount = 0;
  private probeBucket: Uint32Array = new Uint32Array(1 << 12);
  private probeLow: Uint32Array = new Uint32Array(1 << 12);
  private probeBudget: Uint32Array = new Uint32Array(1 << 12);
  private probeStart: Uint32Array = new Uint32Array(1 << 12);
  private probeEnd: Uint32Array = new Uint32Array(1 << 12);
  /** Kept so the touching loads in search() are not optimised away. */
  private touched = 0;

  private constructor(
    private readonly words: Uint32Array,
    readonly size: number,
    private readonly tables: Table[],
    // Every table's offsets, and every table's entries, in one array each: the search loops
    // then index plain typed arrays instead of reaching through a table object per probe.
    private readonly offsets: Uint32Array,
    private readonly entries: Uint32Array,
    private readonly idBits: number,
    private readonly scanWhenCheaper: boolean,
  ) {
    this.idMask = idBits === 32 ? 0xffffffff : (1 << idBits) - 1;
    this.brute = new BruteForceHash256Index(words, size);
  }

  /**
   * The tables as plain arrays, so an index built on a worker thread can be moved to another
   * thread (transfer offsets' and entries' buffers) and revived there with fromParts.
   */
  parts(): MultiIndexParts {
    return {
      size: this.size,
      idBits: this.idBits,
      scanWhenCheaper: this.scanWhenCheaper,
      tables: this.tables.map(({ start, length, prefixBits, lowBits, offsetBase }) => ({ start, length, prefixBits, lowBits, offsetBase })),
      offsets: this.offsets,
      entries: this.entries,
    };
  }

  static fromParts(words: Uint32Array, parts: MultiIndexParts): MultiIndexHash256Index {
    const tables = parts.tables.map((table, t) => ({
      ...table,
      offsets: parts.offsets.subarray(table.offsetBase, table.offsetBase + (1 << table.prefixBits) + 1),
      entries: parts.entries.subarray(t * parts.size, (t + 1) * parts.size),
    }));
    return new MultiIndexHash256Index(words, parts.size, tables, parts.offsets, parts.entries, parts.idBits, parts.scanWhenCheaper);
  }

  /** Bytes held by the index's own tables (the hashes are shared with the caller). */
  get tableBytes(): number {
    return this.tables.reduce((sum, table) => sum + table.offsets.byteLength + table.entries.byteLength, 0);
  }

  /**
   * substrings: how many tables (default from the bank size); scanWhenCheaper: answer by a
   * linear scan when the tables would probe more than a scan reads (tests turn it off).
   */
  static build(words: Uint32Array, size: number, options: { substrings?: number; scanWhenCheaper?: boolean; bucketBits?: number } = {}): MultiIndexHash256Index {
    const substrings = options.substrings;
    const log2n = Math.max(1, Math.log2(Math.max(size, 2)));
    const m = substrings ?? Math.min(16, Math.max(8, Math.round(256 / log2n)));
    const idBits = Math.max(1, Math.ceil(Math.log2(Math.max(size, 2))));
    if (idBits > 30) throw new Error('a multi-index holds at most 2^30 hashes; shard larger banks');
    if (m * size > 0xffffffff) throw new Error('a multi-index holds at most 2^32 table entries; shard larger banks');
    const layout: { start: number; length: number; prefixBits: number; offsetBase: number }[] = [];
    let offsetCount = 0;
    for (let t = 0, start = 0; t < m; t++) {
      const length = Math.floor(256 / m) + (t < 256 % m ? 1 : 0);
      const wanted = Math.min(length, options.bucketBits ?? Math.max(1, Math.round(log2n) - 2), 24);
      const prefixBits = Math.max(wanted, length - (32 - idBits));
      layout.push({ start, length, prefixBits, offsetBase: offsetCount });
      offsetCount += (1 << prefixBits) + 1;
      start += length;
    }
    const offsets = new Uint32Array(offsetCount);
    const entries = new Uint32Array(m * size);
    const tables = layout.map(({ start, length, prefixBits, offsetBase }, t) =>
      MultiIndexHash256Index.buildTable(words, size, start, length, prefixBits, idBits, {
        offsetBase,
        offsets: offsets.subarray(offsetBase, offsetBase + (1 << prefixBits) + 1),
        entryBase: t * size,
        entries: entries.subarray(t * size, (t + 1) * size),
      }),
    );
    return new MultiIndexHash256Index(words, size, tables, offsets, entries, idBits, options.scanWhenCheaper ?? true);
  }

  /** Sorts one table's entries into `into.entries` and writes its bucket bounds, as positions in the one entries array, into `into.offsets`. */
  private static buildTable(
    words: Uint32Array,
    size: number,
    start: number,
    length: number,
    prefixBits: number,
    idBits: number,
    into: { offsetBase: number; offsets: Uint32Array; entryBase: number; entries: Uint32Array },
  ): Table {
    const lowBits = length - prefixBits;
    const lowMask = lowBits === 0 ? 0 : (1 << lowBits) - 1;
    let prefixes = new Uint32Array(size);
    let entries = new Uint32Array(size);
    for (let id = 0, offset = 0; id < size; id++, offset += HASH256_WORDS) {
      const key = substring(words, offset, start, length);
      prefixes[id] = key >>> lowBits;
      entries[id] = (((key & lowMask) << idBits) | id) >>> 0;
    }
    // Least-significant-digit radix sort by prefix, 11 bits a pass: each pass reads in order
    // and writes to 2048 streams, where a one-pass counting sort over 2^21 buckets would
    // miss the cache on every entry.
    const digitBits = 11;
    const counts = new Uint32Array(1 << digitBits);
    let sortedPrefixes = new Uint32Array(size);
    let sortedEntries = new Uint32Array(size);
    for (let shift = 0; shift < prefixBits; shift += digitBits) {
      const mask = (1 << Math.min(digitBits, prefixBits - shift)) - 1;
      counts.fill(0);
      for (let i = 0; i < size; i++) counts[(prefixes[i] >>> shift) & mask]++;
      for (let d = 0, total = 0; d < counts.length; d++) {
        const count = counts[d];
        counts[d] = total;
        total += count;
      }
      for (let i = 0; i < size; i++) {
        const at = counts[(prefixes[i] >>> shift) & mask]++;
        sortedPrefixes[at] = prefixes[i];
        sortedEntries[at] = entries[i];
      }
      [prefixes, sortedPrefixes] = [sortedPrefixes, prefixes];
      [entries, sortedEntries] = [sortedEntries, entries];
    }
    const offsets = into.offsets;
    offsets[0] = into.entryBase;
    for (let i = 0; i < size; i++) offsets[prefixes[i] + 1]++;
    for (let b = 1; b < offsets.length; b++) offsets[b] += offsets[b - 1];
    into.entries.set(entries);
    return { start, length, prefixBits, lowBits, offsetBase: into.offsetBase, offsets, entries: into.entries };
  }

  /** Bucket probes a search at this radius would make; beyond a point a scan is cheaper. */
  private probes(radius: number): number {
    return this.tables.reduce((sum, table) => sum + binomialSum(table.prefixBits, Math.min(radius, table.prefixBits)), 0);
  }

  search(query: Hash256, maxDistance: number): Hash256Hit[] {
    if (maxDistance < 0) return [];
    const radius = Math.floor(maxDistance / this.tables.length);
    // Norouzi et al., proposition 1: with maxDistance = radius * m + a, a match is within
    // `radius` on one of the first a + 1 substrings or within radius - 1 on another (else
    // its distance would exceed maxDistance), so the other tables need one flip less.
    const widerTables = maxDistance - radius * this.tables.length + 1;
    if (this.scanWhenCheaper && this.probes(radius) * 4 > this.size) return this.brute.search(query, maxDistance);
    // The search is bound by memory latency, not arithmetic: the tables and hashes are far
    // larger than the cache. So it runs in phases whose loads do not depend on each other
    // (every bucket's bounds, then every bucket's entries, then every candidate's hash),
    // letting the processor keep many cache misses in flight at once.
    this.probeCount = 0;
    this.tables.forEach((table, t) => {
      const tableRadius = t < widerTables ? radius : radius - 1;
      if (tableRadius < 0) return;
      const key = substring(query, 0, table.start, table.length);
      const prefix = key >>> table.lowBits;
      const low = table.lowBits === 0 ? 0 : key & ((1 << table.lowBits) - 1);
      this.addProbe(t, prefix, low, tableRadius);
      if (tableRadius >= 1) this.addFlips(t, prefix, 0, 1, low, tableRadius, table.prefixBits);
    });
    const { probeBucket, probeLow, probeBudget, probeStart, probeEnd, offsets, entries } = this;
    const probes = this.probeCount;
    for (let p = 0; p < probes; p++) {
      const bucket = probeBucket[p];
      probeStart[p] = offsets[bucket];
      probeEnd[p] = offsets[bucket + 1];
    }
    // Touch the first entry of every bucket in a loop with no branches to mispredict, so
    // those misses overlap; the filtering loop below then mostly reads cached lines.
    // An empty last bucket starts one past the end; reading there would deoptimise the loop.
    const lastEntry = entries.length - 1;
    let touched = 0;
    for (let p = 0; p < probes; p++) {
      const at = probeStart[p];
      touched ^= entries[at < lastEntry ? at : lastEntry];
    }
    this.touched = touched;
    const idBits = this.idBits;
    const idMask = this.idMask;
    let count = 0;
    for (let p = 0; p < probes; p++) {
      const low = probeLow[p];
      const budget = probeBudget[p];
      for (let e = probeStart[p], end = probeEnd[p]; e < end; e++) {
        const entry = entries[e];
        if (popcount32((entry >>> idBits) ^ low) > budget) continue;
        if (count === this.candidates.length) this.candidates = grow(this.candidates);
        this.candidates[count++] = entry & idMask;
      }
    }
    // A hash found through several substrings is verified again each time: that happens
    // almost only for true matches, which are few, so it is cheaper than deduplicating.
    const candidates = this.candidates;
    const words = this.words;
    // Touch every candidate's hash first, as with the buckets: the distances below then read cached lines.
    let touchedHash = 0;
    for (let i = 0; i < count; i++) touchedHash ^= words[candidates[i] * HASH256_WORDS];
    this.touched ^= touchedHash;
    const found = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const id = candidates[i];
      const distance = distanceUpTo(words, id * HASH256_WORDS, query, maxDistance);
      if (distance <= maxDistance) found.set(id, distance);
    }
    const hits: Hash256Hit[] = [];
    for (const [id, distance] of found) hits.push({ id, distance });
    return hits.sort(byDistanceThenId);
  }

  /** Probes every bucket at `flips` or more flips from the prefix, flipping bits from `from` up. */
  private addFlips(table: number, prefix: number, from: number, flips: number, low: number, radius: number, bits: number): void {
    for (let bit = from; bit < bits; bit++) {
      const next = (prefix ^ (1 << bit)) >>> 0;
      this.addProbe(table, next, low, radius - flips);
      if (flips < radius) this.addFlips(table, next, bit + 1, flips + 1, low, radius, bits);
    }
  }

  private addProbe(table: number, bucket: number, low: number, budget: number): void {
    if (this.probeCount === this.probeBucket.length) {
      this.probeBucket = grow(this.probeBucket);
      this.probeLow = grow(this.probeLow);
      this.probeBudget = grow(this.probeBudget);
      this.probeStart = grow(this.probeStart);
      this.probeEnd = grow(this.probeEnd);
    }
    const p = this.probeCount++;
    this.probeBucket[p] = this.tables[table].offsetBase + bucket;
    this.probeLow[p] = low;
    this.probeBudget[p] = budget;
  }

  searchAny(queries: Hash256[], maxDistance: number): Hash256MultiHit[] {
    return mergeAny(this, queries, maxDistance);
  }
}
