import type { SqlClient } from '../store/sql.ts';

export interface DomainEvent<Payload = unknown> {
  seq: number;
  type: string;
  /** What the event is about, e.g. "content:abc123"; lets consumers partition. */
  subject: string;
  payload: Payload;
  occurredAt: Date;
}

export type EventListener = (event: DomainEvent) => void;

interface EventRow {
  seq: number;
  type: string;
  subject: string;
  payload: unknown;
  occurred_at: Date;
}

const toEvent = (row: EventRow): DomainEvent => ({
  seq: row.seq,
  type: row.type,
  subject: row.subject,
  payload: row.payload,
  occurredAt: row.occurred_at,
});

/**
 * The pipeline's outbox. An event is written in the same transaction as the state change
 * it describes, so it exists exactly when the change does; later stages read it by
 * sequence number (and resume from the last one they handled), and in-process listeners
 * hear it right after commit.
 */
export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private readonly lockedTransactions = new WeakSet<SqlClient>();

  constructor(private readonly sql: SqlClient) {}

  async append(tx: SqlClient, type: string, subject: string, payload: unknown): Promise<DomainEvent> {
    // Sequence numbers are taken at insert but become visible at commit; holding this lock
    // to commit makes them visible in order, so a reader that has seen seq n never later
    // finds a committed event below n.
    if (tx.driver === 'postgres' && !this.lockedTransactions.has(tx)) {
      await tx.query('SELECT pg_advisory_xact_lock(7262389002)');
      // Held to the end of the transaction: later appends in it need not ask again.
      this.lockedTransactions.add(tx);
    }
    const result = await tx.query<EventRow>(
      'INSERT INTO events (type, subject, payload) VALUES ($1, $2, $3::jsonb) RETURNING seq, type, subject, payload, occurred_at',
      [type, subject, JSON.stringify(payload)],
    );
    return toEvent(result.rows[0]);
  }

  /** Tells in-process listeners about events whose transaction has committed. */
  published(events: DomainEvent[]): void {
    for (const event of events) for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async read(options: { afterSeq?: number; limit?: number; types?: string[] } = {}, client: SqlClient = this.sql): Promise<DomainEvent[]> {
    const result = await client.query<EventRow>(
      `SELECT seq, type, subject, payload, occurred_at FROM events
       WHERE seq > $1 AND ($2::text[] IS NULL OR type = ANY($2::text[])) ORDER BY seq LIMIT $3`,
      [options.afterSeq ?? 0, options.types ?? null, Math.min(Math.max(options.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toEvent);
  }
}
