import { randomUUID } from 'node:crypto';
import { notFound, conflict } from '../../errors.ts';
import type { DomainEvent, EventLog } from '../../events/event-log.ts';
import { APPEAL_RESOLVED_EVENT } from '../../legal/appeals.ts';
import { OutboxConsumer } from '../../events/outbox-consumer.ts';
import type { SqlClient } from '../../store/sql.ts';
import {
  buildStatement, type CaseDecidedPayload, decisionFactsOf, DEFAULT_BUILD_OPTIONS, itemFactsOf, type Restriction, restrictionsOf, type StatementBuildOptions,
} from './statement-builder.ts';
import { postStatements, type BatchOutcome, type TdbConfig } from './tdb-client.ts';
import { transparencyReport as buildReport, type TransparencyReport } from './transparency-report.ts';
import { MAX_STATEMENTS_PER_CALL, type TdbStatement, validateStatement, type ValidationErrors } from './tdb-schema.ts';

/** withdrawn: an appeal reversed the decision before the database accepted the statement, so it is never sent. */
export const STATEMENT_STATUSES = ['invalid', 'pending_configuration', 'pending', 'retrying', 'submitted', 'rejected', 'withdrawn'] as const;
export type StatementStatus = (typeof STATEMENT_STATUSES)[number];
export const DSA_STATEMENTS_CONSUMER = 'dsa.statements';
const CASE_DECIDED = 'case.decided';

/** The appeal.resolved payload, as the appeal subject writes it. */
interface AppealResolvedPayload {
  appeal_id: number;
  decision_id: number;
  outcome: 'upheld' | 'reversed';
  resolved_by: string;
}

/**
 * Set when an appeal reversed the statement's decision. The database has no endpoint to
 * withdraw, update or annotate a statement, so an accepted one stays there as it was sent.
 */
export interface StatementReversal {
  appeal_id: number;
  reversed_at: string;
  reversed_by: string;
}

export interface StatementView {
  id: number;
  decision_id: number;
  case_id: number | null;
  subject: { kind: string; id: string };
  action_ids: number[];
  puid: string;
  status: StatementStatus;
  /** Local validation errors (invalid) or the database's (rejected). */
  errors: ValidationErrors | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  tdb_uuid: string | null;
  decided_at: string;
  created_at: string;
  submitted_at: string | null;
  reversal: StatementReversal | null;
  /** Exactly what is (or would be) sent. */
  statement: TdbStatement;
}

export interface StatementServiceOptions extends Partial<StatementBuildOptions> {
  /** The database; without it statements are kept as pending_configuration. */
  tdb?: TdbConfig;
  now?: () => Date;
  batchSize?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  leaseMs?: number;
  /** How often start() looks for due statements. */
  intervalMs?: number;
}

interface StatementRow {
  id: number;
  decision_id: number;
  case_id: number | null;
  subject_kind: string;
  subject_id: string;
  action_ids: number[];
  puid: string;
  payload: TdbStatement;
  status: StatementStatus;
  errors: ValidationErrors | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  tdb_uuid: string | null;
  decided_at: Date;
  created_at: Date;
  submitted_at: Date | null;
  reversed_at: Date | null;
  reversed_by: string | null;
  reversed_by_appeal_id: number | null;
}

const toView = (row: StatementRow): StatementView => ({
  id: Number(row.id),
  decision_id: Number(row.decision_id),
  case_id: row.case_id === null ? null : Number(row.case_id),
  subject: { kind: row.subject_kind, id: row.subject_id },
  action_ids: (row.action_ids ?? []).map(Number),
  puid: row.puid,
  status: row.status,
  errors: row.errors,
  attempts: row.attempts,
  next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
  last_error: row.last_error,
  tdb_uuid: row.tdb_uuid,
  decided_at: row.decided_at.toISOString(),
  created_at: row.created_at.toISOString(),
  submitted_at: row.submitted_at?.toISOString() ?? null,
  reversal:
    row.reversed_at && row.reversed_by_appeal_id !== null
      ? { appeal_id: Number(row.reversed_by_appeal_id), reversed_at: row.reversed_at.toISOString(), reversed_by: row.reversed_by ?? '' }
      : null,
  statement: row.payload,
});

const COLUMNS = `id, decision_id, case_id, subject_kind, subject_id, action_ids, puid, payload, status, errors, attempts, next_attempt_at,
  last_error, tdb_uuid, decided_at, created_at, submitted_at, reversed_at, reversed_by, reversed_by_appeal_id`;
const SELECT = `SELECT ${COLUMNS} FROM dsa_statements`;

/**
 * Statements of reasons (DSA Art. 17): one per item or account a decision restricted, built
 * from the case.decided outbox, checked as the Transparency Database checks them, and
 * submitted to it in batches (Art. 24(5)); a statement is never lost and never sent twice at once.
 */
