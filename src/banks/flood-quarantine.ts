import type { CaseService } from '../cases/case-service.ts';
import { BANK_ENTRY_QUEUE } from '../cases/queues.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { DEFAULT_FLOOD_LIMIT } from './bank-controls.ts';
import type { BankService } from './banks.ts';

export const BANK_ENTRY_QUARANTINED_EVENT = 'bank.entry_quarantined';
/** The reason a quarantined entry carries while it waits for review. */
export const FLOOD_REASON = 'flood';

const HOUR_MS = 3_600_000;

export interface FloodQuarantineOptions {
  /** Distinct uploads an entry may match in an hour, where its bank sets no flood_limit (BULWARK_FLOOD_LIMIT). */
  limit?: number;
  /** The clock that says which hour an upload falls in (tests inject their own). */
  now?: () => Date;
  /** Matches buffered before they are counted in the store at once. */
  flushAt?: number;
  /** How long a match waits in the buffer at most. */
  flushMs?: number;
}

/** An entry the guard took out of matching. */
export interface Quarantine {
  entryId: number;
  bank: string;
  uploads: number;
  limit: number;
  hour: Date;
  caseId: number;
}

interface Crossed {
  entry_id: number;
  uploads: number;
  bank_name: string;
  flood_limit: number;
  hour: Date;
}

/**
 * Counts a flush's (entry, upload, hour) triples ($1-$3) and returns the entries they take over
 * their limit ($4: the server's, where a bank sets none), with their bank.
 */
export const COUNT_MATCHES = `WITH pairs AS (
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS p(entry_id, content_id, hour)
   ), fresh AS (
     INSERT INTO bank_entry_hourly_uploads (entry_id, hour, content_id) SELECT entry_id, hour, content_id FROM pairs
     ON CONFLICT DO NOTHING RETURNING entry_id, hour
   ), added AS (
     SELECT entry_id, hour, count(*)::integer AS n FROM fresh GROUP BY entry_id, hour
   ), counted AS (
     INSERT INTO bank_entry_hourly_counts (entry_id, hour, uploads) SELECT entry_id, hour, n FROM added ORDER BY entry_id, hour
     ON CONFLICT (entry_id, hour) DO UPDATE SET uploads = bank_entry_hourly_counts.uploads + excluded.uploads
     RETURNING entry_id, hour, uploads
   )
   SELECT c.entry_id, c.uploads, c.hour, x.bank_name, x.flood_limit
   FROM counted c
   -- Each counted entry by its key: the planner cannot tell how few rows a CTE yields, and
   -- must never choose a join that reads the whole bank (millions of entries) on a flush.
   -- LIMIT 1 keeps it so: without it the planner pulls the subquery up into a plain join,
   -- and on a store without statistics (PGlite never analyzes) it scanned every entry of
   -- the bank once per counted entry, 1.8 s a flush at 20k entries with the store held.
   CROSS JOIN LATERAL (
     SELECT b.name AS bank_name, coalesce(b.flood_limit, $4) AS flood_limit FROM bank_entries e JOIN banks b ON b.id = e.bank_id
     WHERE e.id = c.entry_id AND b.kind = 'block' AND NOT e.flood_exempt AND e.disabled_until IS NULL
     LIMIT 1
   ) x
   WHERE c.uploads > x.flood_limit
   ORDER BY c.entry_id`;

/**
 * Flood quarantine: an entry of a block bank that matches more distinct uploads in one clock
 * hour than the limit (its bank's flood_limit, else the server's) is disabled until reviewed,
 * and a case about it is opened in the bank-entries queue, so that a bad list entry (a meme,
 * a logo) cannot remove content wholesale. Counting is in the store, so every process adds to
 * the same count: the uploads of each entry and hour are kept once each (a repeat of one
 * upload counts once), beside a counter raised by an upsert. A flush that finds an entry over
 * its limit and still enabled disables it under the entry's row lock; whoever finds it already
 * disabled (another process was first) opens no second case. Matches are buffered and counted in
 * one statement per flush, off the upload's path; a flood is stopped within one flush.
 */
