import { createHash } from 'node:crypto';
import { invalid } from '../errors.ts';

/**
 * block: matches count against the content (the default). allow: a match here says the content
 * is known to be fine, and suppresses its matches of the same signal type in every other bank.
 */
export const BANK_KINDS = ['block', 'allow'] as const;
export type BankKind = (typeof BANK_KINDS)[number];

/** Distinct uploads an entry may match in one hour before it is quarantined, unless its bank or the server says otherwise. */
export const DEFAULT_FLOOD_LIMIT = 1000;

export function checkBankKind(kind: string): BankKind {
  if (!(BANK_KINDS as readonly string[]).includes(kind)) throw invalid(`a bank's kind is one of ${BANK_KINDS.join(', ')}, got ${JSON.stringify(kind)}`, { kind });
  return kind as BankKind;
}

export function checkEnabledRatio(ratio: number): number {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw invalid(`enabled_ratio must be a number from 0 to 1, got ${ratio}`, { enabled_ratio: ratio });
  }
  return ratio;
}

/** null returns the bank to the server's default. */
export function checkFloodLimit(limit: number | null): number | null {
  if (limit !== null && (!Number.isSafeInteger(limit) || limit < 1)) throw invalid(`flood_limit must be a whole number of at least 1 (or null for the default), got ${limit}`, { flood_limit: limit });
  return limit;
}

/**
 * Whether a bank with this enabled_ratio counts for a lookup with this seed: a coin that lands
 * the same way every time for the same bank and seed (so the same content gets the same answer),
 * independently for each bank (so two banks at 10% do not take the same tenth of traffic).
 */
export function bankCountsFor(bankId: number, ratio: number, seed: string): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const digest = createHash('sha256').update(`${bankId}\u0000${seed}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000 < ratio;
}
