import type { SqlClient } from '../../store/sql.ts';
import type { NetworkSection } from '../types.ts';

/** The standing interactions among a set of accounts (by store id), as the console draws them. */
export async function edgesAmong(client: SqlClient, accountIds: number[]): Promise<NetworkSection['edges']> {
  const edges = await client.query<{ src: string; dst: string; kind: string; count: number }>(
    `SELECT s.external_id AS src, d.external_id AS dst, e.kind, e.count FROM account_edges e
     JOIN accounts s ON s.id = e.src JOIN accounts d ON d.id = e.dst
     WHERE e.src = ANY($1::integer[]) AND e.dst = ANY($1::integer[]) AND e.active`,
    [accountIds],
  );
  return edges.rows.map((edge) => ({ source: edge.src, target: edge.dst, kind: edge.kind, weight: Number(edge.count) }));
}
