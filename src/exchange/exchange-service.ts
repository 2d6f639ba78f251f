import type { BankService } from '../banks/banks.ts';
import { bumpRevision } from '../banks/change-log.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import type { ExchangeWithState, SkippedItem } from './exchange-store.ts';
import type { ExchangeFetcher, FetchProgress, FetchRunResult } from './fetcher.ts';
import { removeOrphanEntries } from './item-store.ts';
import type { ExchangeType } from './exchange.ts';
import { exchangeUrlPolicy } from './guarded-fetch.ts';
import type { ExchangeTypeRegistry } from './types/registry.ts';

const EXCHANGE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface NewExchange {
  name: string;
  type: string;
  bank: string;
  config?: Record<string, unknown>;
  enabled?: boolean;
}

export interface FeedbackCounts {
  pending: number;
  sent: number;
  failed: number;
  unsupported: number;
}

/** What an operator sees of an exchange: its configuration and how its fetching goes. Never a credential. */
export interface ExchangeStatus {
  name: string;
  type: string;
  bank: string;
  enabled: boolean;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  lastSuccessAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  /** Stopped by an error no retry fixes, until the configuration changes or an operator fetches. */
  stopped: boolean;
  consecutiveFailures: number;
  nextAttemptAt: Date | null;
  /** The checkpoint's time: the source is fully read up to here. */
  checkpointTime: Date | null;
  fullReadUnderway: boolean;
  itemsFetched: number;
  items: { live: number; deleted: number };
  skipped: { total: number; latest: SkippedItem[] };
  /** The environment variables this type reads, and what is missing (the type's own message), never their values. */
  credentials: { variables: string[]; problem: string | null };
  feedback: FeedbackCounts;
}

