import { hashtagFeature, linkFeatures, searchFeature } from '../ingest/event-features.ts';
import type { PlatformEvent, PlatformEventInput } from '../ingest/platform-events.ts';
import type { TermMatch, TermMatcher } from '../terms/term-matcher.ts';
import { type AccountGraph, AccountGraphBuilder, type AccountRecord, type GraphBuildOptions, LABEL_CODES } from './account-graph.ts';

/**
 * Builds the in-memory graph straight from a stream of platform events, without the store:
 * for analysing an export offline, and for measuring the analysis at a scale where the
 * store's own ingest would dominate. Events are trusted to be valid (run them through
 * platformEventSchema first when they come from outside); interactions are counted one
 * arc per event and merged when the graph is built. Everything goes into the builder's
 * typed arrays as it arrives, so millions of events leave no objects behind.
 */
export class EventStreamGraph {
  private readonly ids = new Map<string, AccountRecord>();
  private readonly builder: AccountGraphBuilder;
  private interactions = 0;
  events = 0;

  private readonly terms?: TermMatcher;

  /** terms: the operator's lists, matched here as the store's ingest matches them, so term matches become 'term' features. */
  constructor(options: GraphBuildOptions & { terms?: TermMatcher } = {}) {
    this.builder = new AccountGraphBuilder(options);
    this.terms = options.terms;
  }

  private termMatches(externalId: string, matches: TermMatch[] | undefined): void {
    if (!matches?.length) return;
    const account = this.account(externalId).storeId;
    for (const match of matches) this.builder.addFeature(account, 'term', `${match.list}:${match.termId}`);
  }

  private account(externalId: string): AccountRecord {
    let account = this.ids.get(externalId);
    if (!account) {
      account = { storeId: this.ids.size + 1, externalId, createdAt: Number.NaN, deletedAt: Number.NaN, enforced: false, minor: false, label: 0 };
      this.ids.set(externalId, account);
      this.builder.addAccount(account);
    }
    return account;
  }

  label(externalId: string, label: 'confirmed' | 'suspected'): void {
    this.account(externalId).label = LABEL_CODES[label];
  }

  add(raw: PlatformEventInput | PlatformEvent): void {
    const event = raw as PlatformEvent;
    this.events++;
    switch (event.type) {
      case 'follow':
      case 'message':
      case 'comment':
      case 'like':
      case 'share':
        this.builder.addInteraction(this.account(event.actor).storeId, this.account(event.target).storeId, event.type, 1);
        this.interactions++;
        if (event.type === 'comment' && event.text) this.termMatches(event.actor, this.terms?.match(event.text));
        break;
      case 'profile_link': {
        const url = linkFeatures(event.url);
        if (!url) break;
        const account = this.account(event.actor).storeId;
        this.builder.addFeature(account, 'link', url.link);
        this.builder.addFeature(account, 'link_domain', url.domain);
        break;
      }
      case 'hashtag': {
        const tag = hashtagFeature(event.hashtag);
        if (tag) this.builder.addFeature(this.account(event.actor).storeId, 'hashtag', tag);
        if (tag) this.termMatches(event.actor, this.terms?.matchHashtag(event.hashtag));
        break;
      }
      case 'identifier':
        this.builder.addFeature(this.account(event.account).storeId, `identifier:${event.kind}`, event.value);
        break;
      case 'search':
        this.builder.addFeature(this.account(event.actor).storeId, 'search', searchFeature(event));
        if (event.query !== undefined) this.termMatches(event.actor, this.terms?.match(event.query));
        break;
      case 'account_created': {
        const time = Date.parse(event.occurred_at);
        const account = this.account(event.account);
        if (!(account.createdAt! <= time)) account.createdAt = time;
        break;
      }
      case 'account_deleted': {
        const account = this.account(event.account);
        account.deletedAt = Date.parse(event.occurred_at);
        account.enforced = event.reason === 'enforcement';
        break;
      }
      case 'account_attributes': {
        const account = this.account(event.account);
        if (event.minor !== undefined) account.minor = event.minor;
        if (event.bio) this.termMatches(event.account, this.terms?.match(event.bio));
        break;
      }
      default:
        // Unfollows, impressions: the offline analysis reads only what builds the graph.
        break;
    }
  }

  get accountCount(): number {
    return this.ids.size;
  }

  get interactionCount(): number {
    return this.interactions;
  }

  build(): AccountGraph {
    return this.builder.build();
  }
}
