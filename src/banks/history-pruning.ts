import type { SqlClient } from '../store/sql.ts';

/**
 * Forgets a bank's history older than a cutoff: removal tombstones, and change-log rows that
 * every reader is past. Without this both grow by a row per revision forever.
 *
 * Who reads the change log, and why each is safe:
 * - Retroactive matching (src/match/retroactive/) follows each bank from its own checkpoint:
 *   only rows at or below it go, and a bank without a checkpoint (which would start at 0) keeps
 *   all of its rows.
 * - Feeds to peers (src/exchange/publish/) serve changes from a subscriber's checkpoint: the
 *   bank's feed history start moves past whatever goes, in the same statement, so a checkpoint
 *   that needed it is told to read the bank again (HTTP 410) instead of silently missing changes.
 * - Matchers (src/match/bank-sync.ts) apply revisions after the one they hold: one that finds a
 *   gap loads the bank anew, so a process asleep past the cutoff costs a reload, never a miss.
 * The newest row of each bank stays, so "has this bank changed since r" keeps an answer.
 */
export async function pruneBankHistory(sql: SqlClient, cutoff: Date): Promise<{ tombstones: number; changes: number }> {
  const result = await sql.query<{ tombstones: number | string; changes: number | string }>(
    `WITH gone AS (
       DELETE FROM bank_entry_tombstones WHERE removed_at < $1 RETURNING bank_id, revision
     ), dropped AS (
       DELETE FROM bank_entry_changes c USING banks b
       WHERE b.id = c.bank_id AND c.changed_at < $1 AND c.revision < b.revision
         AND c.revision <= coalesce((SELECT r.revision FROM retroactive_checkpoints r WHERE r.bank_id = c.bank_id), 0)
       RETURNING c.bank_id, c.revision
     ), latest AS (
       SELECT bank_id, max(revision) AS revision FROM (SELECT bank_id, revision FROM gone UNION ALL SELECT bank_id, revision FROM dropped) forgotten GROUP BY bank_id
     ), moved AS (
       UPDATE banks b SET feed_history_from = greatest(b.feed_history_from, latest.revision + 1) FROM latest WHERE b.id = latest.bank_id
     )
     SELECT (SELECT count(*) FROM gone) AS tombstones, (SELECT count(*) FROM dropped) AS changes`,
    [cutoff],
  );
  return { tombstones: Number(result.rows[0].tombstones), changes: Number(result.rows[0].changes) };
}