export interface FeedbackView {
  id: number;
  verdict: string;
  reason: string | null;
  caseId: number | null;
  decisionId: number | null;
  status: keyof FeedbackCounts;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface ExchangeItemView {
  exchange: string;
  key: string;
  member: string | null;
  tags: string[];
  signals: { signalType: string; value: string }[];
  otherFingerprints: Record<string, string>;
  sourceOpinion: string | null;
  deleted: boolean;
  sourceUpdatedAt: Date | null;
  updatedAt: Date;
  entryIds: number[];
  feedback: FeedbackView[];
}

interface ItemRow {
  item_key: string;
  member: string | null;
  tags: string[];
  signals: { signalType: string; value: string }[];
  other_fingerprints: Record<string, string>;
  source_opinion: string | null;
  deleted: boolean;
  source_updated_at: Date | null;
  updated_at: Date;
}

interface FeedbackRow {
  id: string | number;
  verdict: string;
  reason: string | null;
  case_id: string | number | null;
  decision_id: string | number | null;
  status: keyof FeedbackCounts;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** Configuring exchanges and reading their status; the fetching itself is the fetcher's. */
export class ExchangeService {
  constructor(
    private readonly sql: SqlClient,
    private readonly banks: BankService,
    readonly types: ExchangeTypeRegistry,
    readonly fetcher: ExchangeFetcher,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Parses a configuration and refuses a URL the exchanges may not fetch (SSRF), naming its field. */
  private checkUrls(type: ExchangeType<any>, raw: Record<string, unknown>): void {
    const config = type.parseConfig(raw);
    const policy = exchangeUrlPolicy(this.types, this.env);
    for (const { field, url } of type.configuredUrls?.(config) ?? []) {
      const problem = policy.problem(url);
      if (problem) throw invalid(`config.${field}: ${problem}`, { field: `config.${field}` });
    }
  }

  /** Adds an exchange feeding `bank` (created if it does not exist yet); its first fetch is due at once. */
  async add(input: NewExchange): Promise<ExchangeStatus> {
    if (!EXCHANGE_NAME.test(input.name)) {
      throw invalid(`invalid exchange name ${JSON.stringify(input.name)}: use 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit`, { field: 'name' });
    }
    const type = this.types.get(input.type);
    const config = input.config ?? {};
    this.checkUrls(type, config);
    if (await this.fetcher.store.find(input.name)) throw conflict(`an exchange named ${JSON.stringify(input.name)} already exists`, { name: input.name });
    const bank = await this.banks.get(input.bank).catch(async (error) => {
      if (error instanceof BulwarkError && error.kind === 'not_found') return this.banks.create(input.bank, `filled by exchange ${input.name}`);
      throw error;
    });
    const id = await this.sql.transaction((tx) => this.fetcher.store.insert(tx, { name: input.name, type: type.name, bankId: bank.id, config, enabled: input.enabled ?? true }));
    if (id === 0) throw conflict(`an exchange named ${JSON.stringify(input.name)} already exists`, { name: input.name });
    return this.status(input.name);
  }

  async list(): Promise<ExchangeStatus[]> {
    const exchanges = await this.fetcher.store.list();
    return Promise.all(exchanges.map((exchange) => this.describe(exchange)));
  }

  async status(name: string): Promise<ExchangeStatus> {
    return this.describe(await this.get(name));
  }

  /** A new configuration (checked by the type) or switching on or off; either lifts a stop and makes the exchange due. */
  async update(name: string, changes: { enabled?: boolean; config?: Record<string, unknown> }): Promise<ExchangeStatus> {
    const exchange = await this.get(name);
    if (changes.config !== undefined) this.checkUrls(this.types.get(exchange.type), changes.config);
    await this.fetcher.store.update(exchange.id, changes);
    return this.status(name);
  }

  /**
   * Removes the exchange, its items and its feedback; the entries it added leave the bank
   * unless another exchange's live item holds the same hash.
   */
  async remove(name: string): Promise<{ entriesRemoved: number }> {
    const exchange = await this.get(name);
    const { removed, revision } = await this.sql.transaction(async (tx) => {
      const links = await tx.query<{ entry_id: string | number }>('DELETE FROM exchange_item_entries WHERE exchange_id = $1 RETURNING entry_id', [exchange.id]);
      await tx.query('DELETE FROM exchanges WHERE id = $1', [exchange.id]);
      const removed = await removeOrphanEntries(tx, [...new Set(links.rows.map((row) => Number(row.entry_id)))]);
      const revision = removed.length > 0 ? await bumpRevision(tx, exchange.bankId, { removed }) : undefined;
      return { removed, revision };
    }, { writesEvents: false });
    if (revision !== undefined) await this.banks.publishCommitted(exchange.bankId, revision);
    return { entriesRemoved: removed.length };
  }

  /** Runs the exchange now, whatever its schedule or stop; progress is reported per page applied. */
  async fetchNow(name: string, onProgress?: (progress: FetchProgress) => void): Promise<FetchRunResult> {
    const exchange = await this.get(name);
    if (!exchange.enabled) throw conflict(`exchange ${JSON.stringify(name)} is disabled: enable it first`, { name });
    return this.fetcher.fetchNow(name, onProgress);
  }

  /** One item as the source last sent it, the bank entries it holds, and the feedback given on it. */
  async item(name: string, key: string): Promise<ExchangeItemView> {
    const exchange = await this.get(name);
    const found = await this.sql.query<ItemRow>(
      `SELECT item_key, member, tags, signals, other_fingerprints, source_opinion, deleted, source_updated_at, updated_at
       FROM exchange_items WHERE exchange_id = $1 AND item_key = $2`,
      [exchange.id, key],
    );
    if (found.rows.length === 0) throw notFound(`exchange ${JSON.stringify(name)} has no item ${JSON.stringify(key)}`, { name, key });
    const row = found.rows[0];
    const entries = await this.sql.query<{ entry_id: string | number }>('SELECT entry_id FROM exchange_item_entries WHERE exchange_id = $1 AND item_key = $2 ORDER BY entry_id', [exchange.id, key]);
    const feedback = await this.sql.query<FeedbackRow>(
      `SELECT id, verdict, reason, case_id, decision_id, status, attempts, next_attempt_at, last_error, created_at, sent_at
       FROM exchange_feedback WHERE exchange_id = $1 AND item_key = $2 ORDER BY id`,
      [exchange.id, key],
    );
    return {
      exchange: exchange.name,
      key: row.item_key,
      member: row.member,
      tags: row.tags,
      signals: row.signals,
      otherFingerprints: row.other_fingerprints,
      sourceOpinion: row.source_opinion,
      deleted: row.deleted,
      sourceUpdatedAt: row.source_updated_at,
      updatedAt: row.updated_at,
      entryIds: entries.rows.map((entry) => Number(entry.entry_id)),
      feedback: feedback.rows.map((entry) => ({
        id: Number(entry.id),
        verdict: entry.verdict,
        reason: entry.reason,
        caseId: entry.case_id === null ? null : Number(entry.case_id),
        decisionId: entry.decision_id === null ? null : Number(entry.decision_id),
        status: entry.status,
        attempts: entry.attempts,
        nextAttemptAt: entry.next_attempt_at,
        lastError: entry.last_error,
        createdAt: entry.created_at,
        sentAt: entry.sent_at,
      })),
    };
  }

  async get(name: string): Promise<ExchangeWithState> {
    const exchange = await this.fetcher.store.find(name);
    if (!exchange) throw notFound(`no exchange named ${JSON.stringify(name)}`, { name });
    return exchange;
  }

  private async describe(exchange: ExchangeWithState): Promise<ExchangeStatus> {
    const counts = await this.sql.query<{ deleted: boolean; n: string | number }>(
      'SELECT deleted, count(*) AS n FROM exchange_items WHERE exchange_id = $1 GROUP BY deleted',
      [exchange.id],
    );
    const feedback = await this.sql.query<{ status: keyof FeedbackCounts; n: string | number }>(
      'SELECT status, count(*) AS n FROM exchange_feedback WHERE exchange_id = $1 GROUP BY status',
      [exchange.id],
    );
    const { state } = exchange;
    return {
      name: exchange.name,
      type: exchange.type,
      bank: exchange.bankName,
      enabled: exchange.enabled,
      config: exchange.config,
      createdAt: exchange.createdAt,
      updatedAt: exchange.updatedAt,
      lastSuccessAt: state.lastSuccessAt,
      lastAttemptAt: state.lastAttemptAt,
      lastError: state.lastError,
      stopped: state.stopped,
      consecutiveFailures: state.consecutiveFailures,
      nextAttemptAt: state.nextAttemptAt,
      checkpointTime: state.progressAt,
      fullReadUnderway: state.fullReadGeneration !== null,
      itemsFetched: state.itemsFetched,
      items: {
        live: Number(counts.rows.find((row) => !row.deleted)?.n ?? 0),
        deleted: Number(counts.rows.find((row) => row.deleted)?.n ?? 0),
      },
      skipped: { total: state.skippedTotal, latest: state.skipped },
      credentials: this.credentialStatus(exchange),
      feedback: {
        pending: Number(feedback.rows.find((row) => row.status === 'pending')?.n ?? 0),
        sent: Number(feedback.rows.find((row) => row.status === 'sent')?.n ?? 0),
        failed: Number(feedback.rows.find((row) => row.status === 'failed')?.n ?? 0),
        unsupported: Number(feedback.rows.find((row) => row.status === 'unsupported')?.n ?? 0),
      },
    };
  }

  private credentialStatus(exchange: ExchangeWithState): ExchangeStatus['credentials'] {
    if (!this.types.has(exchange.type)) return { variables: [], problem: `exchange type ${exchange.type} is not available in this build` };
    const type = this.types.get(exchange.type);
    try {
      type.credentialsFromEnv(exchange.name, this.env);
      return { variables: type.credentialVariables(exchange.name), problem: null };
    } catch (error) {
      return { variables: type.credentialVariables(exchange.name), problem: error instanceof Error ? error.message : String(error) };
    }
  }
}
