import { createHash, createHmac } from 'node:crypto';
import { invalid } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { AccountDirectory } from '../graph/accounts.ts';
import type { SqlClient } from '../store/sql.ts';
import type { TermListService } from '../terms/term-lists.ts';
import type { TermMatch, TermMatcher } from '../terms/term-matcher.ts';
import { hashtagFeature, linkFeatures, searchFeature } from './event-features.ts';
import { type PlatformEvent, platformEventSchema } from './platform-events.ts';
import { findUnstorable } from '../validation/edge.ts';

export interface EventIngestOptions {
  /**
   * Key for hashing identifiers (device, email, phone, IP range, off-platform handle) before
   * they are stored. Without one they are hashed unkeyed, which still keeps them out of
   * the store as written but lets anyone holding a guess confirm it.
   */
  identifierKey?: string;
  /** Where account.term_matched events go, for the rules; absent, term matches only become graph features. */
  events?: EventLog;
}

export const TERM_MATCHED_EVENT = 'account.term_matched';
export type TermSurface = 'bio' | 'comment' | 'search' | 'hashtag';

export interface IngestResult {
  received: number;
  applied: number;
  /** Events whose event_id was seen before (in this batch or an earlier one): not applied again. */
  duplicates: number;
  /** Valid events that carry nothing to apply, with the reason (e.g. an account interacting with itself). */
  ignored: { index: number; reason: string }[];
  termMatches: number;
}

export interface EventProblem {
  index: number;
  path: string;
  message: string;
}

/** A batch with any invalid event is refused whole, so a platform can fix and resend it without guessing what landed. */
export const MAX_REPORTED_PROBLEMS = 20;

export function parsePlatformEvents(raw: readonly unknown[], indexBase = 0): PlatformEvent[] {
  const parsed: PlatformEvent[] = [];
  const problems: EventProblem[] = [];
  let problemCount = 0;
  raw.forEach((item, index) => {
    // Text the store cannot hold (NUL, a lone surrogate) is refused here, where every path in (HTTP, import) passes.
    const unstorable = findUnstorable(item);
    const result = unstorable
      ? { success: false as const, error: { issues: [{ path: unstorable.path, message: unstorable.reason }] } }
      : platformEventSchema.safeParse(item);
    if (result.success) {
      parsed.push(result.data);
      return;
    }
    problemCount++;
    if (problems.length < MAX_REPORTED_PROBLEMS) {
      const issue = result.error.issues[0];
      problems.push({ index: index + indexBase, path: issue.path.join('.') || '(event)', message: issue.message });
    }
  });
  if (problemCount > 0) {
    const first = problems[0];
    throw invalid(`${problemCount} of ${raw.length} events are invalid; none were applied (first: event ${first.index}, ${first.path}: ${first.message})`, {
      invalid_events: problemCount,
      problems,
    });
  }
  return parsed;
}

interface EdgeRow {
  src: number;
  dst: number;
  kind: string;
  count: number;
  first_at: string;
  last_at: string;
  active: boolean;
  state_at: string;
  via: string | null;
}

interface FeatureRow {
  account_id: number;
  kind: string;
  value: string;
  count: number;
  first_at: string;
  last_at: string;
}

interface AccountChange {
  id: number;
  minor?: boolean;
  minor_basis?: string | null;
  minor_at?: string;
  verified?: boolean;
  verified_at?: string;
  created_at?: string;
  deleted_at?: string;
  deletion_reason?: string;
}

const earlier = (a: string, b: string) => (Date.parse(a) <= Date.parse(b) ? a : b);
const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Applies platform events to the account graph: interactions become weighted edges,
 * shared traces become features, attributes update accounts, impressions are logged for
 * the audit, and text is matched against the operator's term lists and then dropped.
 * A batch is one transaction.
 */
export class EventIngestService {
  constructor(
    private readonly sql: SqlClient,
    private readonly accounts: AccountDirectory,
    private readonly terms: TermListService,
    private readonly options: EventIngestOptions = {},
  ) {}

  /** Validates then applies a batch; invalid input is refused whole with every problem's index. */
  async ingest(raw: readonly unknown[], indexBase = 0): Promise<IngestResult> {
    return this.apply(parsePlatformEvents(raw, indexBase));
  }

