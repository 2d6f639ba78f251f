import { ForegroundLoad } from './foreground-load.ts';
import { OUTBOX_WRITER_LOCK_CLASS, OUTBOX_WRITER_LOCK_KEY, type SqlClient } from '../store/sql.ts';

/**
 * Where an event stands in the outbox's read order: the id of the transaction that wrote it,
 * then its sequence number. `txId` is PostgreSQL's 64-bit xid8, kept as decimal text.
 */
export interface OutboxPosition {
  txId: string;
  seq: number;
}

export const OUTBOX_START: OutboxPosition = { txId: '0', seq: 0 };

export interface DomainEvent<Payload = unknown> {
  seq: number;
  type: string;
  /** What the event is about, e.g. "content:abc123"; lets consumers partition. */
  subject: string;
  payload: Payload;
  occurredAt: Date;
  /** Its place in the read order; absent on events not read from the store. */
  position?: OutboxPosition;
}

export type EventListener = (event: DomainEvent) => void;

export interface OutboxPage {
  events: DomainEvent[];
  /** Where the next read starts: past every event returned, and past the settled horizon when the page was not full. */
  next: OutboxPosition;
  /**
   * Events of the requested types are committed but not yet readable, because an older
   * transaction is still running; reading again once it ends returns them.
   */
  heldBack: boolean;
}

/** The columns of an events row as eventFromRow() reads them, for a RETURNING clause. */
export const EVENT_COLUMNS = 'seq, type, subject, payload, occurred_at, tx_id::text AS tx_id';

/** An events row as read back (tx_id as text). */
export interface EventRow {
  seq: number;
  type: string;
  subject: string;
  payload: unknown;
  occurred_at: Date;
  tx_id: string;
}

/** The event columns writeAndAppend adds to the written row (null when no event was appended). */
interface AppendedEventColumns {
  appended_seq: number | null;
  appended_type: string | null;
  appended_subject: string | null;
  appended_payload: unknown;
  appended_occurred_at: Date | null;
  appended_tx_id: string | null;
}

export const eventFromRow = (row: EventRow): DomainEvent => ({
  seq: Number(row.seq),
  type: row.type,
  subject: row.subject,
  payload: row.payload,
  occurredAt: row.occurred_at,
  position: { txId: row.tx_id, seq: Number(row.seq) },
});

/** "txid-seq", the outbox cursor as the HTTP API and CLI show it. */
export const formatPosition = (position: OutboxPosition): string => `${position.txId}-${position.seq}`;

export function parsePosition(text: string): OutboxPosition | undefined {
  const match = /^(\d{1,20})-(\d{1,16})$/.exec(text);
  return match ? { txId: BigInt(match[1]).toString(), seq: Number(match[2]) } : undefined;
}

export function comparePositions(a: OutboxPosition, b: OutboxPosition): number {
  const tx = BigInt(a.txId) - BigInt(b.txId);
  return tx !== 0n ? (tx < 0n ? -1 : 1) : a.seq - b.seq;
}

/**
 * The pipeline's outbox. An event is written in the same transaction as the state change
 * it describes, so it exists exactly when the change does; later stages read it in outbox
 * order (and resume from the last position they handled), and in-process listeners hear it
 * right after commit.
 *
 * Outbox order is (writing transaction id, sequence), and a read returns only events of
 * transactions older than the oldest running one that may append (horizon()). Every such
 * transaction that may yet commit has an id at or above that horizon, so nothing can later
 * appear behind a reader's position, and no writer waits for another or for a reader.
 */
