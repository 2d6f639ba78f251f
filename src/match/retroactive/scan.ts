import { buildSegment } from '../hash-segments.ts';
import { HASH256_WORDS, popcount32 } from '../../signals/pdq/hash256.ts';
import type { MatchPercent, SignalIndex, SignalType } from '../../signals/types.ts';

/** An entry new to a bank, to match against stored content. */
export interface NewEntry {
  id: number;
  signalType: string;
  value: string;
}

/** A page of stored values of one signal type: ids[i] is the content_signals row of value i. */
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

/** Up to this many new entries, each stored hash is compared with every one of them in a plain loop. */
const PLAIN_LOOP_MAX = 64;

/**
 * 256-bit hashes (PDQ). A few new entries: each stored hash of a page is compared with each
 * of them in a plain loop, with no objects made per hash. More: the page of stored hashes is
 * indexed (a multi-index, built on a worker thread as the live matcher builds its segments)
 * and each new entry is looked up in it. Looking stored hashes up in an index of the new
 * entries instead costs a probe per stored hash, and a multi-index of a few thousand entries
 * answers hardly faster than a scan of them: measured, it took two to five times as long.
 */
export class Hex256Scanner implements StoredScanner {
  private readonly words: Uint32Array;

  constructor(private readonly entries: NewEntry[], private readonly limits: ScanLimits) {
    this.words = packHex256(entries.map((entry) => entry.value).join(''), entries.length);
  }

  async scan(page: StoredPage, pacer: Pacer): Promise<ScanHit[]> {
    const count = page.ids.length;
    const stored = packHex256(page.hex ?? '', count);
    return this.entries.length <= PLAIN_LOOP_MAX ? this.compareEach(page.ids, stored, pacer) : this.lookUpEach(page.ids, stored, pacer);
  }

  private async compareEach(ids: number[], stored: Uint32Array, pacer: Pacer): Promise<ScanHit[]> {
    const hits: ScanHit[] = [];
    const max = this.limits.maxDistance;
    for (let s = 0; s < ids.length; s++) {
      for (let e = 0; e < this.entries.length; e++) {
        const distance = distanceUpTo(stored, s * HASH256_WORDS, this.words, e * HASH256_WORDS, max);
        if (distance <= max) hits.push({ signalId: ids[s], entryId: this.entries[e].id, distance });
      }
      if ((s & 1023) === 1023) await pacer.pause();
    }
    return hits;
  }

  private async lookUpEach(ids: number[], stored: Uint32Array, pacer: Pacer): Promise<ScanHit[]> {
    const segment = await buildSegment({ sources: [{ words: stored, ids: Float64Array.from(ids), count: ids.length, sorted: false }], drop: new Float64Array(0), present: [] });
    const hits: ScanHit[] = [];
    for (let e = 0; e < this.entries.length; e++) {
      const at = e * HASH256_WORDS;
      for (const hit of segment.index.search(this.words.subarray(at, at + HASH256_WORDS), this.limits.maxDistance)) {
        hits.push({ signalId: segment.ids[hit.id], entryId: this.entries[e].id, distance: hit.distance });
      }
      if ((e & 63) === 63) await pacer.pause();
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