  async apply(events: readonly PlatformEvent[]): Promise<IngestResult> {
    const matcher = await this.terms.matcher();
    try {
      const published: DomainEvent[] = [];
      const result = await this.sql.transaction((tx) => this.applyIn(tx, events, matcher, published));
      this.options.events?.published(published);
      return result;
    } catch (error) {
      this.accounts.clearCache();
      throw error;
    }
  }

  private hashIdentifier(kind: string, value: string): string {
    const input = `${kind}:${value.trim().toLowerCase()}`;
    const digest = this.options.identifierKey
      ? createHmac('sha256', this.options.identifierKey).update(input).digest('hex')
      : createHash('sha256').update(input).digest('hex');
    return digest.slice(0, 32);
  }

  private async applyIn(tx: SqlClient, all: readonly PlatformEvent[], matcher: TermMatcher, published: DomainEvent[]): Promise<IngestResult> {
    const fresh = await this.dropDuplicates(tx, all);
    const result: IngestResult = { received: all.length, applied: 0, duplicates: all.length - fresh.length, ignored: [], termMatches: 0 };

    const externalIds = new Set<string>();
    for (const { event } of fresh) for (const id of accountsOf(event)) externalIds.add(id);
    const ids = await this.accounts.ensure(tx, externalIds);
    const idOf = (external: string) => ids.get(external)!;

    const edges = new Map<string, EdgeRow>();
    const features = new Map<string, FeatureRow>();
    const changes = new Map<number, AccountChange>();
    const impressions: { viewer: number; shown: number; surface: string; content_id: string | null; shown_at: string }[] = [];

    const addFeature = (account: number, kind: string, value: string, at: string) => {
      const key = `${account}\u0000${kind}\u0000${value}`;
      const row = features.get(key);
      if (row) {
        row.count++;
        row.first_at = earlier(row.first_at, at);
        row.last_at = later(row.last_at, at);
      } else features.set(key, { account_id: account, kind, value, count: 1, first_at: at, last_at: at });
    };
    // Per account, what its text matched in this batch: one event each for the rules.
    const termMatchesByAccount = new Map<string, { list: string; term_id: string; surface: TermSurface }[]>();
    const addTermMatches = (external: string, surface: TermSurface, matches: TermMatch[], at: string) => {
      if (matches.length === 0) return;
      const account = idOf(external);
      let found = termMatchesByAccount.get(external);
      if (!found) termMatchesByAccount.set(external, (found = []));
      for (const match of matches) {
        addFeature(account, 'term', `${match.list}:${match.termId}`, at);
        found.push({ list: match.list, term_id: match.termId, surface });
      }
      result.termMatches += matches.length;
    };
    const change = (id: number) => {
      let entry = changes.get(id);
      if (!entry) changes.set(id, (entry = { id }));
      return entry;
    };

    for (const { event, index } of fresh) {
      const at = event.occurred_at;
      switch (event.type) {
        case 'follow':
        case 'unfollow':
        case 'message':
        case 'comment':
        case 'like':
        case 'share': {
          if (event.actor === event.target) {
            result.ignored.push({ index, reason: 'an account interacting with itself adds nothing to the graph' });
            continue;
          }
          const kind = event.type === 'unfollow' ? 'follow' : event.type;
          const src = idOf(event.actor);
          const dst = idOf(event.target);
          const key = `${src}\u0000${dst}\u0000${kind}`;
          const counts = event.type === 'unfollow' ? 0 : 1;
          const active = event.type !== 'unfollow';
          const via = event.type === 'follow' ? (event.via ?? null) : null;
          const row = edges.get(key);
          if (!row) edges.set(key, { src, dst, kind, count: counts, first_at: at, last_at: at, active, state_at: at, via });
          else {
            row.count += counts;
            row.first_at = earlier(row.first_at, at);
            row.last_at = later(row.last_at, at);
            if (Date.parse(at) >= Date.parse(row.state_at)) {
              row.active = active;
              row.state_at = at;
              if (via) row.via = via;
            }
          }
          if (event.type === 'comment' && event.text) addTermMatches(event.actor, 'comment', matcher.match(event.text), at);
          break;
        }
        case 'profile_link': {
          const url = linkFeatures(event.url);
          if (!url) {
            result.ignored.push({ index, reason: 'the url has no host' });
            continue;
          }
          const account = idOf(event.actor);
          addFeature(account, 'link', url.link, at);
          addFeature(account, 'link_domain', url.domain, at);
          break;
        }
        case 'hashtag': {
          const tag = hashtagFeature(event.hashtag);
          if (!tag) {
            result.ignored.push({ index, reason: 'the hashtag is empty after normalisation' });
            continue;
          }
          const account = idOf(event.actor);
          addFeature(account, 'hashtag', tag, at);
          addTermMatches(event.actor, 'hashtag', matcher.matchHashtag(event.hashtag), at);
          break;
        }
        case 'search': {
          const account = idOf(event.actor);
          addFeature(account, 'search', searchFeature(event), at);
          if (event.query !== undefined) addTermMatches(event.actor, 'search', matcher.match(event.query), at);
          break;
        }
        case 'recommendation_impression':
          impressions.push({ viewer: idOf(event.viewer), shown: idOf(event.shown), surface: event.surface, content_id: event.content_id ?? null, shown_at: at });
          break;
        case 'account_created': {
          const entry = change(idOf(event.account));
          entry.created_at = entry.created_at ? earlier(entry.created_at, at) : at;
          break;
        }
        case 'account_deleted': {
          const entry = change(idOf(event.account));
          if (!entry.deleted_at || Date.parse(at) < Date.parse(entry.deleted_at)) {
            entry.deleted_at = at;
            entry.deletion_reason = event.reason;
          }
          break;
        }
        case 'account_attributes': {
          const account = idOf(event.account);
          const entry = change(account);
          if (event.minor !== undefined && (!entry.minor_at || Date.parse(at) >= Date.parse(entry.minor_at))) {
            entry.minor = event.minor;
            entry.minor_basis = event.minor_basis ?? null;
            entry.minor_at = at;
          }
          if (event.verified !== undefined && (!entry.verified_at || Date.parse(at) >= Date.parse(entry.verified_at))) {
            entry.verified = event.verified;
            entry.verified_at = at;
          }
          if (event.created_at) entry.created_at = entry.created_at ? earlier(entry.created_at, event.created_at) : event.created_at;
          if (event.bio) addTermMatches(event.account, 'bio', matcher.match(event.bio), at);
          break;
        }
        case 'identifier':
          addFeature(idOf(event.account), `identifier:${event.kind}`, this.hashIdentifier(event.kind, event.value), at);
          break;
      }
      result.applied++;
    }

    await this.writeEdges(tx, [...edges.values()]);
    await this.writeFeatures(tx, [...features.values()]);
    await this.writeAccountChanges(tx, [...changes.values()]);
    if (impressions.length > 0) {
      await tx.query(
        `INSERT INTO recommendation_impressions (viewer, shown, surface, content_id, shown_at)
         SELECT r.viewer, r.shown, r.surface, r.content_id, r.shown_at
         FROM jsonb_to_recordset($1::jsonb) AS r(viewer integer, shown integer, surface text, content_id text, shown_at timestamptz)`,
        [JSON.stringify(impressions)],
      );
    }
    if (this.options.events) {
      for (const [account, matches] of termMatchesByAccount) {
        published.push(await this.options.events.append(tx, TERM_MATCHED_EVENT, `account:${account}`, { account_id: account, matches }));
      }
    }
    return result;
  }

