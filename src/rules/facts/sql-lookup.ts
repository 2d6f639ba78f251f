import type { SqlClient } from '../../store/sql.ts';
import { storedMinorsContactedSql } from '../../graph/minor-contacts.ts';
import { KeyedBatch } from './keyed-batch.ts';
import type { AccountFacts, ContentFacts, FactLookup, NetworkFacts } from '../types.ts';

interface AccountRow {
  external_id: string;
  minor: boolean | null;
  label: AccountFacts['label'];
  risk: number | null;
  network_id: number | null;
  network_size: number | null;
  evasion_suspected: boolean;
  since: Date;
  verified: boolean | null;
}

interface NetworkRow {
  id: number;
  member_count: number;
  status: string;
  confirmed_members: number;
  mean_risk: number | null;
  minors_contacted: number;
}

/**
 * Account, network and content context from the store (the account graph and content tables).
 * Accounts and content asked for in the same turn of the event loop are read in one query each
 * (KeyedBatch): a rule runner turns a whole batch of events into facts at once.
 */
export class SqlFactLookup implements FactLookup {
  private readonly accounts = new KeyedBatch<AccountFacts>((ids) => this.readAccounts(ids));
  private readonly contents = new KeyedBatch<ContentFacts>((ids) => this.readContents(ids));

  constructor(private readonly sql: SqlClient) {}

  account(externalId: string): Promise<AccountFacts | undefined> {
    return this.accounts.get(externalId);
  }

  async network(networkId: number): Promise<NetworkFacts | undefined> {
    // minors_contacted is the figure detection stored with the network (minor-contacts.ts), so the
    // rule reason says what the API and the case say.
    const result = await this.sql.query<NetworkRow>(
      `SELECT n.id, n.member_count, n.status,
              (SELECT count(*) FROM network_members m JOIN accounts a ON a.id = m.account_id
                WHERE m.network_id = n.id AND a.label = 'confirmed') AS confirmed_members,
              (SELECT avg(a.risk) FROM network_members m JOIN accounts a ON a.id = m.account_id
                WHERE m.network_id = n.id) AS mean_risk,
              ${storedMinorsContactedSql('n')} AS minors_contacted
       FROM networks n WHERE n.id = $1`,
      [networkId],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      id: Number(row.id),
      size: Number(row.member_count),
      status: row.status,
      confirmedMembers: Number(row.confirmed_members),
      minorsContacted: Number(row.minors_contacted),
      meanRisk: row.mean_risk === null ? null : Number(row.mean_risk),
    };
  }

  content(contentId: string): Promise<ContentFacts | undefined> {
    return this.contents.get(contentId);
  }

  private async readAccounts(externalIds: string[]): Promise<Map<string, AccountFacts>> {
    const result = await this.sql.query<AccountRow>(
      `SELECT a.external_id, a.minor, a.label, a.risk, a.network_id, n.member_count AS network_size, a.evasion_of IS NOT NULL AS evasion_suspected,
              coalesce(a.created_at, a.first_seen) AS since, a.verified
       FROM accounts a LEFT JOIN networks n ON n.id = a.network_id WHERE a.external_id = ANY($1::text[])`,
      [externalIds],
    );
    return new Map(result.rows.map((row) => [row.external_id, toAccountFacts(row)]));
  }

  private async readContents(contentIds: string[]): Promise<Map<string, ContentFacts>> {
    const result = await this.sql.query<{ content_id: string; content_type: string; account_id: string }>(
      'SELECT content_id, content_type, account_id FROM content WHERE content_id = ANY($1::text[])',
      [contentIds],
    );
    return new Map(result.rows.map((row) => [row.content_id, { type: row.content_type, accountId: row.account_id }]));
  }
}

function toAccountFacts(row: AccountRow): AccountFacts {
  return {
    minor: row.minor,
    label: row.label,
    risk: row.risk === null ? null : Number(row.risk),
    networkId: row.network_id === null ? null : Number(row.network_id),
    networkSize: row.network_size === null ? null : Number(row.network_size),
    evasionSuspected: row.evasion_suspected,
    since: new Date(row.since),
    verified: row.verified,
  };
}
