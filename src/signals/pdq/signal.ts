import { BulwarkError, type ErrorKind } from '../../errors.ts';
import { BruteForceHash256Index, type Hash256Index, MultiIndexHash256Index } from '../../match/hamming-index.ts';
import type { ComputedSignal, ContentHasher, HashOptions, SignalHit, SignalIndex, SignalIndexEntry, SignalQuery, SignalType } from '../types.ts';
import { InvalidSignalError } from '../types.ts';
import { HASH256_WORDS, type Hash256, describeHex256Problem, hash256ToHex, hexToHash256 } from './hash256.ts';
import { ImageDecodeError, pdqDihedralFromImage, pdqFromImage } from './image.ts';

/** Below this many entries a linear scan beats building a multi-index. */
const SMALL_INDEX = 4096;

/** A growable list of hashes with their entry ids, in typed arrays (no object per entry). */
class HashList {
  words = new Uint32Array(64 * HASH256_WORDS);
  entryIds = new Float64Array(64);
  count = 0;

  push(entryId: number, hash: Hash256): void {
    if (this.count === this.entryIds.length) {
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
      const ids = new Float64Array(this.entryIds.length * 2);
      ids.set(this.entryIds);
      this.entryIds = ids;
    }
    this.words.set(hash, this.count * HASH256_WORDS);
    this.entryIds[this.count++] = entryId;
  }
}

/**
 * A PDQ index that stays exact under changes: an immutable multi-index over a snapshot
 * whose entry ids are sorted (they are loaded in id order), plus a list of entries added
 * since and a set of removed ones. compact() folds the changes into a new snapshot; it
 * runs after bulk loading, and by itself once the changes outgrow a share of the snapshot.
 */
export class PdqSignalIndex implements SignalIndex {
  private base: Hash256Index = new BruteForceHash256Index(new Uint32Array(0), 0);
  private baseWords = new Uint32Array(0);
  private baseEntryIds = new Float64Array(0);
  private added = new HashList();
  private readonly addedIds = new Set<number>();
  private readonly removed = new Set<number>();

  constructor(entries: Iterable<SignalIndexEntry> = []) {
    for (const entry of entries) this.add(entry);
    this.compact();
  }

  get size(): number {
    return this.baseEntryIds.length - this.removed.size + this.addedIds.size;
  }