  /** Keeps each event whose id is new; events without an id are always applied. */
  private async dropDuplicates(tx: SqlClient, events: readonly PlatformEvent[]): Promise<{ event: PlatformEvent; index: number }[]> {
    const firstIndex = new Map<string, number>();
    events.forEach((event, index) => {
      if (event.event_id !== undefined && !firstIndex.has(event.event_id)) firstIndex.set(event.event_id, index);
    });
    let fresh = new Set<string>();
    if (firstIndex.size > 0) {
      const inserted = await tx.query<{ event_id: string }>(
        `INSERT INTO platform_event_ids (event_id) SELECT value FROM jsonb_array_elements_text($1::jsonb) ON CONFLICT DO NOTHING RETURNING event_id`,
        [JSON.stringify([...firstIndex.keys()])],
      );
      fresh = new Set(inserted.rows.map((row) => row.event_id));
    }
    const kept: { event: PlatformEvent; index: number }[] = [];
    events.forEach((event, index) => {
      if (event.event_id === undefined || (fresh.has(event.event_id) && firstIndex.get(event.event_id) === index)) kept.push({ event, index });
    });
    return kept;
  }

  private async writeEdges(tx: SqlClient, rows: EdgeRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One lock order for every writer, so concurrent batches on PostgreSQL cannot deadlock.
    rows.sort((a, b) => a.src - b.src || a.dst - b.dst || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
    await tx.query(
      `INSERT INTO account_edges (src, dst, kind, count, first_at, last_at, active, state_at, via)
       SELECT r.src, r.dst, r.kind, r.count, r.first_at, r.last_at, r.active, r.state_at, r.via
       FROM jsonb_to_recordset($1::jsonb) AS r(src integer, dst integer, kind text, count integer, first_at timestamptz, last_at timestamptz, active boolean, state_at timestamptz, via text)
       ON CONFLICT (src, dst, kind) DO UPDATE SET
         count = account_edges.count + excluded.count,
         first_at = least(account_edges.first_at, excluded.first_at),
         last_at = greatest(account_edges.last_at, excluded.last_at),
         active = CASE WHEN excluded.state_at >= account_edges.state_at THEN excluded.active ELSE account_edges.active END,
         via = CASE WHEN excluded.state_at >= account_edges.state_at AND excluded.via IS NOT NULL THEN excluded.via ELSE account_edges.via END,
         state_at = greatest(account_edges.state_at, excluded.state_at)`,
      [JSON.stringify(rows)],
    );
  }

  private async writeFeatures(tx: SqlClient, rows: FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    rows.sort((a, b) => a.account_id - b.account_id || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    await tx.query(
      `INSERT INTO account_features (account_id, kind, value, count, first_at, last_at)
       SELECT r.account_id, r.kind, r.value, r.count, r.first_at, r.last_at
       FROM jsonb_to_recordset($1::jsonb) AS r(account_id integer, kind text, value text, count integer, first_at timestamptz, last_at timestamptz)
       ON CONFLICT (account_id, kind, value) DO UPDATE SET
         count = account_features.count + excluded.count,
         first_at = least(account_features.first_at, excluded.first_at),
         last_at = greatest(account_features.last_at, excluded.last_at)`,
      [JSON.stringify(rows)],
    );
  }

  private async writeAccountChanges(tx: SqlClient, rows: AccountChange[]): Promise<void> {
    if (rows.length === 0) return;
    rows.sort((a, b) => a.id - b.id);
    // Each field keeps the value from the newest event that set it, whatever order events arrive in.
    await tx.query(
      `UPDATE accounts a SET
         minor = CASE WHEN r.minor_at IS NOT NULL AND (a.minor_at IS NULL OR r.minor_at >= a.minor_at) THEN r.minor ELSE a.minor END,
         minor_basis = CASE WHEN r.minor_at IS NOT NULL AND (a.minor_at IS NULL OR r.minor_at >= a.minor_at) THEN r.minor_basis ELSE a.minor_basis END,
         minor_at = greatest(a.minor_at, r.minor_at),
         verified = CASE WHEN r.verified_at IS NOT NULL AND (a.verified_at IS NULL OR r.verified_at >= a.verified_at) THEN r.verified ELSE a.verified END,
         verified_at = greatest(a.verified_at, r.verified_at),
         created_at = least(a.created_at, r.created_at),
         deletion_reason = CASE WHEN r.deleted_at IS NOT NULL AND (a.deleted_at IS NULL OR r.deleted_at < a.deleted_at) THEN r.deletion_reason ELSE a.deletion_reason END,
         deleted_at = least(a.deleted_at, r.deleted_at),
         guard_seq = nextval('account_guard_seq')
       FROM jsonb_to_recordset($1::jsonb) AS r(id integer, minor boolean, minor_basis text, minor_at timestamptz, verified boolean, verified_at timestamptz,
                                               created_at timestamptz, deleted_at timestamptz, deletion_reason text)
       WHERE a.id = r.id`,
      [JSON.stringify(rows)],
    );
  }
}

function accountsOf(event: PlatformEvent): string[] {
  switch (event.type) {
    case 'follow':
    case 'unfollow':
    case 'message':
    case 'comment':
    case 'like':
    case 'share':
      return [event.actor, event.target];
    case 'profile_link':
    case 'hashtag':
    case 'search':
      return [event.actor];
    case 'recommendation_impression':
      return [event.viewer, event.shown];
    case 'account_created':
    case 'account_deleted':
    case 'account_attributes':
    case 'identifier':
      return [event.account];
  }
}
