import { BruteForceHash256Index } from '../../match/hamming-index.ts';
import { HashList, type HashSegment, type MergeTask, SMALL_INDEX, type SegmentSource, buildSegment, buildSegmentNow, findId } from '../../match/hash-segments.ts';
import type { SignalHit, SignalIndex, SignalIndexBatch, SignalIndexEntry, SignalQuery } from '../types.ts';
import { type Hash256, hexToHash256 } from './hash256.ts';

/** More small segments than this beside the largest are merged into one. */
const MAX_SMALL_SEGMENTS = 3;

export interface PdqIndexOptions {
  /** The tail is folded into a segment of its own once it holds this many hashes (default 4096, where a scan stops being cheap). */
  tailLimit?: number;
  /** A batch of at least this many additions becomes a segment of its own; a smaller one joins the tail (default 4096). */
  batchSegmentMin?: number;
}

interface Segment extends HashSegment {
  /** Tombstones: ids of this segment removed since it was built. */
  removed: Set<number>;
  /** The same ids in the order removed, so a merge can pick up those removed while it ran. */
  removedOrder: number[];
}

const live = (segment: Segment) => segment.count - segment.removed.size;
const asSegment = (built: HashSegment): Segment => ({ ...built, removed: new Set(), removedOrder: [] });

/**
 * A PDQ index that stays exact under changes and never rebuilds on the query path: immutable
 * segments (each a multi-index over id-sorted hashes, or a scan when small) with tombstones
 * for removed entries, plus a short tail of recent additions that searches scan. maintain()
 * folds the tail into a segment and merges segments on a worker thread, and swaps the result
 * in at once; a search meanwhile uses the pieces it had. A batch (batch()) builds a large
 * addition into its own segment before anything becomes visible.
 */
export class PdqSignalIndex implements SignalIndex {
  private segments: Segment[] = [];
  private tail = new HashList();
  private readonly tailIds = new Set<number>();
  private liveCount = 0;
  private running: Promise<void> | undefined;
  /** Bumped by compact(), which replaces every piece: a merge that started before it is dropped. */
  private generation = 0;

  readonly tailLimit: number;
  readonly batchSegmentMin: number;

  constructor(entries: Iterable<SignalIndexEntry> = [], options: PdqIndexOptions = {}) {
    this.tailLimit = options.tailLimit ?? SMALL_INDEX;
    this.batchSegmentMin = options.batchSegmentMin ?? SMALL_INDEX;
    for (const entry of entries) this.add(entry);
    this.compact();
  }

  get size(): number {
    return this.liveCount;
  }

  get maintaining(): boolean {
    return this.running !== undefined;
  }

  /** How many pieces a search visits (segments, then the tail when it has entries): for status and tests. */
  get pieces(): { segments: number[]; tail: number } {
    return { segments: this.segments.map(live), tail: this.tailIds.size };
  }

  private segmentOf(entryId: number): Segment | undefined {
    return this.segments.find((segment) => !segment.removed.has(entryId) && findId(segment.ids, segment.count, entryId) >= 0);
  }

  has(entryId: number): boolean {
    return this.tailIds.has(entryId) || this.segmentOf(entryId) !== undefined;
  }

  add(entry: SignalIndexEntry): void {
    this.addHash(entry.entryId, hexToHash256(entry.value));
  }

  addHash(entryId: number, hash: Hash256): void {
    if (this.has(entryId)) return;
    this.tail.push(entryId, hash);
    this.tailIds.add(entryId);
    this.liveCount++;
  }

  remove(entryId: number): void {
    if (this.tailIds.delete(entryId)) {
      this.liveCount--;
      return;
    }
    const segment = this.segmentOf(entryId);
    if (!segment) return;
    segment.removed.add(entryId);
    segment.removedOrder.push(entryId);
    this.liveCount--;
  }

  search(query: SignalQuery): SignalHit[] {
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
    for (const segment of this.segments) {
      for (const hit of segment.index.searchAny(hashes, query.maxDistance)) {
        const entryId = segment.ids[hit.id];
        if (!segment.removed.has(entryId)) consider(entryId, hit.distance, hit.queryIndex);
      }
    }
    if (this.tailIds.size > 0) {
      const recent = new BruteForceHash256Index(this.tail.words, this.tail.count);
      for (const hit of recent.searchAny(hashes, query.maxDistance)) {
        const entryId = this.tail.ids[hit.id];
        if (this.tailIds.has(entryId)) consider(entryId, hit.distance, hit.queryIndex);
      }
    }
    return [...best.values()].sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
  }

  batch(): PdqBatch {
    return new PdqBatch(this);
  }

  /** Folds every piece into one segment on this thread: for bulk loads and tests, never the query path. */
  compact(): void {
    const task = this.mergeTask(this.segments, true);
    const merged = asSegment(buildSegmentNow(task));
    this.generation++;
    this.segments = merged.count > 0 ? [merged] : [];
    this.tail = new HashList();
    this.tailIds.clear();
  }

  /** Upkeep until none is due: resolves at once when some is already running (that run picks up what is new). */
  maintain(): Promise<void> {
    if (this.running) return this.running;
    if (!this.plan()) return Promise.resolve();
    const run = async () => {
      for (let plan = this.plan(); plan; plan = this.plan()) await this.merge(plan.sources, plan.tail);
    };
    this.running = run().then(
      () => {
        this.running = undefined;
        // A change made between the last plan and this step was handed the finished run: plan it now.
        if (this.plan()) void this.maintain().catch(() => undefined);
      },
      (error: unknown) => {
        this.running = undefined;
        throw error;
      },
    );
    return this.running;
  }

