import { type DomainEvent, type EventLog, type EventRow, EVENT_COLUMNS, eventFromRow } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { AuditKeyring } from './audit-keys.ts';
import { CHAIN_KEYED_ACTION, keyedMac, NOW_TEXT, unkeyedHash } from './chain.ts';
import type { ParsedCheckpoint } from './checkpoints.ts';
import { type AuditReport, type ChainStart, verifyChain } from './verify.ts';

export interface AuditEntry {
  seq: number;
  at: Date;
  /** A reviewer's username, `rule:<id>`, `api-key:<name>` or `system`. */
  actor: string;
  /** What was done, e.g. `case.decided`, `media.revealed`, `reviewer.login_failed`. */
  action: string;
  /** What it was done to, e.g. `case:12`. */
  subject: string;
  /** Ids and reasons only: never media, never reported personal data. */
  detail: Record<string, unknown>;
  prevHash: string;
  /** The link: an HMAC-SHA256 under the key named by keyId, or a plain SHA-256 when keyId is null. */
  hash: string;
  keyId: string | null;
}

export interface AuditRecord {
  actor: string;
  action: string;
  subject: string;
  detail?: Record<string, unknown>;
}

interface AuditRow {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  seq: Number(row.seq),
  at: row.at,
  actor: row.actor,
  action: row.action,
  subject: row.subject,
  detail: row.detail,
  prevHash: row.prev_hash,
  hash: row.hash,
  keyId: row.key_id,
});

const COLUMNS = 'seq, at, actor, action, subject, detail, prev_hash, hash, key_id';

/** The newest entry's link, as the next entry chains onto it. */
interface ChainHead {
  /** The entry's sequence number and time (µs since the epoch, and when this process read or made it), once this transaction wrote it. */
  written?: { seq: number; atMicros: number; madeAt: number };
  hash: string;
  keyId: string | null;
  /** No entry yet: the first one chains onto the empty string. */
  empty: boolean;
}

interface EventToAppend {
  events: EventLog;
  event: { type: string; subject: string; payload: unknown };
}

interface NextLink {
  seq: number;
  at: string;
  /** Chosen by this transaction rather than drawn from the sequence. */
  chosen?: boolean;
}

/**
 * The link after an entry this transaction wrote, without a round trip (a matched upload's
 * pipeline writes two entries per event in one transaction, issue 11). The transaction holds
 * the chain's lock (PGlite: runs alone), so no other writer draws a number meanwhile: the next
 * number is free, and the insert moves the sequence past it. The time is the store's clock as
 * read for the transaction's first entry, advanced by this process's monotonic clock, and
 * never earlier than the entry before.
 */
function followingLink(previous: { seq: number; atMicros: number; madeAt: number }): NextLink {
  const elapsed = Math.round((performance.now() - previous.madeAt) * 1000);
  return { seq: previous.seq + 1, at: textOfMicros(previous.atMicros + Math.max(elapsed, 1)), chosen: true };
}

/** "YYYY-MM-DDTHH:MM:SS.ffffffZ" (NOW_TEXT's rendering) as microseconds since the epoch. */
function microsOf(text: string): number {
  const seconds = Date.parse(`${text.slice(0, 19)}Z`);
  return seconds * 1000 + Number(text.slice(20, 26));
}

function textOfMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(micros - seconds * 1_000_000).padStart(6, '0')}Z`;
}

export interface AuditVerification {
  entries: number;
  /** The first entry whose link does not match, when the chain is broken. */
  brokenAt?: number;
}

/**
 * The append-only record of who decided and did what. The database refuses updates and
 * deletes of its rows; the chain makes a change made around the database visible. With an
 * audit key (BULWARK_AUDIT_KEY) each link is an HMAC under it, so whoever can write the
 * database but lacks the key cannot rewrite the chain; signed checkpoints kept elsewhere
 * (checkpointer.ts) catch what a chain alone cannot: its newest entries cut off.
 */
export class AuditLog {
  /**
   * The chain's head as each open transaction last wrote it. A transaction that has appended
   * holds the chain's lock until it ends (PGlite runs one transaction at a time), so no one
   * else can move the head meanwhile: its next entry needs no read of it (a matched upload's
   * pipeline writes two entries in one transaction, issue 11).
   */
  private readonly headOf = new WeakMap<SqlClient, ChainHead>();

  constructor(
    private readonly sql: SqlClient,
    readonly keys: AuditKeyring = new AuditKeyring(),
  ) {}

  /** Appends inside the caller's transaction, so the entry exists exactly when the change does. */
  async append(tx: SqlClient, record: AuditRecord): Promise<AuditEntry> {
    return (await this.appendWith(tx, record, undefined)).entry;
  }

  /**
   * Appends an entry and the outbox event of the same change in one statement: a rule firing
   * writes two such pairs per matched upload (issue 11).
   */
  async appendWithEvent(tx: SqlClient, record: AuditRecord, events: EventLog, event: { type: string; subject: string; payload: unknown }): Promise<{ entry: AuditEntry; event: DomainEvent }> {
    const written = await this.appendWith(tx, record, { events, event });
    return { entry: written.entry, event: written.event! };
  }

  /**
   * appendWithEvent for many changes in one statement, chained in the order given: a rule
   * runner handling a batch of events writes two such pairs per firing (issue 11). The first
   * entry of a transaction reads the chain's head (and marks a change of key) as append() does;
   * the rest follow it without a round trip each.
   */
  async appendManyWithEvents(tx: SqlClient, events: EventLog, items: { record: AuditRecord; event: { type: string; subject: string; payload: unknown } }[]): Promise<{ entry: AuditEntry; event: DomainEvent }[]> {
    const written: { entry: AuditEntry; event: DomainEvent }[] = [];
    let rest = items;
    const key = this.keys.current;
    const follows = () => {
      const head = this.headOf.get(tx);
      return head?.written !== undefined && head.keyId === (key?.id ?? null);
    };
    while (rest.length > 0 && !follows()) {
      written.push(await this.appendWithEvent(tx, rest[0].record, events, rest[0].event));
      rest = rest.slice(1);
    }
    if (rest.length === 0) return written;
    if (!tx.mayWriteEvents) throw new Error(`${rest[0].event.type} appended outside a transaction that holds the outbox writer lock`);
    const head = this.headOf.get(tx)!;
    let previous = head.written!;
    let prevHash = head.hash;
    const links = rest.map(({ record }) => {
      const next = followingLink(previous);
      const fields = { seq: next.seq, at: next.at, actor: record.actor, action: record.action, subject: record.subject, detail: record.detail ?? {}, prev: prevHash };
      const hash = key ? keyedMac(key.secret, key.id, fields) : unkeyedHash(fields);
      previous = { seq: next.seq, atMicros: microsOf(next.at), madeAt: performance.now() };
      const entry: AuditEntry = { seq: next.seq, at: new Date(Math.floor(previous.atMicros / 1000)), actor: record.actor, action: record.action, subject: record.subject, detail: fields.detail, prevHash, hash, keyId: key?.id ?? null };
      prevHash = hash;
      return { entry, at: next.at };
    });
    // The sequence moves past the numbers chosen here, as in insert(); events take theirs in the order given.
    const appended = await tx.query<EventRow>(
      `WITH drawn AS (SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), $1::bigint) AS top),
       entries AS (
         INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash, key_id) OVERRIDING SYSTEM VALUE
         SELECT r.seq, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash, r.hash, r.key_id
         FROM drawn, jsonb_to_recordset($2::jsonb) AS r(seq bigint, at timestamptz, actor text, action text, subject text, detail jsonb, prev_hash text, hash text, key_id text)
       ), appended AS (
         INSERT INTO events (type, subject, payload)
         SELECT e.type, e.subject, coalesce(e.payload, 'null'::jsonb) FROM jsonb_to_recordset($3::jsonb) AS e(n int, type text, subject text, payload jsonb) ORDER BY e.n
         RETURNING ${EVENT_COLUMNS}
       )
       SELECT * FROM appended ORDER BY seq`,
      [
        previous.seq,
        JSON.stringify(links.map(({ entry, at }) => ({ seq: entry.seq, at, actor: entry.actor, action: entry.action, subject: entry.subject, detail: entry.detail, prev_hash: entry.prevHash, hash: entry.hash, key_id: entry.keyId }))),
        JSON.stringify(rest.map(({ event }, n) => ({ n, type: event.type, subject: event.subject, payload: event.payload }))),
      ],
    );
    this.headOf.set(tx, { hash: prevHash, keyId: key?.id ?? null, empty: false, written: previous });
    if (appended.rows.length !== links.length) throw new Error(`audit: ${links.length} events appended, ${appended.rows.length} returned`);
    return [...written, ...links.map(({ entry }, i) => ({ entry, event: eventFromRow(appended.rows[i]) }))];
  }

  private async appendWith(tx: SqlClient, record: AuditRecord, withEvent: EventToAppend | undefined): Promise<{ entry: AuditEntry; event?: DomainEvent }> {
    const key = this.keys.current;
    let last = this.headOf.get(tx);
    let next: NextLink;
    if (last?.written) {
      next = followingLink(last.written);
    } else if (last) {
      next = await this.nextLink(tx);
    } else {
      // Entries are chained; one writer at a time keeps the chain a line, not a tree. The lock
      // is its own statement: a statement's snapshot is taken before it starts, so a head read
      // in the locking statement could miss an entry committed while it waited.
      if (tx.driver === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7262389003)');
      const read = await tx.query<{ hash: string | null; key_id: string | null; seq: number | string; at: string }>(
        `SELECT h.hash, h.key_id, nextval(pg_get_serial_sequence('audit_log', 'seq')) AS seq, ${NOW_TEXT} AS at
         FROM (SELECT 1) one LEFT JOIN (SELECT hash, key_id FROM audit_log ORDER BY seq DESC LIMIT 1) h ON true`,
      );
      const row = read.rows[0];
      last = row.hash === null ? { hash: '', keyId: null, empty: true } : { hash: row.hash, keyId: row.key_id, empty: false };
      next = { seq: Number(row.seq), at: row.at };
    }
    if (!key) {
      // Refuse rather than downgrade: an unkeyed entry after keyed ones would fail verification.
      if (last.keyId !== null) throw new Error(`the audit log is chained with audit key ${last.keyId}; set BULWARK_AUDIT_KEY to write to it`);
      return this.insert(tx, record, next, last.hash, undefined, withEvent);
    }
    let prevHash = last.hash;
    if (!last.empty && last.keyId === null) {
      // The first keyed entry after unkeyed ones marks the transition and counts what came before.
      const count = await tx.query<{ n: number | string }>('SELECT count(*) AS n FROM audit_log');
      const marker = await this.insert(tx, { actor: 'system', action: CHAIN_KEYED_ACTION, subject: 'audit-log', detail: { unkeyed_entries: Number(count.rows[0].n), key_id: key.id } }, next, prevHash, key, undefined);
      prevHash = marker.entry.hash;
      next = await this.nextLink(tx);
    }
    return this.insert(tx, record, next, prevHash, key, withEvent);
  }

  /** The sequence number and time of the next entry: the keyed link covers both. */
  private async nextLink(tx: SqlClient): Promise<NextLink> {
    // Microsecond precision, as PostgreSQL stores it, so verification recomputes the same text.
    const next = await tx.query<{ seq: number | string; at: string }>(`SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS seq, ${NOW_TEXT} AS at`);
    return { seq: Number(next.rows[0].seq), at: next.rows[0].at };
  }

  private async insert(
    tx: SqlClient,
    record: AuditRecord,
    next: NextLink,
    prevHash: string,
    key: { id: string; secret: Buffer } | undefined,
    withEvent: EventToAppend | undefined,
  ): Promise<{ entry: AuditEntry; event?: DomainEvent }> {
    const fields = { seq: next.seq, at: next.at, actor: record.actor, action: record.action, subject: record.subject, detail: record.detail ?? {}, prev: prevHash };
    const hash = key ? keyedMac(key.secret, key.id, fields) : unkeyedHash(fields);
    // A sequence number this transaction chose itself (followingLink) moves the sequence past
    // it in the same statement, so that a writer that draws from it later never collides.
    const ctes = `drawn AS (SELECT CASE WHEN $10 THEN setval(pg_get_serial_sequence('audit_log', 'seq'), $1::bigint) END AS seq),
       entry AS (
         INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash, key_id) OVERRIDING SYSTEM VALUE
         SELECT $1, $2::timestamptz, $3, $4, $5, $6::jsonb, $7, $8, $9 FROM drawn RETURNING ${COLUMNS}
       )`;
    const params = [fields.seq, fields.at, fields.actor, fields.action, fields.subject, JSON.stringify(fields.detail), prevHash, hash, key?.id ?? null, next.chosen === true];
    let row: AuditRow | undefined;
    let event: DomainEvent | undefined;
    if (withEvent) ({ row, event } = await withEvent.events.writeAndAppend<AuditRow>(tx, { ctes, from: 'entry', params }, withEvent.event));
    else row = (await tx.query<AuditRow>(`WITH ${ctes} SELECT * FROM entry`, params)).rows[0];
    this.headOf.set(tx, { hash, keyId: key?.id ?? null, empty: false, written: { seq: next.seq, atMicros: microsOf(next.at), madeAt: performance.now() } });
    return { entry: toEntry(row!), ...(event ? { event } : {}) };
  }

  /** Newest first; `before` pages backwards by sequence number. */
  async list(options: { limit?: number; before?: number; subject?: string } = {}): Promise<AuditEntry[]> {
    const result = await this.sql.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_log
       WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR subject = $2) ORDER BY seq DESC LIMIT $3`,
      [options.before ?? null, options.subject ?? null, Math.min(Math.max(options.limit ?? 50, 1), 500)],
    );
    return result.rows.map(toEntry);
  }

  /** Recomputes the chain from the first entry (no checkpoints: see check()). */
  async verify(): Promise<AuditVerification> {
    const report = await this.check();
    return report.failure ? { entries: report.entries, brokenAt: report.failure.seq ?? -1 } : { entries: report.entries };
  }

  /** The full verification: the chain, and each given checkpoint against it. */
  check(options: { checkpoints?: ParsedCheckpoint[]; from?: ChainStart } = {}): Promise<AuditReport> {
    return verifyChain(this.sql, this.keys, options);
  }
}