export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private readonly consumers = new Map<string, string[]>();

  /**
   * @param foreground how busy the request path is; consumers give way to it between batches.
   */
  constructor(
    private readonly sql: SqlClient,
    readonly foreground: ForegroundLoad = new ForegroundLoad({ share: 1 }),
  ) {}

  async append(tx: SqlClient, type: string, subject: string, payload: unknown): Promise<DomainEvent> {
    if (!tx.mayWriteEvents) throw new Error(`${type} appended outside a transaction that holds the outbox writer lock`);
    const result = await tx.query<EventRow>(
      `INSERT INTO events (type, subject, payload) VALUES ($1, $2, $3::jsonb)
       RETURNING ${EVENT_COLUMNS}`,
      [type, subject, JSON.stringify(payload)],
    );
    return eventFromRow(result.rows[0]);
  }

  /** append() for several events in one statement, in the order given. */
  async appendMany(tx: SqlClient, events: { type: string; subject: string; payload: unknown }[]): Promise<DomainEvent[]> {
    if (events.length === 0) return [];
    if (!tx.mayWriteEvents) throw new Error(`${events[0].type} appended outside a transaction that holds the outbox writer lock`);
    // Sequence numbers are drawn in the order rows are inserted, so the i-th smallest is the i-th event's.
    const result = await tx.query<EventRow>(
      `WITH appended AS (
         INSERT INTO events (type, subject, payload)
         SELECT e.type, e.subject, coalesce(e.payload, 'null'::jsonb) FROM jsonb_to_recordset($1::jsonb) AS e(n int, type text, subject text, payload jsonb) ORDER BY e.n
         RETURNING ${EVENT_COLUMNS}
       )
       SELECT * FROM appended ORDER BY seq`,
      [JSON.stringify(events.map((event, n) => ({ n, type: event.type, subject: event.subject, payload: event.payload })))],
    );
    return result.rows.map(eventFromRow);
  }

  /**
   * Makes a write and appends the event that records it in one statement, for hot paths where
   * a second round trip costs throughput (a matched upload, issue 11). `write.ctes` are the
   * statement's WITH clauses; `write.from` names the one that yields the written row (at most
   * one): the event is appended only when it yields one, and only when `event` is given.
   * Parameters of the event follow `write.params`.
   */
  async writeAndAppend<Row extends object>(
    tx: SqlClient,
    write: { ctes: string; from: string; params: unknown[] },
    event: { type: string; subject: string; payload: unknown } | undefined,
  ): Promise<{ row: Row | undefined; event: DomainEvent | undefined }> {
    if (event && !tx.mayWriteEvents) throw new Error(`${event.type} appended outside a transaction that holds the outbox writer lock`);
    const n = write.params.length;
    const result = await tx.query<Row & AppendedEventColumns>(
      `WITH ${write.ctes},
       appended AS (
         INSERT INTO events (type, subject, payload) SELECT $${n + 1}, $${n + 2}, $${n + 3}::jsonb FROM ${write.from} WHERE $${n + 1}::text IS NOT NULL
         RETURNING ${EVENT_COLUMNS}
       )
       SELECT w.*, a.seq AS appended_seq, a.type AS appended_type, a.subject AS appended_subject, a.payload AS appended_payload,
         a.occurred_at AS appended_occurred_at, a.tx_id AS appended_tx_id
       FROM ${write.from} w LEFT JOIN appended a ON true`,
      [...write.params, event?.type ?? null, event?.subject ?? null, event ? JSON.stringify(event.payload) : null],
    );
    if (result.rows.length > 1) throw new Error(`writeAndAppend: ${write.from} yielded ${result.rows.length} rows, at most one expected`);
    const found = result.rows[0];
    if (!found) return { row: undefined, event: undefined };
    const { appended_seq, appended_type, appended_subject, appended_payload, appended_occurred_at, appended_tx_id, ...row } = found;
    const appended = appended_seq === null
      ? undefined
      : eventFromRow({ seq: appended_seq, type: appended_type!, subject: appended_subject!, payload: appended_payload, occurred_at: appended_occurred_at!, tx_id: appended_tx_id! });
    return { row: row as unknown as Row, event: appended };
  }

  /** Tells in-process listeners about events whose transaction has committed. */
  published(events: DomainEvent[]): void {
    for (const event of events) for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads committed events after a position, in outbox order. */
  async readPage(options: { after?: OutboxPosition; limit?: number; types?: string[] } = {}, client: SqlClient = this.sql): Promise<OutboxPage> {
    const after = options.after ?? OUTBOX_START;
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const types = options.types ?? null;
    // PGlite runs one transaction at a time: whatever a reader sees has committed, and nothing
    // can commit behind it, so there is no horizon to wait for (and one query per read).
    const serial = client.driver === 'pglite';
    const horizon = serial ? null : await this.horizon(client);
    const result = await client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (tx_id, seq) > ($1::xid8, $2::bigint) AND ($3::xid8 IS NULL OR tx_id < $3::xid8) AND ($4::text[] IS NULL OR type = ANY($4::text[]))
       ORDER BY events.tx_id, events.seq LIMIT $5`,
      [after.txId, after.seq, horizon, types, limit],
    );
    const events = result.rows.map(eventFromRow);
    const last = events.length > 0 ? events[events.length - 1].position! : after;
    if (events.length === limit || horizon === null) return { events, next: last, heldBack: false };
    // Nothing of these types is left below the horizon: the next read may start at it.
    const settled: OutboxPosition = { txId: horizon, seq: 0 };
    const next = comparePositions(settled, last) > 0 ? settled : last;
    const waiting = await client.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM events WHERE (tx_id, seq) > ($1::xid8, $2::bigint) AND ($3::text[] IS NULL OR type = ANY($3::text[]))) AS held`,
      [next.txId, next.seq, types],
    );
    return { events, next, heldBack: waiting.rows[0].held };
  }

  /**
   * The oldest transaction id whose events may still appear. On PostgreSQL: the oldest
   * running transaction that holds the outbox writer lock (every transaction that may append
   * takes it before it has an id), or the next id to be assigned. Transactions that never
   * append (bank imports, other applications on the server) hold nobody back. Read in its own
   * statement before the events are: a writer that ends in between is then already visible.
   */
  private async horizon(client: SqlClient): Promise<string> {
    const result = await client.query<{ horizon: string }>(
      `WITH snap AS (SELECT pg_current_snapshot() AS s),
       writers AS (
         SELECT pid FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND classid = ${OUTBOX_WRITER_LOCK_CLASS} AND objid = (${OUTBOX_WRITER_LOCK_KEY})::oid AND objsubid = 2
       ),
       writer_xids AS (
         SELECT transactionid::text AS xid32 FROM pg_locks WHERE locktype = 'transactionid' AND pid IN (SELECT pid FROM writers)
       )
       SELECT COALESCE(
         (SELECT x FROM snap, pg_snapshot_xip(snap.s) AS x WHERE (x::text::numeric % 4294967296)::text IN (SELECT xid32 FROM writer_xids) ORDER BY x LIMIT 1),
         (SELECT pg_snapshot_xmax(s) FROM snap)
       )::text AS horizon`,
    );
    return result.rows[0].horizon;
  }

  /** The events of readPage, for callers that page by the last event they saw. */
  async read(options: { after?: OutboxPosition; limit?: number; types?: string[] } = {}, client: SqlClient = this.sql): Promise<DomainEvent[]> {
    return (await this.readPage(options, client)).events;
  }

  /** The end of the outbox as of now: a reader starting here sees only events committed later. */
  async end(client: SqlClient = this.sql): Promise<OutboxPosition> {
    const horizon: OutboxPosition = client.driver === 'pglite' ? OUTBOX_START : { txId: await this.horizon(client), seq: 0 };
    const last = await client.query<{ tx_id: string; seq: number }>('SELECT tx_id::text AS tx_id, seq FROM events ORDER BY events.tx_id DESC, events.seq DESC LIMIT 1');
    const row = last.rows[0];
    const newest = row ? { txId: row.tx_id, seq: Number(row.seq) } : OUTBOX_START;
    return comparePositions(newest, horizon) > 0 ? newest : horizon;
  }

  /** The position of the event with this sequence number: lets a reader that kept only a seq resume exactly there. */
  async positionOf(seq: number, client: SqlClient = this.sql): Promise<OutboxPosition | undefined> {
    const result = await client.query<{ tx_id: string }>('SELECT tx_id::text AS tx_id FROM events WHERE seq = $1', [seq]);
    return result.rows[0] ? { txId: result.rows[0].tx_id, seq } : undefined;
  }

  /** Records which event types a named consumer reads, so that status() can say how far behind it is. */
  registerConsumer(name: string, types: string[]): void {
    this.consumers.set(name, types);
  }

  /** Each consumer known to this process: its position and how many committed events of its types lie past it. */
  async status(client: SqlClient = this.sql): Promise<{ name: string; position: OutboxPosition; behind: number }[]> {
    const out: { name: string; position: OutboxPosition; behind: number }[] = [];
    for (const name of this.consumers.keys()) out.push({ name, ...(await this.consumerStatus(name, client)) });
    return out;
  }

  /** One registered consumer's position and how many events of its types lie after it. */
  async consumerStatus(name: string, client: SqlClient = this.sql): Promise<{ position: OutboxPosition; behind: number }> {
    const result = await client.query<{ tx_id: string | null; seq: number | null; behind: number }>(
      `SELECT o.tx_id::text AS tx_id, o.seq, (
         SELECT count(*) FROM events e
         WHERE (e.tx_id, e.seq) > (COALESCE(o.tx_id, '0'::xid8), COALESCE(o.seq, 0)) AND e.type = ANY($2::text[])
       ) AS behind
       FROM (SELECT 1) one LEFT JOIN consumer_offsets o ON o.consumer = $1`,
      [name, this.consumers.get(name) ?? []],
    );
    const row = result.rows[0];
    return { position: { txId: row.tx_id ?? '0', seq: Number(row.seq ?? 0) }, behind: Number(row.behind) };
  }

}