export class FloodQuarantine {
  private pending = new Map<string, { entryId: number; contentId: string; hour: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<Quarantine[]> = Promise.resolve([]);
  private purgedHour = 0;
  private readonly limit: number;
  private readonly now: () => Date;
  private readonly flushAt: number;
  private readonly flushMs: number;
  /** The last failure of a background flush, for status. */
  lastError: string | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly banks: BankService,
    private readonly cases: CaseService,
    private readonly events: EventLog,
    options: FloodQuarantineOptions = {},
  ) {
    this.limit = options.limit ?? DEFAULT_FLOOD_LIMIT;
    this.now = options.now ?? (() => new Date());
    this.flushAt = options.flushAt ?? 256;
    this.flushMs = options.flushMs ?? 200;
  }

  /** Notes the entries a new upload matched; counted in the background. */
  record(contentId: string, matches: { entryId: number }[]): void {
    const hour = Math.floor(this.now().getTime() / HOUR_MS) * HOUR_MS;
    for (const { entryId } of matches) this.pending.set(`${entryId}\u0000${contentId}\u0000${hour}`, { entryId, contentId, hour });
    if (this.pending.size >= this.flushAt) void this.flushInBackground();
    else if (!this.timer && this.pending.size > 0) {
      this.timer = setTimeout(() => void this.flushInBackground(), this.flushMs);
      this.timer.unref();
    }
  }

  private async flushInBackground(): Promise<void> {
    try {
      await this.flush();
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      process.stderr.write(`flood quarantine: counting matches failed: ${this.lastError}\n`);
    }
  }

  /** Counts what is buffered now and quarantines the entries it takes over their limit; one flush at a time. */
  flush(): Promise<Quarantine[]> {
    const run = this.flushing.catch(() => []).then(() => this.flushPending());
    this.flushing = run;
    return run;
  }

  private async flushPending(): Promise<Quarantine[]> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()].sort((a, b) => a.entryId - b.entryId || a.hour - b.hour);
    this.pending = new Map();
    if (batch.length === 0) return [];
    await this.purgeOldHours(batch[batch.length - 1].hour);
    // Rows are taken in entry order, so two processes upserting the same counters never deadlock.
    const crossed = await this.sql.query<Crossed>(
      COUNT_MATCHES,
      [batch.map((pair) => pair.entryId), batch.map((pair) => pair.contentId), batch.map((pair) => new Date(pair.hour)), this.limit],
    );
    const quarantined: Quarantine[] = [];
    for (const row of crossed.rows) {
      const done = await this.quarantine(row);
      if (done) quarantined.push(done);
    }
    return quarantined;
  }

  /** Counts of hours before the last are of no more use. */
  private async purgeOldHours(hour: number): Promise<void> {
    if (hour <= this.purgedHour) return;
    this.purgedHour = hour;
    const before = new Date(hour - HOUR_MS);
    await this.sql.query('DELETE FROM bank_entry_hourly_uploads WHERE hour < $1', [before]);
    await this.sql.query('DELETE FROM bank_entry_hourly_counts WHERE hour < $1', [before]);
  }

  private async quarantine(row: Crossed): Promise<Quarantine | undefined> {
    const entryId = Number(row.entry_id);
    const uploads = Number(row.uploads);
    const limit = Number(row.flood_limit);
    const hour = new Date(row.hour);
    const published: DomainEvent[] = [];
    const done = await this.sql.transaction(async (tx) => {
      const toggled = await this.banks.disableEntryIn(tx, entryId, { reason: FLOOD_REASON, onlyIfEnabled: true });
      if (!toggled.changed) return undefined;
      const summary = `entry ${entryId} of bank ${row.bank_name} matched ${uploads} distinct uploads in the hour from ${hour.toISOString()} (limit ${limit}); disabled until reviewed`;
      const opened = await this.cases.openIn(tx, {
        queue: BANK_ENTRY_QUEUE.name,
        subject: { kind: 'bank_entry', id: String(entryId) },
        severity: 'high',
        priority: 80,
        reason: { rule: 'flood-quarantine', summary },
      });
      published.push(opened.event);
      published.push(
        await this.events.append(tx, BANK_ENTRY_QUARANTINED_EVENT, `bank_entry:${entryId}`, {
          entry_id: entryId, bank: row.bank_name, uploads, limit, hour: hour.toISOString(), case_id: opened.view.id,
        }),
      );
      return { toggled, caseId: opened.view.id };
    });
    if (!done) return undefined;
    const { toggled, caseId } = done;
    this.events.published(published);
    await toggled.published();
    return { entryId, bank: row.bank_name, uploads, limit, hour, caseId };
  }

  /** Stops the timer and counts what is still buffered (server shutdown). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
  }
}
