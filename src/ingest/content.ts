import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { EventLog } from '../events/event-log.ts';
import type { SuppressedMatch } from '../match/allow-banks.ts';
import type { BankMatch, MatchOptions, Matcher, SignalOutcome } from '../match/matcher.ts';
import type { MediaHashing } from '../signals/hashing/media-hashing.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { ComputedSignal, MediaInput, VideoHashOptions } from '../signals/types.ts';
import type { SqlClient } from '../store/sql.ts';
import { type MediaVault, sniffMediaType } from '../media/media-vault.ts';

export const CONTENT_MATCHED_EVENT = 'content.matched';
/** Every match of the content was set aside by an allow bank: nothing to act on, but on record. */
export const CONTENT_MATCH_SUPPRESSED_EVENT = 'content.match_suppressed';

export interface ContentSubmission {
  contentId: string;
  accountId: string;
  contentType: string;
  /** When the user created the content on the platform. */
  createdAt?: Date;
  /** The media, when Bulwark is to hash them: bytes, or a file (uploads streamed to disk). */
  media?: MediaInput;
  /** Hashes the platform computed itself, instead of (or besides) the media. */
  signals?: { signalType: string; value: string; quality?: number }[];
}

export interface ContentRecord {
  contentId: string;
  accountId: string;
  contentType: string;
  matched: boolean;
  signals: SignalOutcome[];
  matches: BankMatch[];
  /** Matches allow banks set aside, each with the allow entry that did. */
  suppressed: SuppressedMatch[];
  createdAt: Date | null;
  receivedAt: Date;
}

export interface SubmitResult {
  record: ContentRecord;
  /** True when this content id was already submitted: nothing was hashed, stored or emitted again. */
  duplicate: boolean;
}

export interface ContentMatchedPayload {
  content_id: string;
  account_id: string;
  content_type: string;
  matches: {
    bank: string;
    signal_type: string;
    value: string;
    distance: number;
    entry_id: number;
    variant?: string;
    tags: string[];
    /** The exchange items the entry came from, where it has any (src/exchange/provenance.ts). */
    provenance?: { exchange: string; member: string | null; item_key: string; tags: string[] }[];
  }[];
  /** Set when stored content matched entries that arrived after it (src/match/retroactive/), not at upload. */
  retroactive?: true;
  /** Matches allow banks set aside, each naming the allow entry (absent when none were). */
  suppressed?: { bank: string; signal_type: string; distance: number; entry_id: number; suppressed_by: { bank: string; entry_id: number; signal_type: string; distance: number } }[];
}

interface ContentRow {
  content_id: string;
  account_id: string;
  content_type: string;
  signals: SignalOutcome[];
  matches: BankMatch[];
  suppressed: SuppressedMatch[];
  created_at: Date | null;
  received_at: Date;
}

const toRecord = (row: ContentRow): ContentRecord => ({
  contentId: row.content_id,
  accountId: row.account_id,
  contentType: row.content_type,
  matched: row.matches.length > 0,
  signals: row.signals,
  matches: row.matches,
  suppressed: row.suppressed,
  createdAt: row.created_at,
  receivedAt: row.received_at,
});

const CONTENT_COLUMNS = 'content_id, account_id, content_type, signals, matches, suppressed, created_at, received_at';
const ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface ContentServiceOptions {
  maxPixels?: number;
  video?: VideoHashOptions;
  matchOptions?: MatchOptions;
  /** Where the media of matched content is kept for review; absent, no media is kept. */
  mediaVault?: MediaVault;
  /** Hears, after commit, which entries each new upload matched (the flood guard counts them). */
  onMatched?: (contentId: string, matches: BankMatch[]) => void;
}

/** Ingest stage: hashes submitted content, matches it, stores the outcome and emits match events. */
export class ContentService {
  constructor(
    private readonly sql: SqlClient,
    private readonly signals: SignalRegistry,
    private readonly hashing: MediaHashing,
    private readonly matcher: Matcher,
    private readonly events: EventLog,
    private readonly options: ContentServiceOptions = {},
  ) {}

  async get(contentId: string): Promise<ContentRecord> {
    const result = await this.sql.query<ContentRow>(`SELECT ${CONTENT_COLUMNS} FROM content WHERE content_id = $1`, [contentId]);
    if (result.rows.length === 0) throw notFound(`no content with id ${JSON.stringify(contentId)}`);
    return toRecord(result.rows[0]);
  }

