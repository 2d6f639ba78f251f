import type { DomainEvent } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { ExchangeError, type ExchangeFeedback, type ExchangeSignal } from './exchange.ts';
import type { ExchangeTypeRegistry } from './types/registry.ts';

export type FeedbackVerdict = ExchangeFeedback['verdict'];

/** The outbox consumer that turns decisions on exchanged content into feedback to send. */
export const EXCHANGE_FEEDBACK_QUEUE = 'exchange.feedback-queue';

/**
 * Disables a bank entry locally inside the caller's transaction (the exchange's copy is not
 * touched) and returns what to call after commit so this process's matcher hears of it. Bank
 * entry disabling (`disabled_until`) lands with the bank controls: app.ts wires
 * BankService.disableEntryIn here; until then false positives are only reported.
 */
export type DisableEntryIn = (tx: SqlClient, entryId: number, reason: string) => Promise<() => Promise<void> | void>;

/** What a decision's verdict tells the source: a confirmed match, a false one, or that it was seen and acted on by a rule. */
export function feedbackVerdict(verdict: string): FeedbackVerdict | undefined {
  if (verdict === 'confirm') return 'true_positive';
  if (verdict === 'dismiss') return 'false_positive';
  if (verdict === 'automated') return 'seen';
  // An escalation waits for the lead's decision, which is its own event.
  return undefined;
}

interface DecidedPayload {
  case_id: number | null;
  decision_id: number;
  subject: { kind: string; id: string };
  verdict: string;
}

export interface FeedbackQueueOptions {
  /** Disable an entry locally on a false positive (BULWARK_EXCHANGE_DISABLE_ON_FALSE_POSITIVE). */
  disableOnFalsePositive?: DisableEntryIn;
}

/**
 * The feedback stage on a batch of decisions: which of the decided uploads matched entries an
 * exchange brought is read once for the batch (almost none of a surge's did, issue 11); only
 * those go on to queueFeedback(). Whatever their queueing publishes goes out after commit.
 */
export async function queueFeedbackOf(tx: SqlClient, events: DomainEvent[], options: FeedbackQueueOptions = {}): Promise<DomainEvent[]> {
  const contentOf = (event: DomainEvent) => {
    const payload = event.payload as DecidedPayload;
    return payload.subject?.kind === 'content' && feedbackVerdict(payload.verdict) ? payload.subject.id : undefined;
  };
  const contentIds = [...new Set(events.flatMap((event) => contentOf(event) ?? []))];
  if (contentIds.length === 0) return [];
  const exchanged = await tx.query<{ content_id: string }>(
    `SELECT DISTINCT c.content_id FROM content c, jsonb_array_elements(c.matches) m
     WHERE c.content_id = ANY($1::text[]) AND m->>'entryId' ~ '^[0-9]{1,15}$'
       AND EXISTS (SELECT 1 FROM exchange_item_entries l WHERE l.entry_id = (m->>'entryId')::bigint)`,
    [contentIds],
  );
  const held = new Set(exchanged.rows.map((row) => row.content_id));
  for (const event of events) {
    const contentId = contentOf(event);
    if (contentId === undefined || !held.has(contentId)) continue;
    for (const published of await queueFeedback(tx, event, options)) tx.afterCommit(() => void published());
  }
  return [];
}

/**
 * Handles one case.decided event inside the consumer's transaction: for content that matched
 * entries exchanges brought, one feedback row per item holding a matched entry, keyed by the
 * decision so a replayed event queues nothing twice. Returns what to run after commit.
 */
