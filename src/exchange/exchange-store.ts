import type { SqlClient } from '../store/sql.ts';
import type { ExchangeCheckpoint } from './exchange.ts';

/** An exchange as configured: which type, which bank it feeds, its (secret-free) configuration. */
export interface ExchangeRecord {
  id: number;
  name: string;
  type: string;
  bankId: number;
  bankName: string;
  config: Record<string, unknown>;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Where an exchange's fetch got to and how its last attempts went. */
export interface FetchState {
  checkpoint: ExchangeCheckpoint | null;
  progressAt: Date | null;
  lastSuccessAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  itemsFetched: number;
  consecutiveFailures: number;
  nextAttemptAt: Date | null;
  stopped: boolean;
  fullReadGeneration: number | null;
  generation: number;
  skipped: SkippedItem[];
  skippedTotal: number;
}

export interface SkippedItem {
  item: string;
  reason: string;
  at: string;
}

export interface ExchangeWithState extends ExchangeRecord {
  state: FetchState;
}

interface Row {
  id: number;
  name: string;
  type: string;
  bank_id: number;
  bank_name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  checkpoint: ExchangeCheckpoint | null;
  progress_at: Date | null;
  last_success_at: Date | null;
  last_attempt_at: Date | null;
  last_error: string | null;
  items_fetched: string | number;
  consecutive_failures: number;
  next_attempt_at: Date | null;
  stopped: boolean;
  full_read_generation: string | number | null;
  generation: string | number;
  skipped: SkippedItem[];
  skipped_total: string | number;
}

const SELECT = `
  SELECT x.id, x.name, x.type, x.bank_id, b.name AS bank_name, x.config, x.enabled, x.created_at, x.updated_at,
         s.checkpoint, s.progress_at, s.last_success_at, s.last_attempt_at, s.last_error, s.items_fetched,
         s.consecutive_failures, s.next_attempt_at, s.stopped, s.full_read_generation, s.generation, s.skipped, s.skipped_total
  FROM exchanges x JOIN banks b ON b.id = x.bank_id JOIN exchange_fetch_state s ON s.exchange_id = x.id`;

const toExchange = (row: Row): ExchangeWithState => ({
  id: row.id,
  name: row.name,
  type: row.type,
  bankId: row.bank_id,
  bankName: row.bank_name,
  config: row.config,
  enabled: row.enabled,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  state: {
    checkpoint: row.checkpoint,
    progressAt: row.progress_at,
    lastSuccessAt: row.last_success_at,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    itemsFetched: Number(row.items_fetched),
    consecutiveFailures: row.consecutive_failures,
    nextAttemptAt: row.next_attempt_at,
    stopped: row.stopped,
    fullReadGeneration: row.full_read_generation === null ? null : Number(row.full_read_generation),
    generation: Number(row.generation),
    skipped: row.skipped,
    skippedTotal: Number(row.skipped_total),
  },
});

/** The most skipped items a status keeps by name; the total counts them all. */
export const SKIPPED_KEPT = 100;

/** Reads and writes exchanges and their fetch state; no rules of its own beyond the SQL. */
export class ExchangeStore {
  constructor(private readonly sql: SqlClient) {}

  async list(client: SqlClient = this.sql): Promise<ExchangeWithState[]> {
    return (await client.query<Row>(`${SELECT} ORDER BY x.name`)).rows.map(toExchange);
  }

  async find(name: string, client: SqlClient = this.sql, lock = false): Promise<ExchangeWithState | undefined> {
    const result = await client.query<Row>(`${SELECT} WHERE x.name = $1${lock ? ' FOR UPDATE OF s' : ''}`, [name]);
    return result.rows[0] ? toExchange(result.rows[0]) : undefined;
  }

  async insert(tx: SqlClient, exchange: { name: string; type: string; bankId: number; config: Record<string, unknown>; enabled: boolean }): Promise<number> {
    const inserted = await tx.query<{ id: number }>(
      'INSERT INTO exchanges (name, type, bank_id, config, enabled) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id',
      [exchange.name, exchange.type, exchange.bankId, JSON.stringify(exchange.config), exchange.enabled],
    );
    if (inserted.rows.length === 0) return 0;
    await tx.query('INSERT INTO exchange_fetch_state (exchange_id) VALUES ($1)', [inserted.rows[0].id]);
    return inserted.rows[0].id;
  }