  private inBase(entryId: number): boolean {
    const ids = this.baseEntryIds;
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (ids[middle] === entryId) return true;
      if (ids[middle] < entryId) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  private has(entryId: number): boolean {
    return this.addedIds.has(entryId) || (!this.removed.has(entryId) && this.inBase(entryId));
  }

  add(entry: SignalIndexEntry): void {
    if (this.has(entry.entryId)) return;
    this.added.push(entry.entryId, hexToHash256(entry.value));
    this.addedIds.add(entry.entryId);
  }

  remove(entryId: number): void {
    if (this.addedIds.delete(entryId)) return;
    if (this.inBase(entryId)) this.removed.add(entryId);
  }

  search(query: SignalQuery): SignalHit[] {
    if (this.added.count + this.removed.size > Math.max(1024, this.baseEntryIds.length / 50)) this.compact();
    const queries: { name?: string; hash: Hash256 }[] = [{ hash: hexToHash256(query.value) }];
    for (const variant of query.variants ?? []) queries.push({ name: variant.name, hash: hexToHash256(variant.value) });
    const hashes = queries.map((q) => q.hash);
    const best = new Map<number, SignalHit>();
    const consider = (entryId: number, distance: number, queryIndex: number) => {
      const current = best.get(entryId);
      if (current && current.distance <= distance) return;
      const name = queries[queryIndex].name;
      best.set(entryId, { entryId, distance, ...(name ? { variant: name } : {}) });
    };
    for (const hit of this.base.searchAny(hashes, query.maxDistance)) {
      const entryId = this.baseEntryIds[hit.id];
      if (!this.removed.has(entryId)) consider(entryId, hit.distance, hit.queryIndex);
    }
    if (this.added.count > 0) {
      const recent = new BruteForceHash256Index(this.added.words, this.added.count);
      for (const hit of recent.searchAny(hashes, query.maxDistance)) {
        const entryId = this.added.entryIds[hit.id];
        if (this.addedIds.has(entryId)) consider(entryId, hit.distance, hit.queryIndex);
      }
    }
    return [...best.values()].sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
  }

  /** Folds additions and removals into a new snapshot and rebuilds its multi-index. */
  compact(): void {
    const count = this.size;
    const words = new Uint32Array(count * HASH256_WORDS);
    const entryIds = new Float64Array(count);
    // Merge two id-ordered runs (the snapshot and the sorted additions), dropping removals.
    const order = Array.from({ length: this.added.count }, (_, i) => i)
      .filter((i) => this.addedIds.has(this.added.entryIds[i]))
      .sort((a, b) => this.added.entryIds[a] - this.added.entryIds[b]);
    let b = 0;
    let a = 0;
    let out = 0;
    while (b < this.baseEntryIds.length || a < order.length) {
      const fromBase = a >= order.length || (b < this.baseEntryIds.length && this.baseEntryIds[b] < this.added.entryIds[order[a]]);
      if (fromBase) {
        const entryId = this.baseEntryIds[b];
        if (!this.removed.has(entryId)) {
          words.set(this.baseWords.subarray(b * HASH256_WORDS, (b + 1) * HASH256_WORDS), out * HASH256_WORDS);
          entryIds[out++] = entryId;
        }
        b++;
      } else {
        const i = order[a++];
        words.set(this.added.words.subarray(i * HASH256_WORDS, (i + 1) * HASH256_WORDS), out * HASH256_WORDS);
        entryIds[out++] = this.added.entryIds[i];
      }
    }
    this.baseWords = words;
    this.baseEntryIds = entryIds;
    this.base = count < SMALL_INDEX ? new BruteForceHash256Index(words, count) : MultiIndexHash256Index.build(words, count);
    this.added = new HashList();
    this.addedIds.clear();
    this.removed.clear();
  }
}

export const pdqSignalType: SignalType = {
  name: 'pdq',
  description: "Meta's PDQ perceptual photo hash (256 bits, Hamming distance)",
  matching: 'distance',
  defaultMaxDistance: 31,
  normalize(raw: string): string {
    const value = raw.trim().toLowerCase();
    const problem = describeHex256Problem(value);
    if (problem) throw new InvalidSignalError('pdq', problem);
    return value;
  },
  createIndex: (entries) => new PdqSignalIndex(entries),
};

const ERROR_KIND_BY_REASON: Record<ImageDecodeError['reason'], ErrorKind> = {
  empty: 'invalid',
  corrupt: 'invalid',
  unsupported: 'unsupported_media',
  'too-large': 'too_large',
};

/** Turns an image decoding failure into the domain error the shells know how to report. */
export function decodeFailure(error: unknown): never {
  if (error instanceof ImageDecodeError) throw new BulwarkError(ERROR_KIND_BY_REASON[error.reason], error.message);
  throw error;
}

export class PdqHasher implements ContentHasher {
  readonly name = 'pdq';
  readonly contentTypes = ['photo'] as const;
  readonly signalTypes = ['pdq'] as const;

  async hash(bytes: Buffer, options: HashOptions = {}): Promise<ComputedSignal[]> {
    try {
      if (options.variants) {
        const dihedral = await pdqDihedralFromImage(bytes, { maxPixels: options.maxPixels });
        const [original, ...others] = dihedral.variants;
        return [
          {
            signalType: 'pdq',
            value: hash256ToHex(original.hash),
            quality: dihedral.quality,
            variants: others.map((variant) => ({ name: variant.name, value: hash256ToHex(variant.hash) })),
          },
        ];
      }
      const { hash, quality } = await pdqFromImage(bytes, { maxPixels: options.maxPixels });
      return [{ signalType: 'pdq', value: hash256ToHex(hash), quality }];
    } catch (error) {
      decodeFailure(error);
    }
  }
}
