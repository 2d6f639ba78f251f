import type { Bank, BankEntry, BankSummary } from '../banks/banks.ts';
import type { BankMatchSettings } from '../banks/match-settings.ts';
import type { ContentRecord } from '../ingest/content.ts';
import type { SuppressedMatch } from '../match/allow-banks.ts';
import type { BankMatch, EntryProvenance, MatchResult, SignalOutcome } from '../match/matcher.ts';

// The wire format is snake_case JSON with ISO 8601 UTC timestamps; the domain is camelCase.

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export const matchSettingsJson = (settings: BankMatchSettings) => ({
  ...(settings.maxDistance ? { max_distance: settings.maxDistance } : {}),
  ...(settings.minMatchPercent ? { min_match_percent: settings.minMatchPercent } : {}),
});

export const bankJson = (bank: Bank | BankSummary) => ({
  name: bank.name,
  description: bank.description,
  enabled: bank.enabled,
  match_settings: matchSettingsJson(bank.matchSettings),
  kind: bank.kind,
  enabled_ratio: bank.enabledRatio,
  flood_limit: bank.floodLimit,
  published: bank.published,
  tags: bank.tags,
  revision: bank.revision,
  created_at: iso(bank.createdAt),
  updated_at: iso(bank.updatedAt),
  ...('entryCounts' in bank ? { entry_counts: bank.entryCounts } : {}),
});

export const entryJson = (entry: BankEntry) => ({
  id: entry.id,
  signal_type: entry.signalType,
  value: entry.value,
  source: entry.source,
  tags: entry.tags,
  import_id: entry.importId,
  added_at: iso(entry.addedAt),
  disabled_until: entry.disabledUntil === 'infinity' ? 'infinity' : iso(entry.disabledUntil),
  disabled_reason: entry.disabledReason,
});

export const signalOutcomeJson = (signal: SignalOutcome) => ({
  signal_type: signal.signalType,
  value: signal.value,
  ...(signal.quality !== undefined ? { quality: signal.quality } : {}),
  ...(signal.frameCount !== undefined ? { frame_count: signal.frameCount } : {}),
  status: signal.status,
});

export const bankMatchJson = (match: BankMatch) => ({
  bank: match.bank,
  signal_type: match.signalType,
  value: match.value,
  distance: match.distance,
  ...(match.variant ? { variant: match.variant } : {}),
  ...(match.matchPercent ? { match_percent: { query: match.matchPercent.query, compared: match.matchPercent.compared } } : {}),
  entry_id: match.entryId,
  source: match.source,
  tags: match.tags,
  ...(match.provenance?.length ? { provenance: match.provenance.map(provenanceJson) } : {}),
});

export const provenanceJson = (from: EntryProvenance) => ({ exchange: from.exchange, member: from.member, item_key: from.itemKey, tags: from.tags });
export const suppressedMatchJson = (match: SuppressedMatch) => ({
  ...bankMatchJson(match),
  suppressed_by: {
    bank: match.suppressedBy.bank,
    entry_id: match.suppressedBy.entryId,
    signal_type: match.suppressedBy.signalType,
    value: match.suppressedBy.value,
    distance: match.suppressedBy.distance,
  },
});

export const matchResultJson = (result: MatchResult) => ({
  matched: result.matched,
  signals: result.signals.map(signalOutcomeJson),
  matches: result.matches.map(bankMatchJson),
  suppressed: result.suppressed.map(suppressedMatchJson),
});

export const contentJson = (record: ContentRecord) => ({
  content_id: record.contentId,
  account_id: record.accountId,
  content_type: record.contentType,
  matched: record.matched,
  signals: record.signals.map(signalOutcomeJson),
  matches: record.matches.map(bankMatchJson),
  suppressed: record.suppressed.map(suppressedMatchJson),
  created_at: iso(record.createdAt),
  received_at: iso(record.receivedAt),
});
