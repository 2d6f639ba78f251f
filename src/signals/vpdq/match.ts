import { hamming256, hexToHash256 } from '../pdq/hash256.ts';
import type { MatchPercent } from '../types.ts';
import type { VpdqFrame } from './frames.ts';

/**
 * vPDQ matching as python-threatexchange does it (extensions/vpdq/vpdq_index.py and
 * vpdq_util.py, version 1.2.16): each side's frames are filtered by quality (>= 50) and then
 * reduced to their unique hashes; a frame matches when some frame of the other side is within
 * the distance (<= 31); the two videos match when at least 80% of the query's frames match and
 * at least 0% of the indexed video's.
 *
 * (Meta's C++ matchTwoHash uses "< distance" and the vPDQ README's example puts 80% on the
 * indexed side; python-threatexchange, which HMA runs, is what is followed here.)
 */

export const VPDQ_QUALITY_THRESHOLD = 50;
export const VPDQ_DISTANCE_THRESHOLD = 31;
export const DEFAULT_MIN_MATCH_PERCENT: MatchPercent = { query: 80, compared: 0 };

/** The unique hashes of the frames of at least minQuality, in their first order. */
export function matchableHashes(frames: readonly VpdqFrame[], minQuality = VPDQ_QUALITY_THRESHOLD): string[] {
  const seen = new Set<string>();
  for (const frame of frames) if (frame.quality >= minQuality) seen.add(frame.hash);
  return [...seen];
}

/** Two decimals, for reports (percentages, mean distances); thresholds are compared with the exact values. */
export const round2 = (percent: number) => Math.round(percent * 100) / 100;

export interface VpdqComparison {
  matchPercent: MatchPercent;
  /** Mean distance from each matched query frame to its nearest frame of the other video. */
  meanDistance: number;
  /** At least one frame matched, and both percentages reach the thresholds. */
  matched: boolean;
}

/**
 * Compares two frame lists by brute force (every frame against every frame). The index in
 * index.ts must give exactly what this gives; undefined when the query has no frame good
 * enough to match.
 */
export function compareVpdq(
  query: readonly VpdqFrame[],
  compared: readonly VpdqFrame[],
  options: { maxDistance?: number; minMatchPercent?: Partial<MatchPercent> } = {},
): VpdqComparison | undefined {
  const maxDistance = options.maxDistance ?? VPDQ_DISTANCE_THRESHOLD;
  const thresholds = { ...DEFAULT_MIN_MATCH_PERCENT, ...options.minMatchPercent };
  const queryHashes = matchableHashes(query).map(hexToHash256);
  const comparedHashes = matchableHashes(compared).map(hexToHash256);
  if (queryHashes.length === 0) return undefined;
  let queryMatched = 0;
  let distanceSum = 0;
  const comparedMatched = new Set<number>();
  for (const q of queryHashes) {
    let best = Infinity;
    comparedHashes.forEach((c, i) => {
      const distance = hamming256(q, c);
      if (distance > maxDistance) return;
      comparedMatched.add(i);
      best = Math.min(best, distance);
    });
    if (best !== Infinity) {
      queryMatched++;
      distanceSum += best;
    }
  }
  const queryPercent = (queryMatched * 100) / queryHashes.length;
  const comparedPercent = comparedHashes.length === 0 ? 0 : (comparedMatched.size * 100) / comparedHashes.length;
  return {
    matchPercent: { query: round2(queryPercent), compared: round2(comparedPercent) },
    meanDistance: queryMatched === 0 ? 0 : round2(distanceSum / queryMatched),
    matched: queryMatched > 0 && queryPercent >= thresholds.query && comparedPercent >= thresholds.compared,
  };
}