export async function queueFeedback(tx: SqlClient, event: DomainEvent, options: FeedbackQueueOptions = {}): Promise<(() => Promise<void> | void)[]> {
  const payload = event.payload as DecidedPayload;
  const verdict = feedbackVerdict(payload.verdict);
  if (payload.subject?.kind !== 'content' || !verdict) return [];
  // One round trip: the exchange items holding the entries the content matched, with the
  // decision's reason beside each. Almost no decision of a surge concerns exchanged entries,
  // and each used to cost three queries here (issue 11).
  const held = await tx.query<{ exchange_id: number; item_key: string; entry_id: string | number; note: string | null; policy: string | null }>(
    `WITH matched AS (
       SELECT DISTINCT (m->>'entryId')::bigint AS entry_id FROM content c, jsonb_array_elements(c.matches) m
       WHERE c.content_id = $1 AND m->>'entryId' ~ '^[0-9]{1,15}$'
     )
     SELECT DISTINCT l.exchange_id, l.item_key, l.entry_id, d.note, d.policy
     FROM exchange_item_entries l LEFT JOIN decisions d ON d.id = $2
     WHERE l.entry_id IN (SELECT entry_id FROM matched)`,
    [payload.subject.id, payload.decision_id],
  );
  const decision = held.rows[0];
  const reason = verdict === 'false_positive' ? (decision?.note ?? decision?.policy ?? null)?.slice(0, 500) ?? null : null;
  if (held.rows.length === 0) return [];
  const rows = [...new Map(held.rows.map((row) => [`${row.exchange_id}\u0000${row.item_key}`, row])).values()].map((row) => ({
    exchange_id: row.exchange_id,
    item_key: row.item_key,
    idempotency_key: `decision:${payload.decision_id}:${row.exchange_id}:${row.item_key}`,
  }));
  await tx.query(
    `INSERT INTO exchange_feedback (exchange_id, item_key, verdict, reason, case_id, decision_id, idempotency_key)
     SELECT r.exchange_id, r.item_key, $2, $3, $4, $5, r.idempotency_key FROM jsonb_to_recordset($1::jsonb) AS r(exchange_id integer, item_key text, idempotency_key text)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [JSON.stringify(rows), verdict, reason, payload.case_id, payload.decision_id],
  );
  if (verdict !== 'false_positive' || !options.disableOnFalsePositive) return [];
  const published = [];
  for (const entryId of new Set(held.rows.map((row) => Number(row.entry_id)))) {
    published.push(await options.disableOnFalsePositive(tx, entryId, `false positive (case ${payload.case_id ?? 'none'})`));
  }
  return published;
}

export interface FeedbackSenderOptions {
  types: ExchangeTypeRegistry;
  now: () => Date;
  fetch: typeof globalThis.fetch;
  env: NodeJS.ProcessEnv;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** After this many failed sends a feedback is given up as failed (default 20). */
  maxAttempts?: number;
}

interface DueRow {
  id: string | number;
  exchange_id: number;
  item_key: string;
  verdict: FeedbackVerdict;
  reason: string | null;
  idempotency_key: string;
  attempts: number;
  name: string;
  type: string;
  config: Record<string, unknown>;
  member: string | null;
  source_id: string | null;
  signals: ExchangeSignal[];
}

/** How long a claimed feedback is left to the process sending it before another may try. */
const CLAIM_MS = 5 * 60_000;

/**
 * Sends queued feedback through each exchange's sendFeedback, with retries and backoff. Rows
 * are claimed by pushing their next attempt past the send, so several processes never send
 * the same one at once; the source also gets a stable idempotency key for a resend.
 */
export class FeedbackSender {
  constructor(
    private readonly sql: SqlClient,
    private readonly options: FeedbackSenderOptions,
  ) {}

  /** Sends what is due now, in batches until nothing is; returns how many were handled. */
  async sendDue(signal: AbortSignal, limit = 20): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.sendBatch(signal, limit);
      total += handled;
      if (handled < limit || signal.aborted) return total;
    }
  }

  private async sendBatch(signal: AbortSignal, limit: number): Promise<number> {
    const now = this.options.now();
    const claimed = await this.sql.query<DueRow>(
      `WITH due AS (
         SELECT id FROM exchange_feedback WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE exchange_feedback f SET next_attempt_at = $3 FROM due WHERE f.id = due.id
         RETURNING f.id, f.exchange_id, f.item_key, f.verdict, f.reason, f.idempotency_key, f.attempts
       )
       SELECT c.*, x.name, x.type, x.config, i.member, i.source_id, i.signals
       FROM claimed c JOIN exchanges x ON x.id = c.exchange_id
       LEFT JOIN exchange_items i ON i.exchange_id = c.exchange_id AND i.item_key = c.item_key
       ORDER BY c.id`,
      [now, limit, new Date(now.getTime() + CLAIM_MS)],
    );
    for (const row of claimed.rows) await this.send(row, signal);
    return claimed.rows.length;
  }

  private async send(row: DueRow, signal: AbortSignal): Promise<void> {
    try {
      const type = this.options.types.get(row.type);
      const exchange = type.create(type.parseConfig(row.config), {
        fetch: this.options.fetch,
        now: this.options.now,
        credentials: type.credentialsFromEnv(row.name, this.options.env),
      });
      if (!exchange.sendFeedback) {
        await this.sql.query(`UPDATE exchange_feedback SET status = 'unsupported', last_error = NULL WHERE id = $1`, [row.id]);
        return;
      }
      await exchange.sendFeedback(
        { item: { key: row.item_key, ...(row.member ? { member: row.member } : {}), ...(row.source_id ? { sourceId: row.source_id } : {}), signals: row.signals ?? [] }, verdict: row.verdict, ...(row.reason ? { reason: row.reason } : {}), idempotencyKey: row.idempotency_key },
        signal,
      );
      await this.sql.query(`UPDATE exchange_feedback SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`, [row.id, this.options.now()]);
    } catch (error) {
      const attempts = row.attempts + 1;
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
      // A refusal no resend can change fails at once; anything else (a source that is down, missing credentials an operator may yet set) is retried.
      const giveUp = (error instanceof ExchangeError && !error.retryable) || attempts >= (this.options.maxAttempts ?? 20);
      const initial = this.options.initialBackoffMs ?? 60_000;
      const backoff = Math.min(this.options.maxBackoffMs ?? 6 * 3_600_000, initial * 2 ** Math.min(attempts - 1, 30));
      const wait = Math.max(backoff, error instanceof ExchangeError ? (error.retryAfterMs ?? 0) : 0);
      await this.sql.query(
        `UPDATE exchange_feedback SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1`,
        [row.id, giveUp ? 'failed' : 'pending', attempts, message, new Date(this.options.now().getTime() + wait)],
      );
    }
  }
}