  async submit(submission: ContentSubmission): Promise<SubmitResult> {
    validateSubmission(submission);
    // Media are hashed only for content not stored yet. Hashes given by the platform are
    // matched first: a match's entries and the stored row (if any) then come in one query,
    // so a matched upload makes no more round trips than one that matches nothing (issue 11).
    const hashesMedia = submission.media !== undefined;
    if (hashesMedia) {
      const existing = await this.findExisting(submission);
      if (existing) return { record: existing, duplicate: true };
    }
    const computed = await this.computeSignals(submission);
    // The content id is the coin of banks enabled for a share of traffic: a resubmission gets the same answer.
    const result = await this.matcher.match(computed, {
      ...this.options.matchOptions,
      seed: submission.contentId,
      ...(hashesMedia ? {} : { alongside: { contentId: submission.contentId, columns: CONTENT_COLUMNS } }),
    });
    if (!hashesMedia) {
      const existing = result.alongside !== undefined ? this.checkExisting(submission, result.alongside as ContentRow | null) : await this.findExisting(submission);
      if (existing) return { record: existing, duplicate: true };
    }
    const { row, event } = await this.sql.transaction(async (tx) => {
      // The signals also go to content_signals, in the same statement: retroactive matching
      // (src/match/retroactive/) reads them there. Low-quality ones were not matched and are left out.
      const kept = result.signals.filter((signal) => signal.status !== 'low_quality');
      const payload = matchedPayload(submission, result.matches, result.suppressed);
      const eventType = result.matched ? CONTENT_MATCHED_EVENT : result.suppressed.length > 0 ? CONTENT_MATCH_SUPPRESSED_EVENT : undefined;
      // The content row and its event in one statement: a matched upload waits for it.
      const written = await this.events.writeAndAppend<ContentRow>(
        tx,
        {
          ctes: `inserted AS (
             INSERT INTO content (content_id, account_id, content_type, signals, matches, suppressed, created_at)
             VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7) ON CONFLICT (content_id) DO NOTHING RETURNING ${CONTENT_COLUMNS}
           ), kept AS (
             INSERT INTO content_signals (content_id, signal_type, value, exact, received_at)
             SELECT i.content_id, s.signal_type, s.value, s.exact, i.received_at FROM inserted i, unnest($8::text[], $9::text[], $10::boolean[]) AS s(signal_type, value, exact)
           )`,
          from: 'inserted',
          params: [
            submission.contentId, submission.accountId, submission.contentType, JSON.stringify(result.signals), JSON.stringify(result.matches), JSON.stringify(result.suppressed), submission.createdAt ?? null,
            kept.map((signal) => signal.signalType), kept.map((signal) => signal.value), kept.map((signal) => this.signals.get(signal.signalType).matching === 'exact'),
          ],
        },
        eventType ? { type: eventType, subject: `content:${submission.contentId}`, payload } : undefined,
      );
      if (!written.row) return { row: undefined, event: undefined };
      // Media kept for review are what reviewers can look at: pictures, sealed in the store.
      // Videos (streamed to disk, up to gigabytes) are not copied into it; reviewers get their hashes.
      if (result.matched && Buffer.isBuffer(submission.media) && this.options.mediaVault) {
        await this.options.mediaVault.store(tx, submission.contentId, sniffMediaType(submission.media), submission.media);
      }
      return written;
    });
    if (!row) {
      // Another request stored the same content id between our check and our insert.
      const raced = await this.findExisting(submission);
      if (!raced) throw new BulwarkError('unavailable', 'content was stored concurrently and then disappeared; retry');
      return { record: raced, duplicate: true };
    }
    if (event) this.events.published([event]);
    if (result.matched) this.options.onMatched?.(submission.contentId, result.matches);
    return { record: toRecord(row), duplicate: false };
  }

  private async findExisting(submission: ContentSubmission): Promise<ContentRecord | undefined> {
    const found = await this.sql.query<ContentRow>(`SELECT ${CONTENT_COLUMNS} FROM content WHERE content_id = $1`, [submission.contentId]);
    return this.checkExisting(submission, found.rows[0] ?? null);
  }

  /** The stored content of this id, refused if another account submitted it. */
  private checkExisting(submission: ContentSubmission, row: ContentRow | null): ContentRecord | undefined {
    if (!row) return undefined;
    const record = toRecord(row);
    if (record.accountId !== submission.accountId) {
      throw conflict(`content ${JSON.stringify(submission.contentId)} was already submitted for a different account`, { content_id: submission.contentId });
    }
    return record;
  }

  private async computeSignals(submission: ContentSubmission): Promise<ComputedSignal[]> {
    const computed: ComputedSignal[] = [];
    if (submission.media) {
      const { maxPixels, video } = this.options;
      computed.push(...(await this.hashing.hash(submission.contentType, submission.media, { maxPixels, video })));
    }
    for (const given of submission.signals ?? []) {
      const { signalType, value } = this.signals.normalize(given.signalType, given.value);
      if (computed.some((signal) => signal.signalType === signalType)) continue;
      computed.push({ signalType, value, ...(given.quality !== undefined ? { quality: given.quality } : {}) });
    }
    return computed;
  }
}

function validateSubmission(submission: ContentSubmission): void {
  if (!ID_PATTERN.test(submission.contentId)) throw invalid('content_id must be 1-200 printable ASCII characters without spaces');
  if (!ID_PATTERN.test(submission.accountId)) throw invalid('account_id must be 1-200 printable ASCII characters without spaces');
  if (!submission.media && (!submission.signals || submission.signals.length === 0)) {
    throw invalid('submit the media or at least one precomputed hash');
  }
}

/** The content.matched payload; retroactive matching builds it from a stored content row. */
export function matchedPayload(submission: Pick<ContentSubmission, 'contentId' | 'accountId' | 'contentType'>, matches: BankMatch[], suppressed: SuppressedMatch[] = []): ContentMatchedPayload {
  return {
    content_id: submission.contentId,
    account_id: submission.accountId,
    content_type: submission.contentType,
    matches: matches.map((match) => ({
      bank: match.bank,
      signal_type: match.signalType,
      value: match.value,
      distance: match.distance,
      entry_id: match.entryId,
      ...(match.variant ? { variant: match.variant } : {}),
      tags: match.tags,
      ...(match.provenance?.length ? { provenance: match.provenance.map((from) => ({ exchange: from.exchange, member: from.member, item_key: from.itemKey, tags: from.tags })) } : {}),
    })),
    ...(suppressed.length > 0
      ? {
          suppressed: suppressed.map((match) => ({
            bank: match.bank,
            signal_type: match.signalType,
            distance: match.distance,
            entry_id: match.entryId,
            suppressed_by: { bank: match.suppressedBy.bank, entry_id: match.suppressedBy.entryId, signal_type: match.suppressedBy.signalType, distance: match.suppressedBy.distance },
          })),
        }
      : {}),
  };
}
