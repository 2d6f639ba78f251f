import type { ExchangeItemView, ExchangeStatus } from '../exchange/exchange-service.ts';
import type { FetchRunResult } from '../exchange/fetcher.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** An exchange's configuration and fetch status as the API and `bulwark exchange status --json` show it. */
export const exchangeJson = (status: ExchangeStatus) => ({
  name: status.name,
  type: status.type,
  bank: status.bank,
  enabled: status.enabled,
  config: status.config,
  created_at: iso(status.createdAt),
  updated_at: iso(status.updatedAt),
  last_success_at: iso(status.lastSuccessAt),
  last_attempt_at: iso(status.lastAttemptAt),
  last_error: status.lastError,
  stopped: status.stopped,
  consecutive_failures: status.consecutiveFailures,
  next_attempt_at: iso(status.nextAttemptAt),
  checkpoint_time: iso(status.checkpointTime),
  full_read_underway: status.fullReadUnderway,
  items_fetched: status.itemsFetched,
  items: status.items,
  skipped: { total: status.skipped.total, latest: status.skipped.latest },
  credentials: { variables: status.credentials.variables, problem: status.credentials.problem },
  feedback: status.feedback,
});

export const fetchRunJson = (run: FetchRunResult) => ({
  exchange: run.exchange,
  pages: run.pages,
  items: run.items,
  skipped: run.skipped,
  entries_added: run.entriesAdded,
  entries_removed: run.entriesRemoved,
  error: run.error ?? null,
  stopped: run.stopped ?? false,
});

export const exchangeItemJson = (item: ExchangeItemView) => ({
  exchange: item.exchange,
  key: item.key,
  member: item.member,
  tags: item.tags,
  signals: item.signals.map((signal) => ({ signal_type: signal.signalType, value: signal.value })),
  other_fingerprints: item.otherFingerprints,
  source_opinion: item.sourceOpinion,
  deleted: item.deleted,
  source_updated_at: iso(item.sourceUpdatedAt),
  updated_at: iso(item.updatedAt),
  entry_ids: item.entryIds,
  feedback: item.feedback.map((feedback) => ({
    id: feedback.id,
    verdict: feedback.verdict,
    reason: feedback.reason,
    case_id: feedback.caseId,
    decision_id: feedback.decisionId,
    status: feedback.status,
    attempts: feedback.attempts,
    next_attempt_at: iso(feedback.nextAttemptAt),
    last_error: feedback.lastError,
    created_at: iso(feedback.createdAt),
    sent_at: iso(feedback.sentAt),
  })),
});
