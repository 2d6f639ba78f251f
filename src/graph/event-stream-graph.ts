import { createHash } from 'node:crypto';
import type { PlatformEvent, PlatformEventInput } from '../ingest/platform-events.ts';
import { AccountGraphBuilder, type AccountGraph, type GraphBuildOptions, LABEL_CODES } from './account-graph.ts';

interface PendingAccount {
  storeId: number;
  externalId: string;
  createdAt: number;
  deletedAt: number;
  enforced: boolean;
  minor: boolean;
}

/**
 * Builds the in-memory graph straight from a stream of platform events, without the store:
 * for analysing an export offline, and for measuring the analysis at a scale where the
 * store's own ingest would dominate. Events are trusted to be valid (run them through
 * platformEventSchema first when they come from outside); interactions are counted one
 * arc per event and merged when the graph is built.
 */
export class EventStreamGraph {
  private readonly ids = new Map<string, PendingAccount>();
  private readonly accounts: PendingAccount[] = [];
  private readonly interactions: { src: Int32Array; dst: Int32Array; kind: Uint8Array; length: number } = {
    src: new Int32Array(1 << 16),
    dst: new Int32Array(1 << 16),
    kind: new Uint8Array(1 << 16),
    length: 0,
  };
  private readonly features: { account: number; kind: string; value: string }[] = [];
  private readonly labels = new Map<number, number>();
  events = 0;

  private account(externalId: string): PendingAccount {
    let account = this.ids.get(externalId);
    if (!account) {
      account = { storeId: this.accounts.length + 1, externalId, createdAt: Number.NaN, deletedAt: Number.NaN, enforced: false, minor: false };
      this.ids.set(externalId, account);
      this.accounts.push(account);
    }
    return account;
  }

  private interaction(src: number, dst: number, kind: number): void {
    const store = this.interactions;
    if (store.length === store.src.length) {
      const grow = <T extends Int32Array | Uint8Array>(array: T): T => {
        const next = new (array.constructor as new (n: number) => T)(array.length * 2);
        next.set(array);
        return next;
      };
      store.src = grow(store.src);
      store.dst = grow(store.dst);
      store.kind = grow(store.kind);
    }
    store.src[store.length] = src;
    store.dst[store.length] = dst;
    store.kind[store.length++] = kind;
  }

  label(externalId: string, label: 'confirmed' | 'suspected'): void {
    this.labels.set(this.account(externalId).storeId, LABEL_CODES[label]);
  }

  add(raw: PlatformEventInput | PlatformEvent): void {
    const event = raw as PlatformEvent;
    this.events++;
    const time = Date.parse(event.occurred_at);
    switch (event.type) {
      case 'follow':
      case 'message':
      case 'comment':
      case 'like':
      case 'share':
        this.interaction(this.account(event.actor).storeId, this.account(event.target).storeId, KIND_CODES[event.type]);
        break;
      case 'profile_link': {
        const host = event.url.replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
        const account = this.account(event.actor).storeId;
        this.features.push({ account, kind: 'link', value: event.url.toLowerCase() }, { account, kind: 'link_domain', value: host });
        break;
      }
      case 'hashtag':
        this.features.push({ account: this.account(event.actor).storeId, kind: 'hashtag', value: event.hashtag.replace(/^#/, '').toLowerCase() });
        break;
      case 'identifier':
        this.features.push({ account: this.account(event.account).storeId, kind: `identifier:${event.kind}`, value: event.value });
        break;
      case 'search':
        if (event.query !== undefined) this.features.push({ account: this.account(event.actor).storeId, kind: 'search', value: createHash('sha256').update(event.query).digest('hex').slice(0, 16) });
        break;
      case 'account_created': {
        const account = this.account(event.account);
        if (!(account.createdAt <= time)) account.createdAt = time;
        break;
      }
      case 'account_deleted': {
        const account = this.account(event.account);
        account.deletedAt = time;
        account.enforced = event.reason === 'enforcement';
        break;
      }
      case 'account_attributes': {
        const account = this.account(event.account);
        if (event.minor !== undefined) account.minor = event.minor;
        break;
      }
      default:
        // Unfollows, impressions: the offline analysis reads only what builds the graph.
        break;
    }
  }

  get accountCount(): number {
    return this.accounts.length;
  }

  get interactionCount(): number {
    return this.interactions.length;
  }

  build(options: GraphBuildOptions = {}): AccountGraph {
    const builder = new AccountGraphBuilder(options);
    for (const account of this.accounts) {
      builder.addAccount({ ...account, label: this.labels.get(account.storeId) ?? 0 });
    }
    const { src, dst, kind, length } = this.interactions;
    for (let i = 0; i < length; i++) builder.addInteraction(src[i], dst[i], KIND_NAMES[kind[i]], 1);
    for (const feature of this.features) builder.addFeature(feature.account, feature.kind, feature.value);
    return builder.build();
  }
}

const KIND_NAMES = ['follow', 'message', 'comment', 'like', 'share'] as const;
const KIND_CODES: Record<(typeof KIND_NAMES)[number], number> = { follow: 0, message: 1, comment: 2, like: 3, share: 4 };
