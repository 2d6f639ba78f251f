import { bankCountsFor } from '../../banks/bank-controls.ts';
import type { DomainEvent, EventLog } from '../../events/event-log.ts';
import { CONTENT_MATCHED_EVENT, matchedPayload } from '../../ingest/content.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { BankMatch } from '../matcher.ts';
import type { JobPosition } from './store.ts';

/** Stored content matched to a new entry. */
export interface RetroactiveHit {
  contentId: string;
  entryId: number;
  distance: number;
}

/** Where the job goes next: the same phase further on, the next phase, or done (null). */
export type NextPosition = { phase: string; after: number } | null;

export interface BatchOutcome {
  /** Another process moved the job meanwhile: this batch was dropped, read the checkpoint again. */
  moved: boolean;
  events: DomainEvent[];
}

interface ContentRow {
  content_id: string;
  account_id: string;
  content_type: string;
  matches: BankMatch[];
  /** Matches an allow bank set aside at upload (allow-banks.ts): decided, not news. */
  suppressed: { entryId: number }[];
}

interface EntryRow {
  id: number;
  bank_id: number;
  bank: string;
  signal_type: string;
  value: string;
  source: string | null;
  tags: string[];
  enabled_ratio: number;
  /** The entry is switched off (a flood quarantine, a reviewer's false positive). */
  disabled: boolean;
}

/**
 * Writes one batch in one transaction: the matches (appended to each content's matches, one
 * content.matched event per content with `retroactive: true`) and the job's new position. A
 * batch applies only if the job is still where it was read: a restart mid-batch leaves it
 * undone and another process's batch is never applied twice. Content already matched to an
 * entry (live, or by an earlier job) is not matched to it again.
 */
export async function commitBatch(
  sql: SqlClient,
  events: EventLog,
  bankId: number,
  job: JobPosition,
  hits: RetroactiveHit[],
  next: NextPosition,
  scanned: { content: number },
): Promise<BatchOutcome> {
  return sql.transaction(async (tx) => {
    const current = await tx.query<{ job_to: number | null; job_phase: string | null; job_after: number }>(
      'SELECT job_to, job_phase, job_after FROM retroactive_checkpoints WHERE bank_id = $1 FOR UPDATE',
      [bankId],
    );
    const at = current.rows[0];
    if (!at || at.job_to === null || Number(at.job_to) !== job.to || at.job_phase !== job.phase || Number(at.job_after) !== job.after) return { moved: true, events: [] };
    const appended = await appendMatches(tx, events, hits);
    if (next) {
      await tx.query(
        'UPDATE retroactive_checkpoints SET job_phase = $2, job_after = $3, content_scanned = content_scanned + $4, matches = matches + $5, updated_at = now() WHERE bank_id = $1',
        [bankId, next.phase, next.after, scanned.content, appended.matches],
      );
    } else {
      await tx.query(
        `UPDATE retroactive_checkpoints SET revision = job_to, job_to = NULL, job_cutoff = NULL, job_phase = NULL, job_after = 0,
           entries_done = entries_done + job_entries, job_entries = 0, content_scanned = content_scanned + $2, matches = matches + $3, updated_at = now()
         WHERE bank_id = $1`,
        [bankId, scanned.content, appended.matches],
      );
    }
    return { moved: false, events: appended.events };
  });
}

async function appendMatches(tx: SqlClient, events: EventLog, hits: RetroactiveHit[]): Promise<{ events: DomainEvent[]; matches: number }> {
  if (hits.length === 0) return { events: [], matches: 0 };
  const contentIds = [...new Set(hits.map((hit) => hit.contentId))].sort();
  // In id order, so that two batches touching the same content lock it in the same order.
  const contents = await tx.query<ContentRow>(
    'SELECT content_id, account_id, content_type, matches, suppressed FROM content WHERE content_id = ANY($1::text[]) ORDER BY content_id FOR UPDATE',
    [contentIds],
  );
  // Entries removed since the job read them are no match, nor are disabled ones.
  const entries = await tx.query<EntryRow>(
    `SELECT e.id, e.bank_id, b.name AS bank, e.signal_type, e.value, e.source, e.tags, b.enabled_ratio,
            (e.disabled_until IS NOT NULL AND e.disabled_until > now()) AS disabled
     FROM bank_entries e JOIN banks b ON b.id = e.bank_id
     WHERE e.id = ANY($1::bigint[])`,
    [[...new Set(hits.map((hit) => hit.entryId))]],
  );
  const entryById = new Map(entries.rows.map((row) => [Number(row.id), row]));
  const updates: { content: ContentRow; added: BankMatch[] }[] = [];
  for (const content of contents.rows) {
    const known = new Set([...content.matches, ...(content.suppressed ?? [])].map((match) => Number(match.entryId)));
    const added: BankMatch[] = [];
    for (const hit of hits) {
      const entry = entryById.get(hit.entryId);
      if (hit.contentId !== content.content_id || !entry || entry.disabled || known.has(hit.entryId)) continue;
      // The bank's share of traffic, by the same coin an upload of this content gets.
      if (Number(entry.enabled_ratio) < 1 && !bankCountsFor(Number(entry.bank_id), Number(entry.enabled_ratio), content.content_id)) continue;
      known.add(hit.entryId);
      added.push({
        bank: entry.bank, bankId: Number(entry.bank_id), entryId: hit.entryId, signalType: entry.signal_type, value: entry.value,
        distance: hit.distance, source: entry.source, tags: entry.tags, retroactive: true,
      });
    }
    if (added.length === 0) continue;
    updates.push({ content, added: added.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId) });
  }
  if (updates.length === 0) return { events: [], matches: 0 };
  await tx.query(
    `UPDATE content c SET matches = c.matches || u.added FROM unnest($1::text[], $2::jsonb[]) AS u(content_id, added) WHERE c.content_id = u.content_id`,
    [updates.map((update) => update.content.content_id), updates.map((update) => JSON.stringify(update.added))],
  );
  const emitted: DomainEvent[] = [];
  for (const { content, added } of updates) {
    const payload = { ...matchedPayload({ contentId: content.content_id, accountId: content.account_id, contentType: content.content_type }, added), retroactive: true as const };
    emitted.push(await events.append(tx, CONTENT_MATCHED_EVENT, `content:${content.content_id}`, payload));
  }
  return { events: emitted, matches: updates.reduce((sum, update) => sum + update.added.length, 0) };
}