  /** A changed configuration or a re-enabled exchange gets a fresh start: its stop is lifted and it is due at once. */
  async update(id: number, changes: { enabled?: boolean; config?: Record<string, unknown> }): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('UPDATE exchanges SET enabled = coalesce($2, enabled), config = coalesce($3::jsonb, config), updated_at = now() WHERE id = $1', [
        id,
        changes.enabled ?? null,
        changes.config ? JSON.stringify(changes.config) : null,
      ]);
      await tx.query('UPDATE exchange_fetch_state SET stopped = false, consecutive_failures = 0, next_attempt_at = NULL WHERE exchange_id = $1', [id]);
    });
  }

  /** Takes the exchange's lease for `owner` until `until`, unless another owner holds one that has not run out. */
  async claim(id: number, owner: string, now: Date, until: Date): Promise<boolean> {
    const claimed = await this.sql.query(
      `UPDATE exchange_fetch_state SET lease_owner = $2, lease_until = $4
       WHERE exchange_id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $3) RETURNING exchange_id`,
      [id, owner, now, until],
    );
    return claimed.rows.length > 0;
  }

  /** Renews the lease inside a page's transaction; false when another process has taken it over. */
  async renew(tx: SqlClient, id: number, owner: string, until: Date): Promise<boolean> {
    const renewed = await tx.query('UPDATE exchange_fetch_state SET lease_until = $3 WHERE exchange_id = $1 AND lease_owner = $2 RETURNING exchange_id', [id, owner, until]);
    return renewed.rows.length > 0;
  }

  async release(id: number, owner: string): Promise<void> {
    await this.sql.query('UPDATE exchange_fetch_state SET lease_owner = NULL, lease_until = NULL WHERE exchange_id = $1 AND lease_owner = $2', [id, owner]);
  }

  async recordAttempt(id: number, at: Date): Promise<void> {
    await this.sql.query('UPDATE exchange_fetch_state SET last_attempt_at = $2 WHERE exchange_id = $1', [id, at]);
  }

  async recordFailure(id: number, failure: { message: string; stop: boolean; nextAttemptAt: Date | null }): Promise<void> {
    await this.sql.query(
      `UPDATE exchange_fetch_state SET last_error = $2, stopped = $3, consecutive_failures = consecutive_failures + 1, next_attempt_at = $4
       WHERE exchange_id = $1`,
      [id, failure.message.slice(0, 2000), failure.stop, failure.nextAttemptAt],
    );
  }

  /** Starts a whole read of the source in the caller's transaction; `fromScratch` forgets the checkpoint (a stale one). */
  async startFullRead(tx: SqlClient, id: number, fromScratch: boolean): Promise<number> {
    const result = await tx.query<{ generation: string | number }>(
      `UPDATE exchange_fetch_state SET generation = generation + 1, full_read_generation = generation + 1,
         checkpoint = CASE WHEN $2 THEN NULL ELSE checkpoint END, progress_at = CASE WHEN $2 THEN NULL ELSE progress_at END
       WHERE exchange_id = $1 RETURNING generation`,
      [id, fromScratch],
    );
    return Number(result.rows[0].generation);
  }

  async saveCheckpoint(tx: SqlClient, id: number, page: { checkpoint: ExchangeCheckpoint; progressAt: Date | null; items: number; skipped: SkippedItem[] }): Promise<void> {
    await tx.query(
      `UPDATE exchange_fetch_state SET checkpoint = $2, progress_at = $3, items_fetched = items_fetched + $4,
         skipped = CASE WHEN jsonb_array_length($5::jsonb) = 0 THEN skipped
                        ELSE (SELECT coalesce(jsonb_agg(value ORDER BY ord), '[]') FROM (
                                SELECT value, ord FROM jsonb_array_elements(skipped || $5::jsonb) WITH ORDINALITY AS e(value, ord)
                                ORDER BY ord DESC LIMIT ${SKIPPED_KEPT}) kept) END,
         skipped_total = skipped_total + jsonb_array_length($5::jsonb)
       WHERE exchange_id = $1`,
      [id, JSON.stringify(page.checkpoint), page.progressAt, page.items, JSON.stringify(page.skipped)],
    );
  }

  async recordSuccess(tx: SqlClient, id: number, at: Date, nextAttemptAt: Date): Promise<void> {
    await tx.query(
      `UPDATE exchange_fetch_state SET last_success_at = $2, last_error = NULL, stopped = false, consecutive_failures = 0,
         next_attempt_at = $3, full_read_generation = NULL WHERE exchange_id = $1`,
      [id, at, nextAttemptAt],
    );
  }
}
