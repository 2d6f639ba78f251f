/**
 * Signal types are the extension point of detection: PDQ, MD5, SHA-256 today; video
 * hashes, URLs or terms tomorrow. Each is one file implementing SignalType, registered in
 * registry.ts. Nothing else in the pipeline branches on a signal type's name.
 */

export interface SignalIndexEntry {
  /** The bank entry's id. */
  entryId: number;
  /** The value in its canonical form (as returned by SignalType.normalize). */
  value: string;
}

export interface SignalHit {
  entryId: number;
  /** 0 for an exact match; the signal type's own distance otherwise. */
  distance: number;
  /** Which transformed copy of the query matched (e.g. a PDQ dihedral variant), when not the original. */
  variant?: string;
  /**
   * For types that match a set of parts (vPDQ's frames): the percentage of the query's parts
   * that matched some part of the indexed item, and of the indexed item's parts that matched
   * some part of the query.
   */
  matchPercent?: MatchPercent;
}

export interface MatchPercent {
  query: number;
  compared: number;
}

export interface SignalQuery {
  value: string;
  /** Transformed copies of the query to match as well (PDQ's rotations and flips). */
  variants?: { name: string; value: string }[];
  /** For distance-based types: the largest distance that still counts as a match. */
  maxDistance: number;
  /**
   * For types that match a set of parts (vPDQ): the least percentage of the query's parts and
   * of the indexed item's parts that must match; each type documents its defaults.
   */
  minMatchPercent?: Partial<MatchPercent>;
}

/**
 * An in-memory index of one bank's values of one signal type. Searches run on the thread that
 * answers requests, so nothing an index does on their path may take long: add and remove are
 * cheap, and heavier work waits for batch() and maintain(), which keep searches exact meanwhile.
 */
export interface SignalIndex {
  readonly size: number;
  /** Adding an entry id already present does nothing; removing one absent does nothing. */
  add(entry: SignalIndexEntry): void;
  remove(entryId: number): void;
  search(query: SignalQuery): SignalHit[];
  /** Rebuilds internal structures after a bulk load, on this thread (optional: indexes that need no rebuild omit it). */
  compact?(): void;
  /**
   * Changes to make visible together. Without it, a batch is applied by add and remove one by
   * one (see batchOf). Until the batch is applied, nothing else may add to the index.
   */
  batch?(): SignalIndexBatch;
  /**
   * Upkeep after changes (folding them into faster structures), off this thread where it is
   * heavy; searches stay exact and are never held up meanwhile. Resolves when none is due.
   */
  maintain?(): Promise<void>;
  /** Whether upkeep is running now. */
  readonly maintaining?: boolean;
  /** Folds everything into one structure in the background now, due or not (operators, benchmarks). */
  rebuild?(): Promise<void>;
}

/** Additions and removals gathered off to the side, then made visible in one step. */
export interface SignalIndexBatch {
  /** Changes gathered so far. */
  readonly size: number;
  add(entry: SignalIndexEntry): void;
  remove(entryId: number): void;
  /** Readies the additions for searching (e.g. builds their own index on a worker thread); nothing is visible yet. */
  prepare(): Promise<void>;
  /** Makes every change visible in one synchronous step, so a search sees all of them or none. */
  apply(): void;
}

export interface SignalType {
  /** Stable identifier used in banks, the API and exchange formats ("pdq", "md5"). */
  readonly name: string;
  readonly description: string;
  /** "exact" types match only identical values; "distance" types match within a threshold. */
  readonly matching: 'exact' | 'distance';
  /** Default largest distance that counts as a match (0 for exact types). */
  readonly defaultMaxDistance: number;
  /** For types whose values are sets of parts (vPDQ's frames): the least share of each side that must match by default. */
  readonly defaultMinMatchPercent?: MatchPercent;
  /**
   * Values are 256-bit hashes written as 64 hex digits and compared by Hamming distance (PDQ):
   * scans over many stored values (retroactive matching) then compare them packed, many at once.
   */
  readonly hex256?: boolean;
  /** The canonical form of a value; throws InvalidSignalError saying what is wrong. */
  normalize(raw: string): string;
  /** Builds an index over entries; must return exactly what a linear scan would. */
  createIndex(entries: Iterable<SignalIndexEntry>): SignalIndex;
}

export class InvalidSignalError extends Error {
  constructor(readonly signalType: string, readonly reason: string) {
    super(`invalid ${signalType} value: ${reason}`);
    this.name = 'InvalidSignalError';
  }
}

/** A signal computed from a piece of content. */
export interface ComputedSignal {
  signalType: string;
  value: string;
  /** Hash quality from 0 to 100, for perceptual hashes that define one (PDQ). */
  quality?: number;
  /** Transformed copies to match too (PDQ's dihedral variants), when asked for. */
  variants?: { name: string; value: string }[];
  /** For values that list frames (vPDQ): how many frames were hashed, i.e. the value's lines. */
  frameCount?: number;
}

/**
 * Video hashing settings (src/signals/vpdq/). Each limit is checked before decoding where the
 * file says enough (size, stated duration), and enforced while decoding otherwise.
 */
export interface VideoHashOptions {
  /** One frame hashed per this many seconds of video; 0 hashes every frame. Default 1 (as python-threatexchange). */
  secondsPerHash?: number;
  /** Longer videos are refused ('too_large'), also when their length is only found while decoding. Default 1800 (30 minutes). */
  maxDurationSeconds?: number;
  /** Larger files are refused ('too_large') before anything is decoded. Default 1 GiB. */
  maxBytes?: number;
  /**
   * Also hash each frame without its black bars (letterbox, pillarbox), given as the vpdq
   * query variant "bars_removed" when some frame has bars. Default true.
   */
  barsVariant?: boolean;
}

export interface HashOptions {
  /** Also compute the transformed copies (rotations, flips) where the signal type supports them. */
  variants?: boolean;
  /** Decompression-bomb guard: images (and video frames) with more pixels than this are refused. */
  maxPixels?: number;
  /** Video settings; see VideoHashOptions for the defaults. */
  video?: VideoHashOptions;
}

/**
 * Content to hash: its bytes in memory, or a file on disk. Large uploads (video) are
 * streamed to a temporary file and hashed from there, so they never sit in memory whole.
 */
export type MediaInput = Buffer | { path: string };

/**
 * Computes signals from a piece of content's bytes. A hasher may compute several signal
 * types at once when they share work (decoding an image once for PDQ and its variants).
 */
export interface ContentHasher {
  readonly name: string;
  readonly contentTypes: readonly string[];
  readonly signalTypes: readonly string[];
  hash(bytes: Buffer, options?: HashOptions): Promise<ComputedSignal[]>;
  /** Hashes a file without reading it into memory whole; hashers without it get the file's bytes. */
  hashFile?(path: string, options?: HashOptions): Promise<ComputedSignal[]>;
}
