import { BulwarkError } from '../../errors.ts';
import { BruteForceHash256Index, type Hash256Index, MultiIndexHash256Index } from '../../match/hamming-index.ts';
import type { ComputedSignal, ContentHasher, HashOptions, SignalHit, SignalIndex, SignalIndexEntry, SignalQuery, SignalType } from '../types.ts';
import { InvalidSignalError } from '../types.ts';
import { HASH256_WORDS, type Hash256, describeHex256Problem, hash256ToHex, hexToHash256 } from './hash256.ts';
import { ImageDecodeError, pdqDihedralFromImage, pdqFromImage } from './decode.ts';

/** Below this many entries a linear scan beats building a multi-index. */
const SMALL_INDEX = 4096;

/**
 * A PDQ index that stays exact under changes: an immutable multi-index over a snapshot,
 * plus a linear list of entries added since and a set of removed ones. The snapshot is
 * rebuilt lazily once the list outgrows a share of it, so single adds stay cheap and
 * searches stay fast.
 */
export class PdqSignalIndex implements SignalIndex {
  private base: Hash256Index = new BruteForceHash256Index(new Uint32Array(0), 0);
  private baseEntryIds: number[] = [];
  private added = { words: new Uint32Array(64 * HASH256_WORDS), entryIds: [] as number[] };
  private readonly removed = new Set<number>();
  private readonly live = new Map<number, string>();

  constructor(entries: Iterable<SignalIndexEntry>) {
    for (const entry of entries) this.live.set(entry.entryId, entry.value);
    this.rebuild();
  }

  get size(): number {
    return this.live.size;
  }

  add(entry: SignalIndexEntry): void {
    if (this.live.has(entry.entryId)) return;
    this.live.set(entry.entryId, entry.value);
    this.removed.delete(entry.entryId);
    const count = this.added.entryIds.length;
    if ((count + 1) * HASH256_WORDS > this.added.words.length) {
      const grown = new Uint32Array(this.added.words.length * 2);
      grown.set(this.added.words);
      this.added.words = grown;
    }
    this.added.words.set(hexToHash256(entry.value), count * HASH256_WORDS);
    this.added.entryIds.push(entry.entryId);
  }

  remove(entryId: number): void {
    if (this.live.delete(entryId)) this.removed.add(entryId);
  }

  search(query: SignalQuery): SignalHit[] {
    if (this.added.entryIds.length + this.removed.size > Math.max(1024, this.baseEntryIds.length / 50)) this.rebuild();
    const queries: { name?: string; hash: Hash256 }[] = [{ hash: hexToHash256(query.value) }];
    for (const variant of query.variants ?? []) queries.push({ name: variant.name, hash: hexToHash256(variant.value) });
    const best = new Map<number, SignalHit>();
    const consider = (entryId: number, distance: number, queryIndex: number) => {
      if (this.removed.has(entryId) || !this.live.has(entryId)) return;
      const current = best.get(entryId);
      if (current && current.distance <= distance) return;
      const name = queries[queryIndex].name;
      best.set(entryId, { entryId, distance, ...(name ? { variant: name } : {}) });
    };
    const hashes = queries.map((q) => q.hash);
    for (const hit of this.base.searchAny(hashes, query.maxDistance)) consider(this.baseEntryIds[hit.id], hit.distance, hit.queryIndex);
    if (this.added.entryIds.length > 0) {
      const recent = new BruteForceHash256Index(this.added.words, this.added.entryIds.length);
      for (const hit of recent.searchAny(hashes, query.maxDistance)) consider(this.added.entryIds[hit.id], hit.distance, hit.queryIndex);
    }
    return [...best.values()].sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
  }

  private rebuild(): void {
    const entryIds = [...this.live.keys()];
    const words = new Uint32Array(entryIds.length * HASH256_WORDS);
    entryIds.forEach((entryId, i) => words.set(hexToHash256(this.live.get(entryId)!), i * HASH256_WORDS));
    this.base = entryIds.length < SMALL_INDEX ? new BruteForceHash256Index(words, entryIds.length) : MultiIndexHash256Index.build(words, entryIds.length);
    this.baseEntryIds = entryIds;
    this.added = { words: new Uint32Array(64 * HASH256_WORDS), entryIds: [] };
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

/** Turns an image decoding failure into the domain error the shells know how to report. */
export function decodeFailure(error: unknown): never {
  if (error instanceof ImageDecodeError) {
    const kind = /pixel limit/i.test(error.message) ? 'too_large' : /not a supported image/i.test(error.message) ? 'unsupported_media' : 'invalid';
    throw new BulwarkError(kind, error.message);
  }
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
