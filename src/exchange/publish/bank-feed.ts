/**
 * Publishing a bank to peer platforms (Bulwark to Bulwark sharing): a bank the operator marks
 * as published is read by other Bulwark instances page by page, first whole (a snapshot by
 * entry id), then as the changes its revisions made (bank_entry_changes, with the removed
 * values from bank_entry_tombstones). A feed carries hashes and tags only: never an entry's
 * source (a case id, a file name, an API key's name), content or account ids, or reviewers.
 */
import type { ApiKeyInfo } from '../../auth/api-keys.ts';
import { pruneBankHistory } from '../../banks/history-pruning.ts';
import { invalid, notFound } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import { FEED_PAGE_DEFAULT, FEED_PAGE_MAX, type FeedItem, type FeedPage } from '../bulwark-feed-format.ts';
import { ADDITIONS, type FeedPosition, REMOVALS, decodeCheckpoint, encodeCheckpoint } from './feed-checkpoint.ts';

/** A page stops growing past this many bytes of values, however many items were asked for (vPDQ values run to megabytes). */
const PAGE_BYTES = 8 * 1024 * 1024;
/**
 * What a feed serves of a bank: the entries the publisher holds on its own account. Entries
 * that came through an exchange (NCMEC, StopNCII, a peer's feed) are not passed on: their
 * source's terms decide who gets them, and two peers subscribed to each other would echo them.
 */
const OWN_ENTRY = "coalesce(source, '') NOT LIKE 'exchange:%'";
/** What is passed on: own entries that are switched on (a disabled one leaves as a removal and returns as an addition). */
const SHARED_ENTRY = `${OWN_ENTRY} AND disabled_until IS NULL`;
/** Change-log rows read per query while filling a page. */
const REVISIONS_PER_READ = 100;

export interface BankFeedOptions {
  /** How long removals are kept for subscribers to read (default 90 days, as ThreatExchange keeps its deletions). */
  historyDays?: number;
  now?: () => Date;
}

/** BULWARK_FEED_HISTORY_DAYS: how many days removals are kept for subscribers (default 90). */
export function feedOptionsFromEnv(env: NodeJS.ProcessEnv): BankFeedOptions {
  const text = env.BULWARK_FEED_HISTORY_DAYS?.trim();
  if (!text) return {};
  const days = Number(text);
  if (!Number.isFinite(days) || days <= 0) throw new Error(`BULWARK_FEED_HISTORY_DAYS: ${JSON.stringify(text)} is not a positive number of days`);
  return { historyDays: days };
}

/**
 * The checkpoint is older than the removals the publisher keeps (or the bank was made again):
 * the subscriber must read the bank again from a null checkpoint. HTTP answers it with 410.
 */
export class ResnapshotRequired extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResnapshotRequired';
  }
}

interface PublishedBank {
  id: number;
  name: string;
  revision: number;
  historyFrom: number;
}

interface ItemRow {
  id: number;
  signal_type: string;
  value: string;
  tags?: string[];
}

type ChangesPosition = Extract<FeedPosition, { phase: 'changes' }>;

export interface PeerFeedback {
  peer: { keyId: number; name: string };
  signalType: string;
  value: string;
  verdict: 'seen' | 'true_positive' | 'false_positive';
  reason: string | null;
  receivedAt: Date;
}

export class BankFeedService {
  private readonly historyDays: number;
  private readonly now: () => Date;

  constructor(private readonly sql: SqlClient, options: BankFeedOptions = {}) {
    this.historyDays = options.historyDays ?? 90;
    if (!(this.historyDays > 0)) throw invalid('the feed history must be a positive number of days', { field: 'historyDays' });
    this.now = options.now ?? (() => new Date());
  }

  get historySeconds(): number {
    return Math.round(this.historyDays * 86_400);
  }

