import { createHash } from 'node:crypto';
import { invalid } from '../../errors.ts';
import { FEED_PAGE_DEFAULT, FEED_PAGE_MAX, type FeedPage, RESNAPSHOT_PROBLEM_TYPE, feedItemSchema, feedPageSchema } from '../bulwark-feed-format.ts';
import {
  credentialVariable,
  type ExchangeCheckpoint,
  type ExchangeContext,
  ExchangeError,
  type ExchangeFeedback,
  type ExchangeItem,
  type ExchangeType,
  type FetchPage,
  type SignalExchange,
} from '../exchange.ts';
import { configObject, httpUrlField, integerField, refuseUnknownFields, requiredVariable } from './config-fields.ts';
import { RequestRefused, callJson } from './json-api.ts';

/**
 * Bulwark to Bulwark sharing, the subscribing side: reads a bank another Bulwark instance
 * publishes (GET {url}/v1/feeds/{bank}, src/exchange/publish/) with a feed key the publisher
 * gave this platform, and sends reviewers' verdicts back (POST …/feedback).
 */
export interface BulwarkExchangeConfig {
  /** The publisher's base URL, e.g. https://bulwark.peer.example. */
  url: string;
  /** The published bank's name at the publisher. */
  bank: string;
  /** Items per page asked for. */
  pageSize: number;
}

/** What this exchange keeps in its checkpoint's state. */
interface BulwarkFeedState {
  /** The publisher's checkpoint token, opaque here. */
  checkpoint?: string;
  /** When the last page was read (this side's clock), and how long the publisher keeps removals. */
  readAt?: string;
  historySeconds?: number;
}

/** A page body larger than this is refused (the publisher stops its pages at 8 MiB of values). */
const MAX_PAGE_BYTES = 64 * 1024 * 1024;
/** Keys longer than this (vPDQ frame lists) are named by their SHA-256 instead. */
const MAX_PLAIN_KEY = 200;

const BANK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The item's key: "signal_type value", stable across pages and fetches, so a deletion names what its addition did. */
export function bulwarkItemKey(signalType: string, value: string): string {
  return value.length <= MAX_PLAIN_KEY ? `${signalType} ${value}` : `${signalType} sha256:${createHash('sha256').update(value).digest('hex')}`;
}

export const bulwarkExchangeType: ExchangeType<BulwarkExchangeConfig> = {
  name: 'bulwark',
  // A peer is wherever its operator runs it: its host must be on BULWARK_EXCHANGE_ALLOWED_HOSTS.
  configuredUrls: (config) => [{ field: 'url', url: config.url }],
  builtInHosts: [],

  parseConfig(raw: unknown): BulwarkExchangeConfig {
    const config = configObject(raw, 'bulwark');
    refuseUnknownFields(config, ['url', 'bank', 'pageSize'], 'bulwark');
    if (config.url === undefined) throw invalid('url is required: the publishing Bulwark’s base URL', { field: 'url' });
    const url = httpUrlField(config, 'url', '');
    if (typeof config.bank !== 'string' || !BANK_NAME.test(config.bank)) throw invalid('bank must be the published bank’s name (1-63 lowercase letters, digits, "-" or "_")', { field: 'bank' });
    return { url, bank: config.bank, pageSize: integerField(config, 'pageSize', FEED_PAGE_DEFAULT, 1, FEED_PAGE_MAX) };
  },

  credentialVariables(exchangeName: string): string[] {
    return [credentialVariable(exchangeName, 'API_KEY')];
  },

  credentialsFromEnv(exchangeName: string, env: NodeJS.ProcessEnv): Record<string, string> {
    return { apiKey: requiredVariable(env, credentialVariable(exchangeName, 'API_KEY')) };
  },

  create(config: BulwarkExchangeConfig, context: ExchangeContext): SignalExchange {
    return new BulwarkExchange(config, context);
  },
};

class BulwarkExchange implements SignalExchange {
  /** Set when the publisher answered that a checkpoint is older than its history: the next fetch starts afresh. */
  private resnapshotAsked = false;

  constructor(
    private readonly config: BulwarkExchangeConfig,
    private readonly context: ExchangeContext,
  ) {}

