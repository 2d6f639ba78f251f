import { BruteForceHash256Index, type Hash256Index, MultiIndexHash256Index } from '../hamming-index.ts';
import { HASH256_WORDS, popcount32 } from '../../signals/pdq/hash256.ts';
import type { MatchPercent, SignalIndex, SignalType } from '../../signals/types.ts';

/** An entry new to a bank, to match against stored content. */
export interface NewEntry {
  id: number;
  signalType: string;
  value: string;
}

/** A page of stored values of one signal type, in content_signals id order. */
export interface StoredPage {
  /** content_signals ids, one per value. */
  ids: number[];
  /** For hex256 types: every value's 64 hex digits, concatenated. */
  hex?: string;
  /** For other types: the values. */
  values?: string[];
}

export interface ScanHit {
  /** The content_signals row that matched. */
  signalId: number;
  entryId: number;
  distance: number;
}

export interface ScanLimits {
  maxDistance: number;
  minMatchPercent?: Partial<MatchPercent>;
}

/** Waits for the next turn of the event loop when the current slice of work has run this long. */
const SLICE_MS = 8;

/** Gives the event loop back every SLICE_MS of scanning, so requests are answered in between. */
export class Pacer {
  private sliceStart = performance.now();

  async pause(): Promise<void> {
    if (performance.now() - this.sliceStart < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}

/** Matches pages of stored values of one distance type against the new entries of that type. */
export interface StoredScanner {
  scan(page: StoredPage, pacer: Pacer): Promise<ScanHit[]>;
}

/**
 * Packs 64-hex-digit hashes as eight words each, byte order as written. Hamming distance does
 * not depend on which bit goes where as long as both sides are packed alike, so this skips
 * parsing each word (Buffer's hex decoder is native and ten times faster than parseInt).
 */
export function packHex256(hex: string, count: number): Uint32Array {
  const words = new Uint32Array(count * HASH256_WORDS);
  const bytes = new Uint8Array(words.buffer);
  const written = Buffer.from(hex, 'hex').copy(bytes);
  if (written !== bytes.length) throw new Error(`expected ${count} hashes of 64 hex digits, got ${hex.length} digits`);
  return words;
}

/** Below this many new entries each stored hash is compared with every one of them in a plain loop. */
const PLAIN_LOOP_MAX = 64;

/**
 * 256-bit hashes (PDQ): the new entries are packed and indexed once (a multi-index, which
 * scans when that is cheaper), and every stored hash is looked up in it. A page costs one
 * hex decode and one lookup per stored hash, with no objects made per hash.
 */
export class Hex256Scanner implements StoredScanner {
  private readonly words: Uint32Array;
  private readonly index: Hash256Index;

  constructor(private readonly entries: NewEntry[], private readonly limits: ScanLimits) {
    this.words = packHex256(entries.map((entry) => entry.value).join(''), entries.length);
    this.index = entries.length <= PLAIN_LOOP_MAX ? new BruteForceHash256Index(this.words, entries.length) : MultiIndexHash256Index.build(this.words, entries.length);
  }

  async scan(page: StoredPage, pacer: Pacer): Promise<ScanHit[]> {
    const count = page.ids.length;
    const stored = packHex256(page.hex ?? '', count);
    const hits: ScanHit[] = [];
    const max = this.limits.maxDistance;
    const plain = this.entries.length <= PLAIN_LOOP_MAX;
    for (let s = 0; s < count; s++) {
      const at = s * HASH256_WORDS;
      if (plain) {
        for (let e = 0; e < this.entries.length; e++) {
          const distance = distanceUpTo(stored, at, this.words, e * HASH256_WORDS, max);
          if (distance <= max) hits.push({ signalId: page.ids[s], entryId: this.entries[e].id, distance });
        }
      } else {
        for (const hit of this.index.search(stored.subarray(at, at + HASH256_WORDS), max)) hits.push({ signalId: page.ids[s], entryId: this.entries[hit.id].id, distance: hit.distance });
      }
      if ((s & 1023) === 1023) await pacer.pause();
    }
    return hits;
  }
}

function distanceUpTo(a: Uint32Array, aAt: number, b: Uint32Array, bAt: number, limit: number): number {
  let distance = 0;
  for (let w = 0; w < HASH256_WORDS; w++) {
    distance += popcount32(a[aAt + w] ^ b[bAt + w]);
    if (distance > limit) return distance;
  }
  return distance;
}

/**
 * Any other distance type (vPDQ): the signal type's own index of the new entries, searched with
 * each stored value, so the result is exactly what the live matcher would have found.
 */
export class IndexScanner implements StoredScanner {
  private readonly index: SignalIndex;

  constructor(type: SignalType, entries: NewEntry[], private readonly limits: ScanLimits) {
    this.index = type.createIndex(entries.map((entry) => ({ entryId: entry.id, value: entry.value })));
  }

  async scan(page: StoredPage, pacer: Pacer): Promise<ScanHit[]> {
    const hits: ScanHit[] = [];
    const values = page.values ?? [];
    for (let s = 0; s < values.length; s++) {
      const query = { value: values[s], maxDistance: this.limits.maxDistance, ...(this.limits.minMatchPercent ? { minMatchPercent: this.limits.minMatchPercent } : {}) };
      for (const hit of this.index.search(query)) hits.push({ signalId: page.ids[s], entryId: hit.entryId, distance: hit.distance });
      await pacer.pause();
    }
    return hits;
  }
}

export function scannerFor(type: SignalType, entries: NewEntry[], limits: ScanLimits): StoredScanner {
  return type.hex256 ? new Hex256Scanner(entries, limits) : new IndexScanner(type, entries, limits);
}
