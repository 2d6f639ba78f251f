import { createHash } from 'node:crypto';
import { z } from 'zod';
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
import { readLimitedBody, refusal } from './http-answers.ts';

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

const configSchema = z.strictObject({
  url: z.string().url().refine((url) => /^https?:\/\//i.test(url), 'only http and https URLs are read'),
  bank: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a bank name: 1-63 lowercase letters, digits, "-" or "_"'),
  page_size: z.number().int().min(1).max(FEED_PAGE_MAX).optional(),
});

/** The item's key: "signal_type value", stable across pages and fetches, so a deletion names what its addition did. */
export function bulwarkItemKey(signalType: string, value: string): string {
  return value.length <= MAX_PLAIN_KEY ? `${signalType} ${value}` : `${signalType} sha256:${createHash('sha256').update(value).digest('hex')}`;
}

export const bulwarkExchangeType: ExchangeType<BulwarkExchangeConfig> = {
  name: 'bulwark',

  parseConfig(raw: unknown): BulwarkExchangeConfig {
    const parsed = configSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.') || 'config';
      throw invalid(`config.${field}: ${issue.message}`, { field: `config.${field}` });
    }
    return { url: parsed.data.url.replace(/\/+$/, ''), bank: parsed.data.bank, pageSize: parsed.data.page_size ?? FEED_PAGE_DEFAULT };
  },

  credentialVariables(exchangeName: string): string[] {
    return [credentialVariable(exchangeName, 'API_KEY')];
  },

  credentialsFromEnv(exchangeName: string, env: NodeJS.ProcessEnv): Record<string, string> {
    const variable = credentialVariable(exchangeName, 'API_KEY');
    const apiKey = env[variable]?.trim();
    if (!apiKey) throw invalid(`${variable} is not set: the feed key the publisher gave this platform (\`bulwark apikey create NAME --feed\` on their side)`, { variable });
    return { apiKey };
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
    const response = await this.call(`${this.feedUrl()}/feedback`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, signal);
    if (!response.ok) throw await refusal(response, `feedback on bank ${this.config.bank}`, this.context.now());
    await response.body?.cancel();
  }

  private feedUrl(): string {
    return `${this.config.url}/v1/feeds/${encodeURIComponent(this.config.bank)}`;
  }

  private async readPage(checkpoint: string | undefined, signal: AbortSignal): Promise<FeedPage | 'resnapshot'> {
    const query = new URLSearchParams({ limit: String(this.config.pageSize) });
    if (checkpoint !== undefined) query.set('checkpoint', checkpoint);
    const response = await this.call(`${this.feedUrl()}?${query}`, { method: 'GET' }, signal);
    // Only the publisher's own answer means "read afresh"; a 410 from a proxy in between is an error.
    if (response.status === 410 && ((await response.clone().json().catch(() => null)) as { type?: unknown } | null)?.type === RESNAPSHOT_PROBLEM_TYPE) return 'resnapshot';
    if (!response.ok) throw await refusal(response, `the feed of bank ${this.config.bank}`, this.context.now());
    const text = await readLimitedBody(response, MAX_PAGE_BYTES, `a page of bank ${this.config.bank}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ExchangeError(`publisher ${this.config.url} sent a page of bank ${this.config.bank} that is not JSON`, false);
    }
    const page = feedPageSchema.safeParse(json);
    if (!page.success) {
      const issue = page.error.issues[0];
      throw new ExchangeError(`publisher ${this.config.url} sent a malformed page of bank ${this.config.bank}: ${issue.path.join('.') || 'page'}: ${issue.message}`, false);
    }
    if (page.data.items.length > this.config.pageSize) {
      throw new ExchangeError(`publisher ${this.config.url} sent ${page.data.items.length} items of bank ${this.config.bank}, more than the ${this.config.pageSize} asked for`, false);
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

  private async call(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      return await this.context.fetch(url, { ...init, signal, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.context.credentials.apiKey}`, accept: 'application/json' } });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ExchangeError(`could not reach publisher ${this.config.url}: ${(error as Error).message}`, true);
    }
  }
}