export class StatementService {
  readonly consumer: OutboxConsumer;
  private readonly build: StatementBuildOptions;
  private readonly now: () => Date;
  private readonly owner = `dsa-${randomUUID()}`;
  private submitting: Promise<number> | undefined;

  constructor(
    private readonly sql: SqlClient,
    events: EventLog,
    private readonly options: StatementServiceOptions = {},
  ) {
    this.build = { ...DEFAULT_BUILD_OPTIONS, ...options };
    this.now = options.now ?? (() => new Date());
    this.consumer = new OutboxConsumer(sql, events, DSA_STATEMENTS_CONSUMER, [CASE_DECIDED, APPEAL_RESOLVED_EVENT], {
      batch: (tx, batch) => this.handle(tx, batch),
    });
    // A reversal marks the statement its decision got: both stay in order on one partition when JetStream carries them.
    this.consumer.orderKey = (event) => {
      const decision = (event.payload as { decision_id?: unknown } | null)?.decision_id;
      return decision === undefined || decision === null ? event.subject : `decision:${decision}`;
    };
  }

  get configured(): boolean {
    return this.options.tdb !== undefined;
  }

  /** Follows decisions as they are published and submits due statements periodically; returns a stop function. */
  start(): () => void {
    const stopConsumer = this.consumer.start();
    const tick = () => void this.consumer.drain().then(() => this.submitDue()).catch(() => undefined);
    const timer = setInterval(tick, this.options.intervalMs ?? 10_000);
    timer.unref();
    tick();
    return () => {
      stopConsumer();
      clearInterval(timer);
    };
  }

  /**
   * Statements for decided cases, and reversals by appeals, in the consumer's transaction. A
   * run of decisions is recorded together; a reversal waits for the decisions before it.
   */
  private async handle(tx: SqlClient, events: DomainEvent[]): Promise<DomainEvent[]> {
    let decided: CaseDecidedPayload[] = [];
    for (const event of events) {
      if (event.type !== APPEAL_RESOLVED_EVENT) {
        decided.push(event.payload as CaseDecidedPayload);
        continue;
      }
      await this.record(tx, decided);
      decided = [];
      await this.markReversed(tx, event.payload as AppealResolvedPayload);
    }
    await this.record(tx, decided);
    return [];
  }

  /**
   * Statements for decided cases: every read for the batch at once and one insert for them all
   * (issue 11: five statements per decision before).
   */
  private async record(tx: SqlClient, payloads: CaseDecidedPayload[]): Promise<void> {
    const restricting: { payload: CaseDecidedPayload; restrictions: Restriction[] }[] = [];
    for (const payload of payloads) {
      const restrictions = await restrictionsOf(tx, payload);
      if (restrictions.length > 0) restricting.push({ payload, restrictions });
    }
    if (restricting.length === 0) return;
    const facts = await decisionFactsOf(tx, restricting.map(({ payload }) => payload));
    const items = await itemFactsOf(tx, restricting.flatMap(({ restrictions }) => restrictions));
    const puids = new PuidChooser(await puidsTaken(tx, restricting.flatMap(({ restrictions }) => restrictions.map((restriction) => restriction.subject.id))));
    const now = this.now();
    const today = now.toISOString().slice(0, 10);
    const rows = restricting.flatMap(({ payload, restrictions }, i) =>
      restrictions.map((restriction) => {
        const puid = puids.choose(restriction.subject.id, payload.decision_id);
        const statement = buildStatement(payload, facts[i], restriction, items.get(`${restriction.subject.kind}:${restriction.subject.id}`), puid, this.build);
        const errors = validateStatement(statement, today);
        const valid = Object.keys(errors).length === 0;
        const status: StatementStatus = !valid ? 'invalid' : this.configured ? 'pending' : 'pending_configuration';
        return {
          decision_id: payload.decision_id, case_id: payload.case_id ?? null, subject_kind: restriction.subject.kind, subject_id: restriction.subject.id,
          action_ids: restriction.actionIds, puid, payload: statement, status, errors: valid ? null : errors, next_attempt_at: valid ? now : null, decided_at: facts[i].decidedAt,
        };
      }),
    );
    await tx.query(
      `INSERT INTO dsa_statements (decision_id, case_id, subject_kind, subject_id, action_ids, puid, payload, status, errors, next_attempt_at, decided_at, created_at)
       SELECT r.decision_id, r.case_id, r.subject_kind, r.subject_id, r.action_ids, r.puid, r.payload, r.status, r.errors, r.next_attempt_at, r.decided_at, $2
       FROM jsonb_to_recordset($1::jsonb) AS r(n int, decision_id bigint, case_id bigint, subject_kind text, subject_id text, action_ids bigint[], puid text,
              payload jsonb, status text, errors jsonb, next_attempt_at timestamptz, decided_at timestamptz)
       ORDER BY r.n
       ON CONFLICT (decision_id, subject_kind, subject_id) DO NOTHING`,
      [JSON.stringify(rows.map((row, n) => ({ n, ...row }))), now],
    );
  }