  /** Merges every piece into one segment in the background, whether or not it is due (benchmarks, operators). */
  async rebuild(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.merge(this.segments, true).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * What upkeep is due. A search pays a multi-index probe per segment and a scan of the tail,
   * and a merge pays for every hash it rewrites, so: the tail becomes a segment once scanning
   * it costs more than probing one; small segments merge among themselves when they are many;
   * and everything is rebuilt only when that is cheaper than living with the pieces, i.e. when
   * a large share of the bank came or went since the largest segment was built.
   */
  private plan(): { sources: Segment[]; tail: boolean } | undefined {
    if (this.tailIds.size >= this.tailLimit) return { sources: [], tail: true };
    const [largest, ...rest] = [...this.segments].sort((a, b) => live(b) - live(a));
    if (!largest) return undefined;
    const restLive = rest.reduce((sum, segment) => sum + live(segment), 0);
    if (largest.removed.size * 4 >= largest.count || (rest.length > 0 && restLive * 8 >= live(largest))) return { sources: this.segments, tail: true };
    if (rest.length > MAX_SMALL_SEGMENTS || rest.some((segment) => segment.removed.size * 4 >= segment.count)) return { sources: rest, tail: true };
    return undefined;
  }

  private mergeTask(sources: Segment[], withTail: boolean, present: MergeTask['present'] = []): MergeTask {
    const parts: SegmentSource[] = sources.map((segment) => ({ words: segment.words, ids: segment.ids, count: segment.count, sorted: true }));
    const drop: number[] = sources.flatMap((segment) => segment.removedOrder);
    if (withTail) {
      parts.push({ words: this.tail.words, ids: this.tail.ids, count: this.tail.count, sorted: false });
      for (let i = 0; i < this.tail.count; i++) if (!this.tailIds.has(this.tail.ids[i])) drop.push(this.tail.ids[i]);
    }
    return { sources: parts, drop: Float64Array.from(drop), present };
  }

  /**
   * Merges sources (and the tail as it is now) into one segment off this thread, then swaps it
   * in, carrying over what changed meanwhile: removals from the sources become the new
   * segment's tombstones, and tail entries added since stay in the tail.
   */
  private async merge(sources: Segment[], withTail: boolean): Promise<void> {
    const generation = this.generation;
    const removedBefore = sources.map((segment) => segment.removedOrder.length);
    const tail = this.tail;
    const tailCount = withTail ? tail.count : 0;
    const deadInTail = new Set<number>();
    for (let i = 0; i < tailCount; i++) if (!this.tailIds.has(tail.ids[i])) deadInTail.add(tail.ids[i]);
    const merged = asSegment(await buildSegment(this.mergeTask(sources, withTail)));
    if (generation !== this.generation || tail !== this.tail) return;
    const tombstone = (id: number) => {
      merged.removed.add(id);
      merged.removedOrder.push(id);
    };
    sources.forEach((segment, s) => segment.removedOrder.slice(removedBefore[s]).forEach(tombstone));
    for (let i = 0; i < tailCount; i++) {
      const id = tail.ids[i];
      if (deadInTail.has(id)) continue;
      if (!this.tailIds.delete(id)) tombstone(id);
    }
    const rest = new HashList();
    for (let i = tailCount; i < tail.count; i++) if (this.tailIds.has(tail.ids[i])) rest.push(tail.ids[i], tail.words.subarray(i * 8, (i + 1) * 8));
    this.tail = rest;
    this.segments = [...this.segments.filter((segment) => !sources.includes(segment)), ...(merged.count > 0 ? [merged] : [])];
  }

  /** A segment of the batch's hashes, leaving out those this index holds now. */
  async segmentFor(list: HashList): Promise<Segment> {
    const tailIds = Float64Array.from(this.tailIds).sort();
    const present = [...this.segments.map((segment) => ({ ids: segment.ids, count: segment.count })), { ids: tailIds, count: tailIds.length }];
    return asSegment(await buildSegment({ sources: [{ words: list.words, ids: list.ids, count: list.count, sorted: false }], drop: new Float64Array(0), present }));
  }

  /** Makes a prepared segment searchable, in one step. */
  attach(segment: Segment): void {
    // Entries added one by one after the batch was prepared may be in it too: those copies are dead.
    for (const id of this.tailIds) {
      if (findId(segment.ids, segment.count, id) >= 0 && !segment.removed.has(id)) {
        segment.removed.add(id);
        segment.removedOrder.push(id);
      }
    }
    this.segments = [...this.segments, segment];
    this.liveCount += live(segment);
  }
}

/**
 * Additions and removals gathered off to the side. A large batch is built into a segment of
 * its own (on a worker thread) by prepare(); apply() then attaches it and applies the
 * removals in one synchronous step, so a search sees all of the batch or none of it.
 */
export class PdqBatch implements SignalIndexBatch {
  private readonly list = new HashList(true);
  private readonly removals: number[] = [];
  private segment: Segment | undefined;

  constructor(private readonly index: PdqSignalIndex) {}

  get size(): number {
    return this.list.count + this.removals.length;
  }

  add(entry: SignalIndexEntry): void {
    this.list.push(entry.entryId, hexToHash256(entry.value));
  }

  addHash(entryId: number, hash: Hash256): void {
    this.list.push(entryId, hash);
  }

  remove(entryId: number): void {
    this.removals.push(entryId);
  }

  async prepare(): Promise<void> {
    if (this.list.count >= this.index.batchSegmentMin) this.segment = await this.index.segmentFor(this.list);
  }

  apply(): void {
    if (this.segment) this.index.attach(this.segment);
    else for (let i = 0; i < this.list.count; i++) this.index.addHash(this.list.ids[i], this.list.words.subarray(i * 8, (i + 1) * 8));
    for (const id of this.removals) this.index.remove(id);
  }
}
