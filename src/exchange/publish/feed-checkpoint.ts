import { invalid } from '../../errors.ts';

/**
 * Where a subscriber is in a bank's feed. Opaque to the subscriber, but plain text, since
 * it grants nothing: every position lies inside a bank the key may read anyway.
 *
 * - snapshot: reading every entry by id after `afterId`; changes made from revision
 *   `baseRevision + 1` on follow once the entries are read, so an entry added or removed
 *   meanwhile is not lost whichever side of the reader it fell on.
 * - changes: every revision before `revision` is read; of `revision`, its removals (part 0,
 *   by tombstone id) and then its additions (part 1, by entry id) up to `afterId`.
 *
 * Both name the bank by id, so a bank deleted and made again under the same name is read afresh.
 */
export type FeedPosition =
  | { phase: 'snapshot'; bankId: number; baseRevision: number; afterId: number }
  | { phase: 'changes'; bankId: number; revision: number; part: FeedPart; afterId: number };

/** Within a revision, removals come before additions: a revision that replaces an entry ends with it present. */
export type FeedPart = 0 | 1;
export const REMOVALS: FeedPart = 0;
export const ADDITIONS: FeedPart = 1;

const SNAPSHOT = /^s\.(\d{1,15})\.(\d{1,15})\.(\d{1,15})$/;
const CHANGES = /^c\.(\d{1,15})\.(\d{1,15})\.([01])\.(\d{1,15})$/;

export function encodeCheckpoint(position: FeedPosition): string {
  return position.phase === 'snapshot'
    ? `s.${position.bankId}.${position.baseRevision}.${position.afterId}`
    : `c.${position.bankId}.${position.revision}.${position.part}.${position.afterId}`;
}

/** The position a checkpoint names, or a 400 naming the parameter. */
export function decodeCheckpoint(token: string): FeedPosition {
  const snapshot = SNAPSHOT.exec(token);
  if (snapshot) return { phase: 'snapshot', bankId: Number(snapshot[1]), baseRevision: Number(snapshot[2]), afterId: Number(snapshot[3]) };
  const changes = CHANGES.exec(token);
  if (changes) return { phase: 'changes', bankId: Number(changes[1]), revision: Number(changes[2]), part: Number(changes[3]) as FeedPart, afterId: Number(changes[4]) };
  throw invalid(`querystring/checkpoint: ${JSON.stringify(token.slice(0, 80))} is not a checkpoint this feed gave out; pass the last page's checkpoint, or none to start from the beginning`, {
    location: 'querystring/checkpoint',
  });
}