  /**
   * An appeal reversed a decision (Art. 20): its statements record by whom, when and through
   * which appeal. One the database has not accepted yet is withdrawn and never sent; an accepted
   * one stays submitted, since the database cannot withdraw or amend it.
   */
  private async markReversed(tx: SqlClient, payload: AppealResolvedPayload): Promise<void> {
    if (payload.outcome !== 'reversed') return;
    const appeal = await tx.query<{ resolved_at: Date | null; resolved_by: string | null }>('SELECT resolved_at, resolved_by FROM appeals WHERE id = $1', [payload.appeal_id]);
    const reversedAt = appeal.rows[0]?.resolved_at ?? this.now();
    await tx.query(
      `UPDATE dsa_statements
       SET reversed_at = $2, reversed_by = $3, reversed_by_appeal_id = $4,
           status = CASE WHEN status = 'submitted' THEN status ELSE 'withdrawn' END,
           next_attempt_at = CASE WHEN status = 'submitted' THEN next_attempt_at ELSE NULL END
       WHERE decision_id = $1 AND reversed_at IS NULL`,
      [payload.decision_id, reversedAt, appeal.rows[0]?.resolved_by ?? payload.resolved_by, payload.appeal_id],
    );
  }

  async list(filter: { status?: StatementStatus; decisionId?: number; afterId?: number; limit?: number } = {}): Promise<StatementView[]> {
    const result = await this.sql.query<StatementRow>(
      `${SELECT} WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR decision_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
      [filter.status ?? null, filter.decisionId ?? null, filter.afterId ?? 0, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toView);
  }

  async get(id: number): Promise<StatementView> {
    const result = await this.sql.query<StatementRow>(`${SELECT} WHERE id = $1`, [id]);
    if (!result.rows[0]) throw notFound(`no statement ${id}`);
    return toView(result.rows[0]);
  }

  /** Sends a rejected or waiting statement again at once; an invalid one is checked again first (rules or data may have changed). */
  async retry(id: number): Promise<StatementView> {
    const current = await this.get(id);
    if (current.status === 'submitted') throw conflict(`statement ${id} was accepted already`);
    if (current.reversal) throw conflict(`statement ${id} was withdrawn: appeal ${current.reversal.appeal_id} reversed its decision`);
    const errors = validateStatement(current.statement, this.now().toISOString().slice(0, 10));
    if (Object.keys(errors).length > 0) {
      await this.sql.query(`UPDATE dsa_statements SET status = 'invalid', errors = $2::jsonb, next_attempt_at = NULL WHERE id = $1`, [id, JSON.stringify(errors)]);
      return this.get(id);
    }
    await this.sql.query(
      `UPDATE dsa_statements SET status = $2, errors = NULL, next_attempt_at = $3, lease_until = NULL WHERE id = $1 AND status NOT IN ('submitted', 'withdrawn')`,
      [id, this.configured ? 'pending' : 'pending_configuration', this.now()],
    );
    return this.get(id);
  }

  /** The Art. 15 / 24 report for [from, to), after statements for every published decision are recorded. */
  async transparencyReport(period: { from: Date; to: Date }): Promise<TransparencyReport> {
    await this.consumer.settled();
    return buildReport(this.sql, period);
  }

  /** Submits every due statement in batches; concurrent calls share a pass. Returns how many the database accepted. */
  submitDue(): Promise<number> {
    if (!this.options.tdb) return Promise.resolve(0);
    this.submitting ??= this.pass().finally(() => {
      this.submitting = undefined;
    });
    return this.submitting;
  }

  private async pass(): Promise<number> {
    let accepted = 0;
    const tried = new Set<number>();
    for (;;) {
      const batch = await this.claim([...tried]);
      if (batch.length === 0) return accepted;
      for (const row of batch) tried.add(Number(row.id));
      const outcome = await postStatements(this.options.tdb!, batch.map((row) => row.payload));
      accepted += await this.settle(batch, outcome);
      // After a refusal naming some statements, the others were not created: they go again in this pass.
      if (outcome.kind === 'rejected' && outcome.errors.size > 0) {
        batch.forEach((row, index) => !outcome.errors.has(index) && tried.delete(Number(row.id)));
      }
    }
  }

  /** Claims up to one batch of due statements under a lease (several processes split the work). */
  private async claim(tried: number[]): Promise<StatementRow[]> {
    const now = this.now();
    const leaseUntil = new Date(now.getTime() + (this.options.leaseMs ?? 120_000));
    const result = await this.sql.transaction((tx) =>
      tx.query<StatementRow>(
        `WITH due AS (
           SELECT id FROM dsa_statements
           WHERE status IN ('pending', 'retrying', 'pending_configuration') AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
             AND (lease_until IS NULL OR lease_until <= $1) AND NOT (id = ANY($2::bigint[]))
             AND reversed_at IS NULL
             -- A reversal is committed before the consumer marks its statements: never send one in between.
             AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.decision_id = dsa_statements.decision_id AND a.status = 'reversed')
           ORDER BY next_attempt_at, id LIMIT $3
           FOR UPDATE SKIP LOCKED)
         UPDATE dsa_statements s SET attempts = s.attempts + 1, lease_owner = $4, lease_until = $5
         FROM due WHERE s.id = due.id
         RETURNING ${COLUMNS.split(',').map((column) => `s.${column.trim()}`).join(', ')}`,
        [now, tried, Math.min(this.options.batchSize ?? MAX_STATEMENTS_PER_CALL, MAX_STATEMENTS_PER_CALL), this.owner, leaseUntil],
      ),
    );
    return result.rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  private backoff(attempts: number, retryAfterMs?: number): Date {
    const base = this.options.baseDelayMs ?? 5_000;
    const cap = this.options.maxDelayMs ?? 3_600_000;
    const delay = Math.max(retryAfterMs ?? 0, Math.min(cap, base * 2 ** Math.max(0, attempts - 1)));
    return new Date(this.now().getTime() + delay);
  }

  private async settle(batch: StatementRow[], outcome: BatchOutcome): Promise<number> {
    const now = this.now();
    return this.sql.transaction(async (tx) => {
      const release = 'lease_owner = NULL, lease_until = NULL';
      // A reversal may land while a batch is in flight: a created statement is recorded as
      // submitted (it is in the database), anything else stays withdrawn.
      const notWithdrawn = `status <> 'withdrawn'`;
      if (outcome.kind === 'created') {
        for (const [index, row] of batch.entries()) {
          await tx.query(`UPDATE dsa_statements SET status = 'submitted', tdb_uuid = $2, submitted_at = $3, errors = NULL, last_error = NULL, next_attempt_at = NULL, ${release} WHERE id = $1`, [
            row.id, outcome.uuids[index], now,
          ]);
        }
        return batch.length;
      }
      if (outcome.kind === 'rejected') {
        // None of the batch was created: the refused ones keep their errors, the rest go again at once.
        for (const [index, row] of batch.entries()) {
          const errors = outcome.errors.get(index);
          if (errors) {
            await tx.query(`UPDATE dsa_statements SET status = 'rejected', errors = $2::jsonb, last_error = $3, next_attempt_at = NULL, ${release} WHERE id = $1 AND ${notWithdrawn}`, [
              row.id, JSON.stringify(errors), String(outcome.status),
            ]);
          } else {
            await tx.query(`UPDATE dsa_statements SET status = 'pending', next_attempt_at = $2, ${release} WHERE id = $1 AND ${notWithdrawn}`, [row.id, now]);
          }
        }
        if (outcome.errors.size === 0) {
          // An unattributed refusal: wait and try again rather than loop.
          for (const row of batch) await tx.query(`UPDATE dsa_statements SET status = 'retrying', last_error = '422', next_attempt_at = $2 WHERE id = $1 AND ${notWithdrawn}`, [row.id, this.backoff(row.attempts)]);
        }
        return 0;
      }
      for (const row of batch) {
        await tx.query(`UPDATE dsa_statements SET status = 'retrying', last_error = $2, next_attempt_at = $3, ${release} WHERE id = $1 AND ${notWithdrawn}`, [
          row.id, outcome.error, this.backoff(row.attempts, outcome.kind === 'retry' ? outcome.retryAfterMs : undefined),
        ]);
      }
      return 0;
    });
  }
}

/** The puids among these item ids that statements already carry. */
async function puidsTaken(tx: SqlClient, itemIds: string[]): Promise<Set<string>> {
  const taken = await tx.query<{ puid: string }>('SELECT puid FROM dsa_statements WHERE puid = ANY($1::text[])', [[...new Set(itemIds)]]);
  return new Set(taken.rows.map((row) => row.puid));
}

/**
 * The puid is the item's own id (content id or account id); the database wants it unique per
 * statement, so a later statement about the same item carries its decision id as well.
 */
class PuidChooser {
  constructor(private readonly taken: Set<string>) {}

  choose(itemId: string, decisionId: number): string {
    if (this.taken.has(itemId)) return `${itemId}-decision-${decisionId}`;
    this.taken.add(itemId);
    return itemId;
  }
}
