import { Worker } from 'node:worker_threads';
import { HASH256_WORDS, type Hash256 } from '../signals/pdq/hash256.ts';
import { BruteForceHash256Index, type Hash256Index, MultiIndexHash256Index, type MultiIndexParts } from './hamming-index.ts';

/** Below this many hashes a linear scan beats building a multi-index. */
export const SMALL_INDEX = 4096;

/**
 * Typed arrays on shared memory: a worker thread reads them where they lie, so handing a bank
 * of ten million hashes to a build costs nothing on the thread that answers queries.
 */
export const sharedWords = (count: number) => new Uint32Array(new SharedArrayBuffer(count * HASH256_WORDS * 4));
export const sharedIds = (count: number) => new Float64Array(new SharedArrayBuffer(count * 8));

/** A growable list of hashes with their entry ids, in typed arrays (no object per entry). */
export class HashList {
  words: Uint32Array;
  ids: Float64Array;
  count = 0;

  constructor(private readonly shared = false, capacity = 64) {
    this.words = shared ? sharedWords(capacity) : new Uint32Array(capacity * HASH256_WORDS);
    this.ids = shared ? sharedIds(capacity) : new Float64Array(capacity);
  }

  push(entryId: number, hash: Hash256): void {
    if (this.count === this.ids.length) {
      const capacity = this.ids.length * 2;
      const words = this.shared ? sharedWords(capacity) : new Uint32Array(capacity * HASH256_WORDS);
      words.set(this.words);
      const ids = this.shared ? sharedIds(capacity) : new Float64Array(capacity);
      ids.set(this.ids);
      this.words = words;
      this.ids = ids;
    }
    this.words.set(hash, this.count * HASH256_WORDS);
    this.ids[this.count++] = entryId;
  }
}

/** Hashes to merge: ids ascending when sorted, else in any order. */
export interface SegmentSource {
  words: Uint32Array;
  ids: Float64Array;
  count: number;
  sorted: boolean;
}

export interface MergeTask {
  sources: SegmentSource[];
  /** Ids to leave out (tombstones). */
  drop: Float64Array;
  /** Ascending id lists already indexed elsewhere: ids in them are left out too. */
  present: { ids: Float64Array; count: number }[];
}

/** Sorted hashes and their search structure: one immutable piece of an index. */
export interface HashSegment {
  words: Uint32Array;
  /** Ascending; only the first `count` are used. */
  ids: Float64Array;
  count: number;
  index: Hash256Index;
}

interface MergeOutput {
  words: Uint32Array;
  ids: Float64Array;
  count: number;
  tables?: MultiIndexParts;
}

/** Position of id among ids[0, count), or -1. */
export function findId(ids: Float64Array, count: number, id: number): number {
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = ids[middle];
    if (at === id) return middle;
    if (at < id) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

function ascending(source: SegmentSource): Uint32Array {
  const order = new Uint32Array(source.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (!source.sorted) order.sort((a, b) => source.ids[a] - source.ids[b]);
  return order;
}

/**
 * Merges sources into one id-ordered run, leaving out dropped and already-present ids and
 * repeats, and builds its multi-index when it is large enough. Runs on a worker thread for
 * large merges (segment-worker.ts) and inline for small ones.
 */
export function mergeAndBuild(task: MergeTask): MergeOutput {
  const total = task.sources.reduce((sum, source) => sum + source.count, 0);
  const words = sharedWords(total);
  const ids = sharedIds(total);
  const drop = new Set(task.drop);
  const orders = task.sources.map(ascending);
  const heads = new Uint32Array(task.sources.length);
  const presentAt = new Uint32Array(task.present.length);
  let count = 0;
  let last = -Infinity;
  for (;;) {
    // k is a handful of segments, so a linear pick of the smallest head beats a heap.
    let pick = -1;
    let id = Infinity;
    task.sources.forEach((source, s) => {
      if (heads[s] < source.count) {
        const candidate = source.ids[orders[s][heads[s]]];
        if (candidate < id) [pick, id] = [s, candidate];
      }
    });
    if (pick < 0) break;
    const from = orders[pick][heads[pick]++];
    if (id === last || drop.has(id)) continue;
    let known = false;
    task.present.forEach((list, p) => {
      while (presentAt[p] < list.count && list.ids[presentAt[p]] < id) presentAt[p]++;
      if (presentAt[p] < list.count && list.ids[presentAt[p]] === id) known = true;
    });
    if (known) continue;
    words.set(task.sources[pick].words.subarray(from * HASH256_WORDS, (from + 1) * HASH256_WORDS), count * HASH256_WORDS);
    ids[count++] = id;
    last = id;
  }
  const tables = count >= SMALL_INDEX ? MultiIndexHash256Index.build(words, count).parts() : undefined;
  return { words, ids, count, ...(tables ? { tables } : {}) };
}

function revive(output: MergeOutput): HashSegment {
  const index = output.tables ? MultiIndexHash256Index.fromParts(output.words, output.tables) : new BruteForceHash256Index(output.words, output.count);
  return { words: output.words, ids: output.ids, count: output.count, index };
}

/** The merge done on this thread: for small inputs, and for callers that must not wait. */
export function buildSegmentNow(task: MergeTask): HashSegment {
  return revive(mergeAndBuild(task));
}

/**
 * The merge done on a worker thread when it would build a multi-index, so the thread that
 * answers queries never runs the build (seconds at ten million hashes). Shared arrays go to
 * the worker as they are; the tables it builds come back by transfer, not by copy.
 */
export async function buildSegment(task: MergeTask): Promise<HashSegment> {
  const total = task.sources.reduce((sum, source) => sum + source.count, 0);
  if (total < SMALL_INDEX) return buildSegmentNow(task);
  const worker = new Worker(new URL('./segment-worker.js', import.meta.url), { execArgv: [] });
  try {
    const output = await new Promise<MergeOutput>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the index build worker stopped (exit code ${code}) before answering`)));
      worker.postMessage(task);
    });
    return revive(output);
  } finally {
    void worker.terminate();
  }
}
