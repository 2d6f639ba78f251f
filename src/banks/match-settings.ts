import { invalid } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { MatchPercent } from '../signals/types.ts';

/**
 * How close a match must be for one bank, per signal type, where the bank's source asks for
 * something other than the type's default: a list curated for precision may want PDQ within
 * 20 instead of 31, and a list of long videos may want more than 0% of the banked video seen.
 */
export interface BankMatchSettings {
  /** Largest distance that counts, per distance-based signal type. */
  maxDistance?: Record<string, number>;
  /** Least percentages of frames that must match, per frame-list signal type (vpdq). */
  minMatchPercent?: Record<string, Partial<MatchPercent>>;
}

/** Checks settings against the registry and returns them in canonical form; throws a named 'invalid' error. */
export function checkMatchSettings(settings: BankMatchSettings, signals: SignalRegistry): BankMatchSettings {
  const checked: BankMatchSettings = {};
  for (const [name, distance] of Object.entries(settings.maxDistance ?? {})) {
    const type = signals.get(name);
    if (type.matching !== 'distance') throw invalid(`${type.name} matches exactly: it takes no maximum distance`, { signal_type: type.name });
    if (!Number.isSafeInteger(distance) || distance < 0 || distance > 256) {
      throw invalid(`the maximum ${type.name} distance must be a whole number from 0 to 256, got ${distance}`, { signal_type: type.name });
    }
    (checked.maxDistance ??= {})[type.name] = distance;
  }
  for (const [name, percent] of Object.entries(settings.minMatchPercent ?? {})) {
    const type = signals.get(name);
    if (!type.defaultMinMatchPercent) throw invalid(`${type.name} does not match frame lists: it takes no match percentages`, { signal_type: type.name });
    const own: Partial<MatchPercent> = {};
    for (const side of ['query', 'compared'] as const) {
      const value = percent[side];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
        throw invalid(`the ${side} match percentage for ${type.name} must be from 0 to 100, got ${value}`, { signal_type: type.name });
      }
      own[side] = value;
    }
    (checked.minMatchPercent ??= {})[type.name] = own;
  }
  return checked;
}
