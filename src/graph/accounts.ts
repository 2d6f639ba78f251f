import { invalid, notFound } from '../errors.ts';
import { type DomainEvent, type EventLog, type EventRow, EVENT_COLUMNS, eventFromRow } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';

export type AccountLabel = 'confirmed' | 'suspected' | 'cleared';
export const ACCOUNT_LABELS: readonly AccountLabel[] = ['confirmed', 'suspected', 'cleared'];
export const ACCOUNT_LABELLED_EVENT = 'account.labelled';
/** The source of the label every matched upload's uploader gets, with no person looking. */
export const HASH_MATCH_LABEL_SOURCE = 'hash_match';
/** Label sources that are rules, not a reviewer's or operator's finding (network detection trusts them less). */
export const AUTOMATIC_LABEL_SOURCES: ReadonlySet<string> = new Set([HASH_MATCH_LABEL_SOURCE]);

const ACCOUNT_ID = /^[\x21-\x7e]{1,200}$/;

export interface AccountView {
  id: string;
  createdAt: Date | null;
  deletedAt: Date | null;
  deletionReason: string | null;
  minor: boolean | null;
  minorBasis: string | null;
  verified: boolean | null;
  label: AccountLabel | null;
  labelSource: string | null;
  networkId: number | null;
  risk: number | null;
  evasionOf: string | null;
  firstSeen: Date;
  interactions: { kind: string; outgoing: number; incoming: number }[];
  features: { kind: string; count: number }[];
}

interface AccountRow {
  external_id: string;
  created_at: Date | null;
  deleted_at: Date | null;
  deletion_reason: string | null;
  minor: boolean | null;
  minor_basis: string | null;
  verified: boolean | null;
  label: AccountLabel | null;
  label_source: string | null;
  network_id: number | null;
  risk: number | null;
  evasion_of: string | null;
  first_seen: Date;
}

/** Bounded so a long-running ingest over many millions of accounts cannot grow without limit. */
const ID_CACHE_LIMIT = 2_000_000;

/**
 * The platform's accounts as Bulwark knows them. External ids (the platform's) map to dense
 * integer ids that index the graph's arrays; an id, once given, never changes, so the
 * mapping is cached.
 */
export class AccountDirectory {
  private readonly ids = new Map<string, number>();

  constructor(private readonly sql: SqlClient, private readonly events: EventLog) {}

