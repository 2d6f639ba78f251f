import type { Bulwark } from '../../../app.ts';
import type { Bank, BankEntry } from '../../../banks/banks.ts';
import { invalid } from '../../../errors.ts';
import type { SqlClient } from '../../../store/sql.ts';

/**
 * HMA's enabled_ratio and disable_until_ts over Bulwark's bank controls (per-bank
 * `enabledRatio`, per-entry `disabledUntil`: BankService on branch ex-controls, migration
 * 0019). That branch may not be part of the build yet, so the controls are used where they are
 * there and HMA's defaults given where not: a bank is then on (1.0) or off (0.0), and content
 * is always enabled (disable_until_ts 1).
 */

/** BankContentConfig.ENABLED and DISABLED. */
export const ENABLED_TS = 1;
export const DISABLED_TS = 0;

interface EntryToggle {
  published(): Promise<void> | void;
}
interface BankControls {
  disableEntryIn(tx: SqlClient, entryId: number, options: { until?: Date | null; reason: string; bank?: string }): Promise<EntryToggle>;
  enableEntryIn(tx: SqlClient, entryId: number, options: { bank?: string }): Promise<EntryToggle>;
}
type WithControls<T> = T & { enabledRatio?: number; disabledUntil?: Date | 'infinity' | null };

function controlsOf(bulwark: Bulwark): BankControls | undefined {
  const banks = bulwark.banks as unknown as Partial<BankControls>;
  return typeof banks.disableEntryIn === 'function' && typeof banks.enableEntryIn === 'function' ? (banks as BankControls) : undefined;
}


/** HMA's matching_enabled_ratio: 0 when the bank is off, else its share of lookups. */
export const bankRatio = (bank: Bank): number => (bank.enabled ? ((bank as WithControls<Bank>).enabledRatio ?? 1) : 0);

/** The bank changes that give it this ratio: 0 switches it off; otherwise on, for that share. */
export function ratioChanges(bulwark: Bulwark, ratio: number): { enabled: boolean; enabledRatio?: number } {
  if (controlsOf(bulwark)) return ratio === 0 ? { enabled: false } : { enabled: true, enabledRatio: ratio };
  if (ratio === 1 || ratio === 0) return { enabled: ratio === 1 };
  throw invalid(`enabled_ratio ${ratio} is not supported: this Bulwark keeps a bank on (1.0) or off (0.0), not on for a fraction of lookups`);
}

/** HMA's disable_until_ts of a content: 1 while every hash matches, 0 while one is off until re-enabled, else the latest end. */
export function disableUntilTs(entries: BankEntry[]): number {
  let ts = ENABLED_TS;
  for (const entry of entries) {
    const until = (entry as WithControls<BankEntry>).disabledUntil;
    if (until === 'infinity') return DISABLED_TS;
    if (until instanceof Date) ts = Math.max(ts, Math.floor(until.getTime() / 1000));
  }
  return ts;
}

/**
 * Sets every hash of a content on (1, or a time already past), off until re-enabled (0) or off
 * until the time, in one transaction. Without bank controls only "enabled" can be kept.
 */
export async function setDisableUntil(bulwark: Bulwark, bankName: string, entryIds: number[], ts: number, nowSeconds: number): Promise<void> {
  const controls = controlsOf(bulwark);
  const enable = ts === ENABLED_TS || (ts !== DISABLED_TS && ts <= nowSeconds);
  if (!controls) {
    if (enable) return;
    throw invalid('disabling content (disable_until_ts other than 1) needs bank controls, which this Bulwark build lacks: delete the content instead');
  }
  const toggles = await bulwark.sql.transaction(async (tx) => {
    const done: EntryToggle[] = [];
    for (const entryId of entryIds) {
      done.push(
        enable
          ? await controls.enableEntryIn(tx, entryId, { bank: bankName })
          : await controls.disableEntryIn(tx, entryId, { bank: bankName, until: ts === DISABLED_TS ? null : new Date(ts * 1000), reason: 'disabled through the HMA API' }),
      );
    }
    return done;
  });
  for (const toggle of toggles) await toggle.published();
}
