import { createHash } from 'node:crypto';
import type { SqlClient } from '../store/sql.ts';

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
  hash: string;
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
});

/** Keys sorted at every level, so the same entry always hashes the same whatever built it. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const entryHash = (prevHash: string, at: string, record: Required<AuditRecord>) =>
  createHash('sha256').update(canonicalJson({ prev: prevHash, at, actor: record.actor, action: record.action, subject: record.subject, detail: record.detail })).digest('hex');

export interface AuditVerification {
  entries: number;
  /** The first entry whose hash or link does not match, when the chain is broken. */
  brokenAt?: number;
}

/**
 * The append-only record of who decided and did what. The database refuses updates and
 * deletes of its rows; the hash chain makes a change made around the database visible.
 */
export class AuditLog {
  /** Transactions that hold the chain's lock, which lasts until they end. */
  private readonly lockedTransactions = new WeakSet<SqlClient>();

  constructor(private readonly sql: SqlClient) {}

  /** Appends inside the caller's transaction, so the entry exists exactly when the change does. */
  async append(tx: SqlClient, record: AuditRecord): Promise<AuditEntry> {
    // Entries are chained; one writer at a time keeps the chain a line, not a tree.
    if (tx.driver === 'postgres' && !this.lockedTransactions.has(tx)) {
      await tx.query('SELECT pg_advisory_xact_lock(7262389003)');
      this.lockedTransactions.add(tx);
    }
    // Microsecond precision, as PostgreSQL stores it, so verification recomputes the same text.
    const head = await tx.query<{ prev_hash: string | null; at: string }>(
      `SELECT (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS prev_hash,
              to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
    );
    const prevHash = head.rows[0].prev_hash ?? '';
    const at = head.rows[0].at;
    const full = { actor: record.actor, action: record.action, subject: record.subject, detail: record.detail ?? {} };
    const hash = entryHash(prevHash, at, full);
    const inserted = await tx.query<AuditRow>(
      `INSERT INTO audit_log (at, actor, action, subject, detail, prev_hash, hash) VALUES ($1::timestamptz, $2, $3, $4, $5::jsonb, $6, $7)
       RETURNING seq, at, actor, action, subject, detail, prev_hash, hash`,
      [at, full.actor, full.action, full.subject, JSON.stringify(full.detail), prevHash, hash],
    );
    return toEntry(inserted.rows[0]);
  }

  /** Newest first; `before` pages backwards by sequence number. */
  async list(options: { limit?: number; before?: number; subject?: string } = {}): Promise<AuditEntry[]> {
    const result = await this.sql.query<AuditRow>(
      `SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log
       WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR subject = $2) ORDER BY seq DESC LIMIT $3`,
      [options.before ?? null, options.subject ?? null, Math.min(Math.max(options.limit ?? 50, 1), 500)],
    );
    return result.rows.map(toEntry);
  }

  /** Recomputes the chain from the first entry. */
  async verify(): Promise<AuditVerification> {
    let prevHash = '';
    let entries = 0;
    for (let after = 0; ; ) {
      const page = await this.sql.query<AuditRow & { at_text: string }>(
        `SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text, actor, action, subject, detail, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000`,
        [after],
      );
      if (page.rows.length === 0) return { entries };
      for (const row of page.rows) {
        const expected = entryHash(prevHash, row.at_text, { actor: row.actor, action: row.action, subject: row.subject, detail: row.detail });
        if (row.prev_hash !== prevHash || row.hash !== expected) return { entries, brokenAt: Number(row.seq) };
        prevHash = row.hash;
        entries++;
        after = Number(row.seq);
      }
    }
  }
}
