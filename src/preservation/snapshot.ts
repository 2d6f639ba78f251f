import { notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';

type Json = Record<string, unknown>;

/** What a case's evidence covers beyond the case itself: which content and which accounts. */
export interface EvidenceScope {
  contentIds: string[];
  /** Platform account ids (accounts.external_id). */
  accountIds: string[];
}

/**
 * How to find the evidence of a case about one kind of subject. A new subject kind is one
 * more entry, not a branch in the snapshot code.
 */
export type EvidenceScopeResolver = (client: SqlClient, subjectId: string) => Promise<EvidenceScope>;

/** Content cited by an account or network case: only what matched a bank, newest first. */
const MATCHED_CONTENT_LIMIT = 200;
const NETWORK_MEMBER_LIMIT = 500;

export const DEFAULT_EVIDENCE_SCOPES: Record<string, EvidenceScopeResolver> = {
  content: async (client, contentId) => {
    const found = await client.query<{ account_id: string }>('SELECT account_id FROM content WHERE content_id = $1', [contentId]);
    return { contentIds: found.rows.length ? [contentId] : [], accountIds: found.rows.map((row) => row.account_id) };
  },
  account: async (client, accountId) => {
    const content = await client.query<{ content_id: string }>(
      `SELECT content_id FROM content WHERE account_id = $1 AND jsonb_array_length(matches) > 0 ORDER BY received_at DESC LIMIT ${MATCHED_CONTENT_LIMIT}`,
      [accountId],
    );
    return { contentIds: content.rows.map((row) => row.content_id), accountIds: [accountId] };
  },
  network: async (client, networkId) => {
    if (!/^\d{1,18}$/.test(networkId)) return { contentIds: [], accountIds: [] };
    const members = await client.query<{ external_id: string }>(
      `SELECT a.external_id FROM network_members m JOIN accounts a ON a.id = m.account_id WHERE m.network_id = $1 ORDER BY m.score DESC, a.external_id LIMIT ${NETWORK_MEMBER_LIMIT}`,
      [Number(networkId)],
    );
    return { contentIds: [], accountIds: members.rows.map((row) => row.external_id) };
  },
};

export interface SnapshotMedia {
  content_id: string;
  media_type: string;
  size: number;
  sha256: string;
}

export interface AccountEvidence {
  account_id: string;
  /** The accounts row as stored, or null when the graph never saw the account. */
  account: Json | null;
  labels: Json[];
  /** Hashtags, links, identifiers (already keyed hashes), term matches. */
  features: Json[];
  interactions: { direction: 'outgoing' | 'incoming'; kind: string; counterparties: number; interactions: number; first_at: string; last_at: string }[];
  networks: Json[];
}

/** Everything preserved for one case, as it stood at `taken_at`. Sealed whole; never logged. */
export interface PreservationSnapshot {
  format: 1;
  taken_at: string;
  case: Json;
  decisions: Json[];
  actions: Json[];
  content: Json[];
  /** What media is kept as separate sealed objects; the bytes are not in the snapshot. */
  media: SnapshotMedia[];
  accounts: AccountEvidence[];
}

const OFFSET_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?|Z)$/;

/** Rows as JSON carry timestamps in the session's zone; evidence states every time in UTC. */
function inUtc(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && OFFSET_TIMESTAMP.test(value)) {
    const date = new Date(value.length > 26 && !value.endsWith('Z') ? value.replace(/(\.\d{3})\d+/, '$1') : value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }
  if (Array.isArray(value)) return value.map(inUtc);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value as Json).map(([key, inner]) => [key, inUtc(inner)]));
  return value;
}

const rowsJson = (rows: { row: Json }[]) => rows.map((r) => inUtc(r.row) as Json);