  /** The published banks this key may read. */
  async listPublished(key: ApiKeyInfo): Promise<{ name: string; description: string; revision: number }[]> {
    const result = await this.sql.query<{ name: string; description: string; revision: number }>(
      'SELECT name, description, revision FROM banks WHERE published AND ($1::text[] IS NULL OR name = ANY($1::text[])) ORDER BY name',
      [key.scope === 'feed' ? key.feedBanks : null],
    );
    return result.rows.map((row) => ({ ...row, revision: Number(row.revision) }));
  }

  /** One page of the bank's feed from the checkpoint (none: from the beginning). */
  async readPage(bankName: string, key: ApiKeyInfo, checkpoint: string | undefined, limit = FEED_PAGE_DEFAULT): Promise<FeedPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > FEED_PAGE_MAX) throw invalid(`querystring/limit: use 1-${FEED_PAGE_MAX}`, { location: 'querystring/limit' });
    const asked = checkpoint === undefined || checkpoint === '' ? undefined : decodeCheckpoint(checkpoint);
    await this.pruneHistoryNowAndThen();
    const bank = await this.publishedBank(bankName, key);
    const position: FeedPosition = asked ?? { phase: 'snapshot', bankId: bank.id, baseRevision: bank.revision, afterId: 0 };
    if (position.bankId !== bank.id) throw new ResnapshotRequired(`bank ${JSON.stringify(bankName)} was deleted and made again since this checkpoint: read it again without a checkpoint`);
    const firstNeeded = position.phase === 'snapshot' ? position.baseRevision + 1 : position.revision;
    if (firstNeeded > bank.revision + 1) throw invalid(`querystring/checkpoint: the checkpoint is ahead of bank ${JSON.stringify(bankName)} (revision ${bank.revision})`, { location: 'querystring/checkpoint' });
    if (firstNeeded < bank.historyFrom) {
      throw new ResnapshotRequired(
        `the checkpoint needs bank ${JSON.stringify(bankName)}'s changes from revision ${firstNeeded}, but removals are kept only from revision ${bank.historyFrom} (${this.historyDays} days): read it again without a checkpoint`,
      );
    }
    const page = position.phase === 'snapshot' ? await this.snapshotPage(bank, position, limit) : await this.changesPage(bank, position, limit);
    return { bank: bank.name, phase: position.phase, items: page.items, checkpoint: encodeCheckpoint(page.next), has_more: page.hasMore, history_seconds: this.historySeconds };
  }

  /**
   * Forgets removals (and change-log rows no reader needs) older than the history kept, and
   * moves each affected bank's history start past them, so a checkpoint that needed them is
   * answered with a resnapshot (src/banks/history-pruning.ts). Worker processes run it hourly.
   */
  async pruneHistory(): Promise<{ tombstones: number; changes: number }> {
    this.prunedAt = this.now().getTime();
    return pruneBankHistory(this.sql, new Date(this.prunedAt - this.historySeconds * 1000));
  }

  private prunedAt = -Infinity;
  private pruning: Promise<void> | undefined;

  /** Resolves when no scheduled pruning is running (before the store closes). */
  async idle(): Promise<void> {
    await this.pruning;
  }

  /** A feed read prunes first, at most once a minute: its reader may be the only one in a while. */
  private async pruneHistoryNowAndThen(): Promise<void> {
    if (this.now().getTime() - this.prunedAt >= 60_000) await this.pruneHistory();
  }

  /** Prunes now and every interval (default an hour), until the returned function is called. */
  start(intervalMs = 3_600_000, onError: (error: Error) => void = () => undefined): () => void {
    const run = () => {
      this.pruning ??= this.pruneHistory().then(
        () => undefined,
        (error: Error) => onError(error),
      ).finally(() => (this.pruning = undefined));
    };
    run();
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Records a peer's verdict on entries of the bank (the latest per peer key and hash is kept). */
  async recordFeedback(
    bankName: string,
    key: ApiKeyInfo,
    feedback: { signals: { signalType: string; value: string }[]; verdict: PeerFeedback['verdict']; reason?: string; idempotencyKey: string },
  ): Promise<{ recorded: number }> {
    const bank = await this.publishedBank(bankName, key);
    return this.sql.transaction(async (tx) => {
      for (const [index, signal] of feedback.signals.entries()) {
        const known = await tx.query(
          `SELECT 1 FROM bank_entries WHERE bank_id = $1 AND signal_type = $2 AND md5(value) = md5($3::text) AND value = $3 AND ${OWN_ENTRY}
           UNION ALL SELECT 1 FROM bank_entry_tombstones WHERE bank_id = $1 AND signal_type = $2 AND value = $3 AND NOT from_exchange LIMIT 1`,
          [bank.id, signal.signalType, signal.value],
        );
        if (known.rows.length === 0) throw notFound(`body/signals/${index}: bank ${JSON.stringify(bankName)} has not published ${signal.signalType} ${signal.value.slice(0, 80)}`, { location: `body/signals/${index}` });
        await tx.query(
          `INSERT INTO bank_feed_feedback (bank_id, signal_type, value, api_key_id, verdict, reason, feedback_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (bank_id, api_key_id, signal_type, md5(value))
           DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason, feedback_key = excluded.feedback_key, received_at = now()`,
          [bank.id, signal.signalType, signal.value, key.id, feedback.verdict, feedback.reason ?? null, feedback.idempotencyKey],
        );
      }
      return { recorded: feedback.signals.length };
    });
  }

  /** What peers said about the bank's entries, newest first, for the publisher's operators. */
  async listFeedback(bankName: string, options: { limit?: number } = {}): Promise<PeerFeedback[]> {
    const result = await this.sql.query<{ api_key_id: number; name: string; signal_type: string; value: string; verdict: PeerFeedback['verdict']; reason: string | null; received_at: Date }>(
      `SELECT f.api_key_id, k.name, f.signal_type, f.value, f.verdict, f.reason, f.received_at
       FROM bank_feed_feedback f JOIN banks b ON b.id = f.bank_id JOIN api_keys k ON k.id = f.api_key_id
       WHERE b.name = $1 ORDER BY f.received_at DESC, f.signal_type, f.value LIMIT $2`,
      [bankName, Math.min(Math.max(options.limit ?? 1000, 1), 10_000)],
    );
    return result.rows.map((row) => ({
      peer: { keyId: row.api_key_id, name: row.name },
      signalType: row.signal_type,
      value: row.value,
      verdict: row.verdict,
      reason: row.reason,
      receivedAt: row.received_at,
    }));
  }

  /** The bank, if it is published and this key may read it; otherwise the same 404 either way, so a peer learns nothing of unpublished banks. */
  private async publishedBank(name: string, key: ApiKeyInfo): Promise<PublishedBank> {
    const result = await this.sql.query<{ id: number; name: string; revision: number; feed_history_from: number }>(
      'SELECT id, name, revision, feed_history_from FROM banks WHERE name = $1 AND published',
      [name],
    );
    const row = result.rows[0];
    const allowed = key.scope === 'full' || key.feedBanks === null || key.feedBanks.includes(name);
    if (!row || !allowed) throw notFound(`no published bank named ${JSON.stringify(name)} for this key`, { bank: name });
    return { id: row.id, name: row.name, revision: Number(row.revision), historyFrom: Number(row.feed_history_from) };
  }

  /** Entries by id; when they run out, the changes made since the snapshot began follow. */
  private async snapshotPage(bank: PublishedBank, position: Extract<FeedPosition, { phase: 'snapshot' }>, limit: number) {
    const rows = await this.sql.query<ItemRow>(
      `SELECT id, signal_type, value, tags FROM bank_entries WHERE bank_id = $1 AND id > $2 AND ${SHARED_ENTRY} ORDER BY id LIMIT $3`,
      [bank.id, position.afterId, limit + 1],
    );
    const page = new PageBuilder(limit);
    const taken = page.take(rows.rows, 'add');
    if (taken < rows.rows.length) {
      return { items: page.items, next: { ...position, afterId: Number(rows.rows[taken - 1].id) }, hasMore: true };
    }
    const next: ChangesPosition = { phase: 'changes', bankId: bank.id, revision: position.baseRevision + 1, part: REMOVALS, afterId: 0 };
    return { items: page.items, next, hasMore: await this.hasChangesFrom(bank.id, next.revision) };
  }

  /** The removals, then the additions, of each revision from the position on, until the page is full. */
  private async changesPage(bank: PublishedBank, start: ChangesPosition, limit: number) {
    const page = new PageBuilder(limit);
    let position = start;
    for (;;) {
      const changes = await this.sql.query<{ revision: number; added_ids: number[]; import_id: number | null; first_id: number | null; last_id: number | null; has_removed: boolean }>(
        `SELECT revision, added_ids, import_id, first_id, last_id, cardinality(removed_ids) > 0 AS has_removed
         FROM bank_entry_changes WHERE bank_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
        [bank.id, position.revision, REVISIONS_PER_READ],
      );
      if (changes.rows.length === 0) return { items: page.items, next: position, hasMore: false };
      for (const change of changes.rows) {
        const revision = Number(change.revision);
        if (revision > position.revision) position = { ...position, revision, part: REMOVALS, afterId: 0 };
        if (position.part === REMOVALS && change.has_removed) {
          const rows = await this.sql.query<ItemRow>(
            'SELECT id, signal_type, value FROM bank_entry_tombstones WHERE bank_id = $1 AND revision = $2 AND id > $3 AND NOT from_exchange ORDER BY id LIMIT $4',
            [bank.id, revision, position.afterId, page.room + 1],
          );
          const taken = page.take(rows.rows, 'delete');
          if (taken < rows.rows.length) return { items: page.items, next: { ...position, afterId: taken > 0 ? Number(rows.rows[taken - 1].id) : position.afterId }, hasMore: true };
        }
        if (position.part === REMOVALS) position = { ...position, part: ADDITIONS, afterId: 0 };
        const imported = change.import_id !== null;
        if (change.added_ids.length > 0 || imported) {
          const rows = await this.sql.query<ItemRow>(
            `SELECT id, signal_type, value, tags FROM bank_entries
             WHERE bank_id = $1 AND id > $2 AND (id = ANY($3::bigint[]) OR (import_id = $4 AND id BETWEEN $5 AND $6)) AND ${SHARED_ENTRY}
             ORDER BY id LIMIT $7`,
            [bank.id, position.afterId, change.added_ids, change.import_id, change.first_id, change.last_id, page.room + 1],
          );
          const taken = page.take(rows.rows, 'add');
          if (taken < rows.rows.length) return { items: page.items, next: { ...position, afterId: taken > 0 ? Number(rows.rows[taken - 1].id) : position.afterId }, hasMore: true };
        }
        position = { ...position, revision: revision + 1, part: REMOVALS, afterId: 0 };
        if (page.full) return { items: page.items, next: position, hasMore: await this.hasChangesFrom(bank.id, position.revision) };
      }
    }
  }

  private async hasChangesFrom(bankId: number, revision: number): Promise<boolean> {
    const result = await this.sql.query('SELECT 1 FROM bank_entry_changes WHERE bank_id = $1 AND revision >= $2 LIMIT 1', [bankId, revision]);
    return result.rows.length > 0;
  }
}

/** Items of one page, up to a count and a byte budget (at least one item, however large). */
class PageBuilder {
  readonly items: FeedItem[] = [];
  private bytes = 0;

  constructor(private readonly limit: number) {}

  get room(): number {
    return Math.max(this.limit - this.items.length, 0);
  }

  get full(): boolean {
    return this.items.length >= this.limit || this.bytes >= PAGE_BYTES;
  }

  /** Adds rows while there is room; says how many it took. */
  take(rows: ItemRow[], op: 'add' | 'delete'): number {
    let taken = 0;
    for (const row of rows) {
      if (this.full) break;
      this.items.push(op === 'add' ? { op, signal_type: row.signal_type, value: row.value, tags: row.tags ?? [] } : { op, signal_type: row.signal_type, value: row.value });
      this.bytes += row.value.length;
      taken++;
    }
    return taken;
  }
}
