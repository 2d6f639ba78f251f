import type { BankMatch } from './matcher.ts';

/** A match an allow bank set aside, with the allow entry that did it. */
export interface SuppressedMatch extends BankMatch {
  suppressedBy: { bank: string; entryId: number; signalType: string; value: string; distance: number };
}

/**
 * Sets aside the matches that an allow bank's matches speak for. "The same content" is judged
 * per signal type: the query's value of a type that matched an allow entry (within the allow
 * bank's own threshold, for distance types) is content known to be fine, so every block match
 * of that type is suppressed, each citing the closest allow match. Matches of other types
 * stand: an exact digest in a block list is not overruled by a perceptual likeness to an
 * allowed picture unless the allow bank holds that digest too.
 */
export function suppressAllowed(matches: BankMatch[], allowMatches: BankMatch[]): { matches: BankMatch[]; suppressed: SuppressedMatch[] } {
  if (allowMatches.length === 0) return { matches, suppressed: [] };
  const closest = new Map<string, BankMatch>();
  for (const allow of allowMatches) {
    const current = closest.get(allow.signalType);
    if (!current || allow.distance < current.distance || (allow.distance === current.distance && allow.entryId < current.entryId)) closest.set(allow.signalType, allow);
  }
  const kept: BankMatch[] = [];
  const suppressed: SuppressedMatch[] = [];
  for (const match of matches) {
    const allow = closest.get(match.signalType);
    if (!allow) kept.push(match);
    else suppressed.push({ ...match, suppressedBy: { bank: allow.bank, entryId: allow.entryId, signalType: allow.signalType, value: allow.value, distance: allow.distance } });
  }
  return { matches: kept, suppressed };
}