  /** Internal ids for the given external ids, creating accounts never seen before. */
  async ensure(tx: SqlClient, externalIds: Iterable<string>): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    const missing: string[] = [];
    for (const external of externalIds) {
      if (result.has(external)) continue;
      const cached = this.ids.get(external);
      if (cached !== undefined) result.set(external, cached);
      else {
        result.set(external, -1);
        missing.push(external);
      }
    }
    if (missing.length === 0) return result;
    missing.sort();
    const json = JSON.stringify(missing);
    await tx.query(
      'INSERT INTO accounts (external_id) SELECT value FROM jsonb_array_elements_text($1::jsonb) ORDER BY value ON CONFLICT (external_id) DO NOTHING',
      [json],
    );
    const found = await tx.query<{ id: number; external_id: string }>(
      'SELECT id, external_id FROM accounts WHERE external_id IN (SELECT value FROM jsonb_array_elements_text($1::jsonb))',
      [json],
    );
    for (const row of found.rows) result.set(row.external_id, row.id);
    // Cached once the transaction has committed: until then an account it created exists for it
    // alone, and another transaction given that id (a stage's batch beside a reviewer's decision)
    // would find no row to update.
    tx.afterCommit(() => {
      if (this.ids.size + found.rows.length > ID_CACHE_LIMIT) this.ids.clear();
      for (const row of found.rows) this.ids.set(row.external_id, row.id);
    });
    return result;
  }

  /** Drops cached ids; called when a transaction that may have created accounts rolled back. */
  clearCache(): void {
    this.ids.clear();
  }

  /**
   * Sets an account's label (creating the account if it is new) and records who gave it.
   * Runs in the caller's transaction when one is given, so a label and the event it
   * answers are written together.
   */
  async label(
    externalId: string,
    label: AccountLabel,
    source: string,
    detail: Record<string, unknown> = {},
    tx?: SqlClient,
  ): Promise<DomainEvent> {
    const run = async (client: SqlClient) => (await this.labelMany(client, [{ externalId, label, source, detail }]))[0];
    if (tx) return run(tx);
    const event = await this.sql.transaction(run).catch((error: unknown) => {
      this.clearCache();
      throw error;
    });
    this.events.published([event]);
    return event;
  }

  /**
   * label() for several accounts in the caller's transaction, in order: the labels, their
   * records and events in one statement (every matched upload's uploader is labelled, so a
   * surge of matches passes through here, issue 11). An account labelled twice keeps the last.
   */
  async labelMany(tx: SqlClient, labels: { externalId: string; label: AccountLabel; source: string; detail?: Record<string, unknown> }[]): Promise<DomainEvent[]> {
    if (labels.length === 0) return [];
    for (const { externalId, label } of labels) {
      if (!ACCOUNT_ID.test(externalId)) throw invalid('an account id is 1-200 printable ASCII characters without spaces');
      if (!ACCOUNT_LABELS.includes(label)) throw invalid(`a label is one of ${ACCOUNT_LABELS.join(', ')}`, { label });
    }
    if (!tx.mayWriteEvents) throw new Error(`${ACCOUNT_LABELLED_EVENT} appended outside a transaction that holds the outbox writer lock`);
    const ids = await this.ensure(tx, labels.map((item) => item.externalId));
    const input = labels.map(({ externalId, label, source, detail = {} }, n) => ({
      n, id: ids.get(externalId)!, label, source, detail, subject: `account:${externalId}`, payload: { account_id: externalId, label, source, detail },
    }));
    const written = await tx.query<EventRow>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, id bigint, label text, source text, detail jsonb, subject text, payload jsonb)
       ), updated AS (
         UPDATE accounts a SET label = l.label, label_source = l.source, label_at = now(), guard_seq = nextval('account_guard_seq')
         FROM (SELECT DISTINCT ON (id) * FROM input ORDER BY id, n DESC) l WHERE a.id = l.id RETURNING a.id
       ), recorded AS (
         INSERT INTO account_labels (account_id, label, source, detail)
         SELECT i.id, i.label, i.source, i.detail FROM input i WHERE i.id IN (SELECT id FROM updated) ORDER BY i.n
       ), appended AS (
         INSERT INTO events (type, subject, payload)
         SELECT $2, i.subject, i.payload FROM input i WHERE i.id IN (SELECT id FROM updated) ORDER BY i.n
         RETURNING ${EVENT_COLUMNS}
       )
       SELECT * FROM appended ORDER BY seq`,
      [JSON.stringify(input), ACCOUNT_LABELLED_EVENT],
    );
    if (written.rows.length !== labels.length) {
      // An id cached from a transaction that rolled back names no account: the next attempt reads them again.
      this.clearCache();
      throw new Error('an account vanished while it was being labelled');
    }
    return written.rows.map(eventFromRow);
  }

  async get(externalId: string): Promise<AccountView> {
    const result = await this.sql.query<AccountRow & { id: number }>(
      `SELECT a.id, a.external_id, a.created_at, a.deleted_at, a.deletion_reason, a.minor, a.minor_basis, a.verified, a.label, a.label_source,
              a.network_id, a.risk, e.external_id AS evasion_of, a.first_seen
       FROM accounts a LEFT JOIN accounts e ON e.id = a.evasion_of WHERE a.external_id = $1`,
      [externalId],
    );
    const row = result.rows[0];
    if (!row) throw notFound(`no account with id ${JSON.stringify(externalId)}`);
    const interactions = await this.sql.query<{ kind: string; outgoing: number; incoming: number }>(
      `SELECT kind, sum(CASE WHEN src = $1 THEN 1 ELSE 0 END) AS outgoing, sum(CASE WHEN dst = $1 THEN 1 ELSE 0 END) AS incoming
       FROM account_edges WHERE (src = $1 OR dst = $1) AND active GROUP BY kind ORDER BY kind`,
      [row.id],
    );
    const features = await this.sql.query<{ kind: string; count: number }>(
      'SELECT kind, count(*) AS count FROM account_features WHERE account_id = $1 GROUP BY kind ORDER BY kind',
      [row.id],
    );
    return {
      id: row.external_id,
      createdAt: row.created_at,
      deletedAt: row.deleted_at,
      deletionReason: row.deletion_reason,
      minor: row.minor,
      minorBasis: row.minor_basis,
      verified: row.verified,
      label: row.label,
      labelSource: row.label_source,
      networkId: row.network_id === null ? null : Number(row.network_id),
      risk: row.risk,
      evasionOf: row.evasion_of,
      firstSeen: row.first_seen,
      interactions: interactions.rows.map((r) => ({ kind: r.kind, outgoing: Number(r.outgoing), incoming: Number(r.incoming) })),
      features: features.rows.map((r) => ({ kind: r.kind, count: Number(r.count) })),
    };
  }
}
