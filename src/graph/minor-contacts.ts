import type { SqlClient } from '../store/sql.ts';
import type { NetworkSummary } from './network-detector.ts';

/**
 * "Minors contacted" by a network, defined once: distinct minor accounts outside the network
 * with any recorded interaction (follow, message, comment, like, share) to or from a member.
 * Either direction counts (a minor writing to a buyer is contact too), and follows that were
 * later undone count (a contact that was made does not stop mattering when it ends).
 *
 * It is counted once, when detection stores the network, and kept in the network's summary
 * (`minorContacts`); the networks API, the network case, the rule fact
 * `network.minors_contacted` and the console all read that stored figure, so one network
 * never shows two numbers.
 */
export async function countMinorsContacted(client: SqlClient, memberIds: readonly number[]): Promise<number> {
  if (memberIds.length === 0) return 0;
  const result = await client.query<{ n: number }>(
    `WITH members AS (SELECT unnest($1::integer[]) AS id)
     SELECT count(*) AS n FROM accounts x
     WHERE x.minor IS TRUE AND x.id NOT IN (SELECT id FROM members) AND x.id IN (
       SELECT e.dst FROM account_edges e JOIN members m ON e.src = m.id
       UNION
       SELECT e.src FROM account_edges e JOIN members m ON e.dst = m.id)`,
    [memberIds],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** A network's summary as stored: the detector's, with the minors contacted and the sentence that names them. */
export interface StoredNetworkSummary extends NetworkSummary {
  minorContacts: number;
}

export function withMinorsContacted<Summary extends { text: string } = NetworkSummary>(summary: Summary, minorContacts: number): Summary & { minorContacts: number } {
  const clause = minorContacts > 0 ? `; members contact ${minorContacts} minor account${minorContacts === 1 ? '' : 's'} outside the network` : '';
  return { ...summary, minorContacts, text: summary.text + clause };
}

/** The stored figure as SQL, for queries that read a network's row (`alias` is the networks table). */
export const storedMinorsContactedSql = (alias: string) => `coalesce((${alias}.summary->>'minorContacts')::integer, 0)`;
