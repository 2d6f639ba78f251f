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

function binomialSum(n: number, k: number): number {
  let term = 1;
  let total = 1;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    total += term;
  }
  return total;
}

/** Calls visit(value ^ mask, flips) for every mask of at most `radius` set bits below `bits`. */
function forEachNeighbour(value: number, bits: number, radius: number, visit: (neighbour: number, flips: number) => void): void {
  const recurse = (current: number, lowestBit: number, flips: number) => {
    visit(current >>> 0, flips);
    if (flips === radius) return;
    for (let bit = lowestBit; bit < bits; bit++) recurse(current ^ (1 << bit), bit + 1, flips + 1);
  };
  recurse(value, 0, 0);
}

interface Table {
  start: number;
  length: number;
  /** Bits of the substring used to pick a bucket; the rest travel with the id in each entry. */
  prefixBits: number;
  lowBits: number;
  offsets: Uint32Array;
  /** (low bits << idBits) | id, grouped by bucket. */
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

  private constructor(
    private readonly words: Uint32Array,
    readonly size: number,
    private readonly tables: Table[],
    private readonly idBits: number,
    private readonly scanWhenCheaper: boolean,
  ) {
    this.idMask = idBits === 32 ? 0xffffffff : (1 << idBits) - 1;
    this.brute = new BruteForceHash256Index(words, size);
  }

  /** Bytes held by the index's own tables (the hashes are shared with the caller). */
  get tableBytes(): number {
    return this.tables.reduce((sum, table) => sum + table.offsets.byteLength + table.entries.byteLength, 0);
  }

  /**
   * substrings: how many tables (default from the bank size); scanWhenCheaper: answer by a
   * linear scan when the tables would probe more than a scan reads (tests turn it off).
   */
  static build(words: Uint32Array, size: number, options: { substrings?: number; scanWhenCheaper?: boolean } = {}): MultiIndexHash256Index {
    const substrings = options.substrings;
    const log2n = Math.max(1, Math.log2(Math.max(size, 2)));
    const m = substrings ?? Math.min(16, Math.max(8, Math.round(256 / log2n)));
    const idBits = Math.max(1, Math.ceil(Math.log2(Math.max(size, 2))));
    if (idBits > 30) throw new Error('a multi-index holds at most 2^30 hashes; shard larger banks');
    const tables: Table[] = [];
    let start = 0;
    for (let t = 0; t < m; t++) {
      const length = Math.floor(256 / m) + (t < 256 % m ? 1 : 0);
      const wanted = Math.min(length, Math.max(1, Math.round(log2n) - 2), 24);
      const prefixBits = Math.max(wanted, length - (32 - idBits));
      tables.push(MultiIndexHash256Index.buildTable(words, size, start, length, prefixBits, idBits));
      start += length;
    }
    return new MultiIndexHash256Index(words, size, tables, idBits, options.scanWhenCheaper ?? true);
  }

  private static buildTable(words: Uint32Array, size: number, start: number, length: number, prefixBits: number, idBits: number): Table {
    const lowBits = length - prefixBits;
    const lowMask = lowBits === 0 ? 0 : (1 << lowBits) - 1;
    const offsets = new Uint32Array((1 << prefixBits) + 1);
    const keys = new Uint32Array(size);
    for (let id = 0, offset = 0; id < size; id++, offset += HASH256_WORDS) {
      const key = substring(words, offset, start, length);
      keys[id] = key;
      offsets[(key >>> lowBits) + 1]++;
    }
    for (let b = 1; b < offsets.length; b++) offsets[b] += offsets[b - 1];
    const cursor = offsets.slice(0, -1);
    const entries = new Uint32Array(size);
    for (let id = 0; id < size; id++) {
      const key = keys[id];
      entries[cursor[key >>> lowBits]++] = (((key & lowMask) << idBits) | id) >>> 0;
    }
    return { start, length, prefixBits, lowBits, offsets, entries };
  }

  /** Bucket probes a search at this radius would make; beyond a point a scan is cheaper. */
  private probes(radius: number): number {
    return this.tables.reduce((sum, table) => sum + binomialSum(table.prefixBits, Math.min(radius, table.prefixBits)), 0);
  }

  search(query: Hash256, maxDistance: number): Hash256Hit[] {
    if (maxDistance < 0) return [];
    const radius = Math.floor(maxDistance / this.tables.length);
    if (this.scanWhenCheaper && this.probes(radius) * 4 > this.size) return this.brute.search(query, maxDistance);
    const found = new Map<number, number>();
    const { words, idBits, idMask } = this;
    for (const table of this.tables) {
      const key = substring(query, 0, table.start, table.length);
      const queryLow = table.lowBits === 0 ? 0 : key & ((1 << table.lowBits) - 1);
      const { offsets, entries } = table;
      forEachNeighbour(key >>> table.lowBits, table.prefixBits, radius, (bucket, flips) => {
        const budget = radius - flips;
        for (let e = offsets[bucket], end = offsets[bucket + 1]; e < end; e++) {
          const entry = entries[e];
          if (popcount32((entry >>> idBits) ^ queryLow) > budget) continue;
          const id = entry & idMask;
          if (found.has(id)) continue;
          const distance = distanceUpTo(words, id * HASH256_WORDS, query, maxDistance);
          if (distance <= maxDistance) found.set(id, distance);
        }
      });
    }
    return [...found].map(([id, distance]) => ({ id, distance })).sort(byDistanceThenId);
  }

  searchAny(queries: Hash256[], maxDistance: number): Hash256MultiHit[] {
    return mergeAny(this, queries, maxDistance);
  }
}
