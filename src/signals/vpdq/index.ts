import { PdqSignalIndex } from '../pdq/signal.ts';
import type { SignalHit, SignalIndex, SignalIndexEntry, SignalQuery } from '../types.ts';
import { parseVpdqFrames } from './frames.ts';
import { DEFAULT_MIN_MATCH_PERCENT, matchableHashes, round2 } from './match.ts';

interface FrameRecord {
  hash: string;
  /** The videos (entry ids) that have this frame hash. */
  entries: number[];
}

interface Candidate {
  /** Query frames with a match in this video. */
  queryMatched: number;
  /** The last query frame counted, so a query frame counts once per video. */
  lastQuery: number;
  /** Sum of each matched query frame's smallest distance to this video. */
  distanceSum: number;
  /** This video's frames matched by some query frame. */
  framesMatched: Set<number>;
}

/**
 * A bank's vPDQ values, indexed by frame: every unique frame hash (quality >= 50) of every
 * video goes once into a PDQ index (multi-index hashing once large), mapped back to the videos
 * that contain it. A query looks up each of its unique frames there and counts, per video
 * found, how many query frames matched and how many of the video's frames were matched; no
 * video is compared frame by frame with the query. Results equal compareVpdq's for every
 * video with at least one matching frame.
 */
export class VpdqSignalIndex implements SignalIndex {
  private readonly frameIndex = new PdqSignalIndex();
  private readonly frameIdByHash = new Map<string, number>();
  private readonly frames = new Map<number, FrameRecord>();
  /** Each video's unique matchable frames, as frame ids. */
  private readonly videos = new Map<number, number[]>();
  private nextFrameId = 0;

  constructor(entries: Iterable<SignalIndexEntry> = []) {
    for (const entry of entries) this.add(entry);
    this.compact();
  }

  get size(): number {
    return this.videos.size;
  }

  /** How many distinct frame hashes the index holds (for stats and tests). */
  get frameCount(): number {
    return this.frames.size;
  }

  add(entry: SignalIndexEntry): void {
    if (this.videos.has(entry.entryId)) return;
    const ids: number[] = [];
    for (const hash of matchableHashes(parseVpdqFrames(entry.value))) {
      let id = this.frameIdByHash.get(hash);
      if (id === undefined) {
        id = this.nextFrameId++;
        this.frameIdByHash.set(hash, id);
        this.frames.set(id, { hash, entries: [] });
        this.frameIndex.add({ entryId: id, value: hash });
      }
      this.frames.get(id)!.entries.push(entry.entryId);
      ids.push(id);
    }
    this.videos.set(entry.entryId, ids);
  }

  remove(entryId: number): void {
    const ids = this.videos.get(entryId);
    if (!ids) return;
    this.videos.delete(entryId);
    for (const id of ids) {
      const frame = this.frames.get(id)!;
      frame.entries = frame.entries.filter((other) => other !== entryId);
      if (frame.entries.length > 0) continue;
      this.frames.delete(id);
      this.frameIdByHash.delete(frame.hash);
      this.frameIndex.remove(id);
    }
  }

  compact(): void {
    this.frameIndex.compact();
  }

  /** The frames' PDQ index does the heavy upkeep; the maps from frames to videos need none. */
  maintain(): Promise<void> {
    return this.frameIndex.maintain();
  }

  get maintaining(): boolean {
    return this.frameIndex.maintaining;
  }

  /**
   * Videos matching the query's frames, or those of one of its variants (a video hashed
   * without its black bars): for each video, the best of them, by query percentage, then
   * compared percentage, then distance.
   */
  search(query: SignalQuery): SignalHit[] {
    const best = new Map<number, SignalHit>();
    const lists = [{ name: undefined as string | undefined, value: query.value }, ...(query.variants ?? [])];
    for (const list of lists) {
      for (const hit of this.searchFrames(list.value, query)) {
        const current = best.get(hit.entryId);
        if (current && !better(hit, current)) continue;
        best.set(hit.entryId, list.name ? { ...hit, variant: list.name } : hit);
      }
    }
    return [...best.values()].sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
  }

  private searchFrames(value: string, query: SignalQuery): SignalHit[] {
    const thresholds = { ...DEFAULT_MIN_MATCH_PERCENT, ...query.minMatchPercent };
    const queryHashes = matchableHashes(parseVpdqFrames(value));
    if (queryHashes.length === 0 || this.videos.size === 0) return [];
    const candidates = new Map<number, Candidate>();
    queryHashes.forEach((hash, queryIndex) => {
      // Hits come nearest first, so a video's first hit is its nearest frame to this query frame.
      for (const hit of this.frameIndex.search({ value: hash, maxDistance: query.maxDistance })) {
        for (const entryId of this.frames.get(hit.entryId)!.entries) {
          let candidate = candidates.get(entryId);
          if (!candidate) candidates.set(entryId, (candidate = { queryMatched: 0, lastQuery: -1, distanceSum: 0, framesMatched: new Set() }));
          if (candidate.lastQuery !== queryIndex) {
            candidate.lastQuery = queryIndex;
            candidate.queryMatched++;
            candidate.distanceSum += hit.distance;
          }
          candidate.framesMatched.add(hit.entryId);
        }
      }
    });
    const hits: SignalHit[] = [];
    for (const [entryId, candidate] of candidates) {
      const queryPercent = (candidate.queryMatched * 100) / queryHashes.length;
      const comparedPercent = (candidate.framesMatched.size * 100) / this.videos.get(entryId)!.length;
      if (queryPercent < thresholds.query || comparedPercent < thresholds.compared) continue;
      hits.push({
        entryId,
        distance: round2(candidate.distanceSum / candidate.queryMatched),
        matchPercent: { query: round2(queryPercent), compared: round2(comparedPercent) },
      });
    }
    return hits;
  }
}

/** Whether hit a is a better match than b of the same video. */
function better(a: SignalHit, b: SignalHit): boolean {
  const [pa, pb] = [a.matchPercent!, b.matchPercent!];
  return pa.query !== pb.query ? pa.query > pb.query : pa.compared !== pb.compared ? pa.compared > pb.compared : a.distance < b.distance;
}