  /**
   * Pages until the publisher has no more. A checkpoint the publisher no longer keeps history
   * for (410) makes the fetch start again from the beginning, once, with that page marked as
   * beginning a whole read so that what the fresh read lacks leaves the bank.
   */
  async *fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal): AsyncIterable<FetchPage> {
    let state = (checkpoint?.state ?? {}) as BulwarkFeedState;
    let progressAt = checkpoint?.progressAt ?? null;
    let restarted = false;
    for (;;) {
      const asked = state.checkpoint;
      const answer = await this.readPage(asked, signal);
      if (answer === 'resnapshot') {
        this.resnapshotAsked = true;
        if (restarted || asked === undefined) throw new ExchangeError(`publisher ${this.config.url} asked for a fresh read of bank ${this.config.bank} twice in one fetch`, true);
        restarted = true;
        state = {};
        continue;
      }
      if (answer.has_more && answer.checkpoint === asked) {
        throw new ExchangeError(`publisher ${this.config.url} returned the checkpoint it was given with more to come: the feed of bank ${this.config.bank} does not advance`, false);
      }
      const { items, skipped } = this.items(answer);
      const now = this.context.now();
      if (!answer.has_more && (progressAt === null || Date.parse(progressAt) < now.getTime())) progressAt = now.toISOString();
      state = { checkpoint: answer.checkpoint, readAt: now.toISOString(), historySeconds: answer.history_seconds };
      const startsWhole = restarted && asked === undefined;
      this.resnapshotAsked = false;
      yield {
        items,
        checkpoint: { progressAt, state: { ...state } },
        ...(skipped.length > 0 ? { skipped } : {}),
        ...(startsWhole ? { startsFullList: true } : {}),
      };
      if (!answer.has_more) return;
    }
  }

  /** A checkpoint not read for longer than the publisher keeps removals, or one it refused, needs a whole new read. */
  isStale(checkpoint: ExchangeCheckpoint, now: Date): boolean {
    if (this.resnapshotAsked) return true;
    const state = checkpoint.state as BulwarkFeedState;
    if (!state.readAt || !state.historySeconds) return false;
    return now.getTime() - Date.parse(state.readAt) > state.historySeconds * 1000;
  }

  async sendFeedback(feedback: ExchangeFeedback, signal: AbortSignal): Promise<void> {
    const body = {
      signals: feedback.item.signals.map((s) => ({ signal_type: s.signalType, value: s.value })),
      verdict: feedback.verdict,
      ...(feedback.reason ? { reason: feedback.reason } : {}),
      idempotency_key: feedback.idempotencyKey,
    };
    await this.call(`feedback on bank ${this.config.bank}`, `${this.feedUrl()}/feedback`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, signal);
  }

  private feedUrl(): string {
    return `${this.config.url}/v1/feeds/${encodeURIComponent(this.config.bank)}`;
  }

  private async readPage(checkpoint: string | undefined, signal: AbortSignal): Promise<FeedPage | 'resnapshot'> {
    const query = new URLSearchParams({ limit: String(this.config.pageSize) });
    if (checkpoint !== undefined) query.set('checkpoint', checkpoint);
    const what = `the feed of bank ${this.config.bank} at ${this.config.url}`;
    // Only the publisher's own answer means "read afresh"; a 410 from a proxy in between is an error.
    let resnapshot = false;
    let json: unknown;
    try {
      json = await this.call(what, `${this.feedUrl()}?${query}`, { method: 'GET' }, signal, (problem) => {
        resnapshot = problem.type === RESNAPSHOT_PROBLEM_TYPE;
      });
    } catch (error) {
      if (error instanceof RequestRefused && error.status === 410 && resnapshot) return 'resnapshot';
      throw error;
    }
    const page = feedPageSchema.safeParse(json);
    if (!page.success) {
      const issue = page.error.issues[0];
      throw new ExchangeError(`${what}: a malformed page: ${issue.path.join('.') || 'page'}: ${issue.message}`, false);
    }
    if (page.data.items.length > this.config.pageSize) {
      throw new ExchangeError(`${what}: a page of ${page.data.items.length} items, more than the ${this.config.pageSize} asked for`, false);
    }
    return page.data as FeedPage;
  }

  /** The page's items as exchange items; an item that does not read is skipped and named by its index. */
  private items(page: FeedPage): { items: ExchangeItem[]; skipped: { item: string; reason: string }[] } {
    const items: ExchangeItem[] = [];
    const skipped: { item: string; reason: string }[] = [];
    for (const [index, raw] of (page.items as unknown[]).entries()) {
      const parsed = feedItemSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        skipped.push({ item: `item ${index}`, reason: `${issue.path.join('.') || 'item'}: ${issue.message}` });
        continue;
      }
      const item = parsed.data;
      const key = bulwarkItemKey(item.signal_type, item.value);
      items.push(item.op === 'add' ? { key, signals: [{ signalType: item.signal_type, value: item.value }], tags: item.tags } : { key, signals: null });
    }
    return { items, skipped };
  }

  /** One call to the publisher; its problem documents' detail goes into the error, never the key. */
  private call(what: string, url: string, init: RequestInit, signal: AbortSignal, onProblem?: (problem: { type?: unknown }) => void): Promise<unknown> {
    const headers = { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.context.credentials.apiKey}`, accept: 'application/json' };
    return callJson({
      what,
      url,
      init: { ...init, headers },
      signal,
      fetch: this.context.fetch,
      now: this.context.now,
      secrets: [this.context.credentials.apiKey],
      maxBytes: MAX_PAGE_BYTES,
      describeError: (body) => {
        const problem = (typeof body === 'object' && body !== null ? body : {}) as { type?: unknown; detail?: unknown };
        onProblem?.(problem);
        return typeof problem.detail === 'string' ? { message: problem.detail } : undefined;
      },
    });
  }
}
