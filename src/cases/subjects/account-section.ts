import type { SqlClient } from '../../store/sql.ts';
import type { AccountSection } from '../types.ts';

/** The account facts a reviewer needs, or null when the graph has never seen the account. */
export async function describeAccount(client: SqlClient, externalId: string): Promise<AccountSection | null> {
  const found = await client.query<{ id: number; label: string | null; minor: boolean | null; risk: number | null; network_id: number | null; created_at: Date | null; evasion_of: string | null }>(
    `SELECT a.id, a.label, a.minor, a.risk, a.network_id, a.created_at, e.external_id AS evasion_of
     FROM accounts a LEFT JOIN accounts e ON e.id = a.evasion_of WHERE a.external_id = $1`,
    [externalId],
  );
  const row = found.rows[0];
  if (!row) return null;
  const labels = await client.query<{ label: string; source: string; created_at: Date }>(
    'SELECT label, source, created_at FROM account_labels WHERE account_id = $1 ORDER BY id DESC LIMIT 50',
    [row.id],
  );
  return {
    account_id: externalId,
    label: row.label,
    minor: row.minor,
    risk: row.risk,
    network_id: row.network_id === null ? null : Number(row.network_id),
    created_at: row.created_at?.toISOString() ?? null,
    evasion_of: row.evasion_of,
    labels: labels.rows.map((label) => ({ label: label.label, source: label.source, at: label.created_at.toISOString() })),
  };
}

/** The keyed hashes of an account's identifiers, for blocking them from re-registering. */
export async function identifiersOf(client: SqlClient, externalId: string): Promise<{ kind: string; hash: string }[]> {
  const result = await client.query<{ kind: string; value: string }>(
    `SELECT f.kind, f.value FROM account_features f JOIN accounts a ON a.id = f.account_id
     WHERE a.external_id = $1 AND f.kind LIKE 'identifier:%' ORDER BY f.kind, f.value`,
    [externalId],
  );
  return result.rows.map((row) => ({ kind: row.kind.slice('identifier:'.length), hash: row.value }));
}