/** Reads the whole evidence of a case through `client` (the caller's transaction, when given). */
export async function collectSnapshot(
  client: SqlClient,
  caseId: number,
  takenAt: Date,
  scopes: Record<string, EvidenceScopeResolver>,
): Promise<{ snapshot: Omit<PreservationSnapshot, 'media'>; scope: EvidenceScope }> {
  // Whole rows as JSON: columns other stages add later are preserved without a change here.
  const found = await client.query<{ row: Json; subject_kind: string; subject_id: string }>(
    'SELECT to_jsonb(c) AS row, c.subject_kind, c.subject_id FROM cases c WHERE c.id = $1',
    [caseId],
  );
  const caseRow = found.rows[0];
  if (!caseRow) throw notFound(`no case with id ${caseId}`);
  const decisions = await client.query<{ row: Json }>('SELECT to_jsonb(d) AS row FROM decisions d WHERE d.case_id = $1 ORDER BY d.id', [caseId]);
  const actions = await client.query<{ row: Json }>(
    `SELECT jsonb_build_object('id', x.id, 'decision_id', x.decision_id, 'type', x.type, 'target_kind', x.target_kind, 'target_id', x.target_id,
       'status', x.status, 'decided_by', x.decided_by, 'automated', x.automated, 'created_at', x.created_at, 'completed_at', x.completed_at) AS row
     FROM actions x WHERE x.case_id = $1 ORDER BY x.id`,
    [caseId],
  );
  const resolve = scopes[caseRow.subject_kind];
  const scope = resolve ? await resolve(client, caseRow.subject_id) : { contentIds: [], accountIds: [] };
  const content = scope.contentIds.length
    ? await client.query<{ row: Json }>('SELECT to_jsonb(c) AS row FROM content c WHERE c.content_id = ANY($1::text[]) ORDER BY c.content_id', [scope.contentIds])
    : { rows: [] };
  const accounts: AccountEvidence[] = [];
  for (const accountId of [...new Set(scope.accountIds)].sort()) accounts.push(await accountEvidence(client, accountId));
  return {
    snapshot: {
      format: 1,
      taken_at: takenAt.toISOString(),
      case: inUtc(caseRow.row) as Json,
      decisions: rowsJson(decisions.rows),
      actions: rowsJson(actions.rows),
      content: rowsJson(content.rows),
      accounts,
    },
    scope,
  };
}

async function accountEvidence(client: SqlClient, externalId: string): Promise<AccountEvidence> {
  const found = await client.query<{ row: Json; id: number }>('SELECT to_jsonb(a) AS row, a.id FROM accounts a WHERE a.external_id = $1', [externalId]);
  const account = found.rows[0];
  if (!account) return { account_id: externalId, account: null, labels: [], features: [], interactions: [], networks: [] };
  const id = Number(account.id);
  const labels = await client.query<{ row: Json }>('SELECT to_jsonb(l) AS row FROM account_labels l WHERE l.account_id = $1 ORDER BY l.id', [id]);
  const features = await client.query<{ row: Json }>('SELECT to_jsonb(f) AS row FROM account_features f WHERE f.account_id = $1 ORDER BY f.kind, f.value', [id]);
  // A summary rather than every edge: who an account talked to is in the counterparties' own evidence.
  const interactions = await client.query<{ direction: 'outgoing' | 'incoming'; kind: string; counterparties: number; interactions: number; first_at: Date; last_at: Date }>(
    `SELECT 'outgoing' AS direction, kind, count(*)::int AS counterparties, sum(count)::int AS interactions, min(first_at) AS first_at, max(last_at) AS last_at
       FROM account_edges WHERE src = $1 GROUP BY kind
     UNION ALL
     SELECT 'incoming', kind, count(*)::int, sum(count)::int, min(first_at), max(last_at)
       FROM account_edges WHERE dst = $1 GROUP BY kind
     ORDER BY 1, 2`,
    [id],
  );
  const networks = await client.query<{ row: Json }>(
    `SELECT jsonb_build_object('network_id', n.id, 'status', n.status, 'member_count', n.member_count, 'role', m.role, 'score', m.score,
       'reasons', m.reasons, 'found_at', n.created_at) AS row
     FROM network_members m JOIN networks n ON n.id = m.network_id WHERE m.account_id = $1 ORDER BY n.id`,
    [id],
  );
  return {
    account_id: externalId,
    account: inUtc(account.row) as Json,
    labels: rowsJson(labels.rows),
    features: rowsJson(features.rows),
    interactions: interactions.rows.map((row) => ({
      direction: row.direction,
      kind: row.kind,
      counterparties: Number(row.counterparties),
      interactions: Number(row.interactions),
      first_at: new Date(row.first_at).toISOString(),
      last_at: new Date(row.last_at).toISOString(),
    })),
    networks: rowsJson(networks.rows),
  };
}
