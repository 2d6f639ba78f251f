import {
  credentialVariable,
  ExchangeError,
  type ExchangeCheckpoint,
  type ExchangeContext,
  type ExchangeFeedback,
  type ExchangeItem,
  type ExchangeType,
  type SignalExchange,
  type FetchPage,
} from '../exchange.ts';
import { invalid } from '../../errors.ts';
import { configObject, httpUrlField, integerField, refuseUnknownFields, requiredVariable } from './config-fields.ts';
import { callJson, RequestRefused } from './json-api.ts';
import { parseUpdatesPage, updateDigest, updateTime, updateToItem } from './threatexchange-updates.ts';

/**
 * Meta's ThreatExchange: members of a privacy group share descriptors (an indicator such as a
 * PDQ hash, with the owner's tags, status and others' reactions). /threat_updates lists every
 * change in the group in update-time order, deletions included for 90 days, paged by Graph
 * API cursors. Feedback is a reaction posted to each descriptor the match came from.
 */
export interface ThreatExchangeConfig {
  privacyGroup: string;
  /** The Graph API host, https://graph.facebook.com by default. */
  graphUrl: string;
  /** The Graph API version, as python-threatexchange pins it (v21.0). */
  apiVersion: string;
  /** Updates per page (python-threatexchange asks for 100). */
  pageSize: number;
}

export const THREATEXCHANGE_GRAPH_URL = 'https://graph.facebook.com';
/** Deletions are kept for 90 days; python-threatexchange refetches everything after 85 without a fetch. */
export const THREATEXCHANGE_STALE_AFTER_MS = 85 * 24 * 3600 * 1000;
/** The fields python-threatexchange asks /threat_updates for. */
export const THREAT_UPDATES_FIELDS = 'indicator,type,last_updated,should_delete,descriptors{id,reactions,owner{id},tags,status}';

/**
 * Most digests kept of updates read in the checkpoint's last second. Past it (a bulk upload
 * within one second), a restart from that second hands some updates out again, which only
 * replaces them with themselves: duplicates, never losses.
 */
const BOUNDARY_LIMIT = 5000;

/** The reaction each verdict posts; a false positive may name another negative reaction as its reason. */
const REACTIONS: Record<ExchangeFeedback['verdict'], string> = { seen: 'SAW_THIS_TOO', true_positive: 'HELPFUL', false_positive: 'DISAGREE_WITH_TAGS' };
const FALSE_POSITIVE_REACTIONS = new Set(['DISAGREE_WITH_TAGS', 'NON_MALICIOUS', 'NOT_HELPFUL']);

/**
 * Resume data. `next` is Graph's paging URL with the access token taken out (it is added back
 * on use), `updateTime` the latest last_updated read, and `boundary` the digests of updates
 * read at exactly that second, so a fetch that starts again from it does not hand them out twice.
 */
interface ThreatExchangeState {
  updateTime: number | null;
  next?: string;
  boundary: string[];
  fetchedAt: string;
}

export const threatExchangeType: ExchangeType<ThreatExchangeConfig> = {
  name: 'threatexchange',

  parseConfig(raw) {
    const config = configObject(raw, 'threatexchange');
    refuseUnknownFields(config, ['privacyGroup', 'graphUrl', 'apiVersion', 'pageSize'], 'threatexchange');
    const privacyGroup = typeof config.privacyGroup === 'number' ? String(config.privacyGroup) : config.privacyGroup;
    if (typeof privacyGroup !== 'string' || !/^\d{1,30}$/.test(privacyGroup)) throw invalid('privacyGroup must be the numeric id of a ThreatExchange privacy group', { field: 'privacyGroup' });
    const version = config.apiVersion ?? 'v21.0';
    if (typeof version !== 'string' || !/^v?\d{1,3}\.\d{1,3}$/.test(version)) throw invalid('apiVersion must look like v21.0', { field: 'apiVersion' });
    return {
      privacyGroup,
      graphUrl: httpUrlField(config, 'graphUrl', THREATEXCHANGE_GRAPH_URL),
      apiVersion: version.startsWith('v') ? version : `v${version}`,
      pageSize: integerField(config, 'pageSize', 100, 1, 1000),
    };
  },

  credentialVariables(exchangeName) {
    return [credentialVariable(exchangeName, 'ACCESS_TOKEN')];
  },

  credentialsFromEnv(exchangeName, env) {
    return { accessToken: requiredVariable(env, this.credentialVariables(exchangeName)[0]) };
  },

  create(config, context) {
    return new ThreatExchange(config, context);
  },

  configuredUrls: (config) => [{ field: 'graphUrl', url: config.graphUrl }],
  builtInHosts: [new URL(THREATEXCHANGE_GRAPH_URL).hostname],
};

class ThreatExchange implements SignalExchange {
  private readonly token: string;
  /** App tokens are "{app id}|{secret}": the app id says which descriptors are ours. */
  private readonly myAppId: string | undefined;
  private readonly updatesUrl: URL;

  constructor(
    private readonly config: ThreatExchangeConfig,
    private readonly context: ExchangeContext,
  ) {
    this.token = context.credentials.accessToken ?? '';
    this.myAppId = /^(\d+)\|/.exec(this.token)?.[1];
    this.updatesUrl = new URL(`${config.graphUrl}/${config.apiVersion}/${config.privacyGroup}/threat_updates/`);
  }

  async *fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal): AsyncIterable<FetchPage> {
    const state = readState(checkpoint);
    let url = state.next ? this.followable(state.next) : this.firstUrl(state.updateTime);
    let { updateTime: currentTime, boundary } = state;
    let resumingCursor = state.next !== undefined;
    for (;;) {
      let body: unknown;
      try {
        body = await this.call('ThreatExchange threat_updates', this.withToken(url), { method: 'GET' }, signal);
      } catch (error) {
        // A stored cursor the API no longer takes: start again from the last second read, whose updates the boundary recognises.
        if (!(resumingCursor && error instanceof RequestRefused)) throw error;
        resumingCursor = false;
        url = this.firstUrl(currentTime);
        continue;
      }
      resumingCursor = false;
      const { updates, next } = parseUpdatesPage(body, this.config.pageSize);
      const items: ExchangeItem[] = [];
      const skipped: { item: string; reason: string }[] = [];
      updates.forEach((raw, index) => {
        // Every update read moves the checkpoint, skipped ones too: they would be skipped again.
        const time = updateTime(raw);
        const digest = updateDigest(raw);
        if (time !== undefined && time === currentTime && boundary.includes(digest)) return; // Read already, at the second we restarted from.
        if (time !== undefined && (currentTime === null || time > currentTime)) [currentTime, boundary] = [time, []];
        if (time === currentTime && boundary.length < BOUNDARY_LIMIT) boundary.push(digest);
        const read = updateToItem(raw, this.myAppId);
        if (typeof read === 'string') skipped.push({ item: `data[${index}]`, reason: read });
        else items.push(read);
      });
      const nextUrl = next ? this.followable(next) : undefined;
      if (nextUrl && nextUrl.href === url.href) throw new ExchangeError('ThreatExchange threat_updates: paging.next is the page just read, so it would repeat', false);
      const progressAt = currentTime === null ? (checkpoint?.progressAt ?? null) : new Date(currentTime * 1000).toISOString();
      const nextState: ThreatExchangeState = { updateTime: currentTime, boundary: [...boundary], fetchedAt: this.context.now().toISOString(), ...(nextUrl ? { next: nextUrl.href } : {}) };
      yield { items, skipped, checkpoint: { progressAt, state: { ...nextState } } };
      if (!nextUrl) return;
      url = nextUrl;
    }
  }

  isStale(checkpoint: ExchangeCheckpoint, now: Date): boolean {
    const madeAt = typeof checkpoint.state.fetchedAt === 'string' ? checkpoint.state.fetchedAt : checkpoint.progressAt;
    if (!madeAt) return false;
    return now.getTime() - Date.parse(madeAt) > THREATEXCHANGE_STALE_AFTER_MS;
  }

  async sendFeedback(feedback: ExchangeFeedback, signal: AbortSignal): Promise<void> {
    const descriptorIds = (feedback.item.sourceId ?? '').split(',').filter((id) => /^\d+$/.test(id));
    if (descriptorIds.length === 0) throw new ExchangeError(`ThreatExchange reaction: ${feedback.item.key} has no descriptor of another member to react to`, false);
    const reaction = feedback.verdict === 'false_positive' && feedback.reason && FALSE_POSITIVE_REACTIONS.has(feedback.reason) ? feedback.reason : REACTIONS[feedback.verdict];
    for (const id of descriptorIds) {
      // The token goes in the form body, not the URL, so it stays out of proxies' request logs.
      const body = new URLSearchParams({ access_token: this.token, reactions: reaction });
      const answer = await this.call('ThreatExchange reaction', new URL(`${this.config.graphUrl}/${this.config.apiVersion}/${id}/`), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, signal);
      if ((answer as { success?: unknown } | undefined)?.success !== true) throw new ExchangeError(`ThreatExchange reaction: descriptor ${id} did not answer success`, false);
    }
  }

  private firstUrl(updateTime: number | null): URL {
    const url = new URL(this.updatesUrl);
    url.searchParams.set('limit', String(this.config.pageSize));
    url.searchParams.set('fields', THREAT_UPDATES_FIELDS);
    if (updateTime !== null) url.searchParams.set('start_time', String(updateTime));
    return url;
  }

  /** A paging URL to follow, without its token: only ever this privacy group's threat_updates on the configured host. */
  private followable(next: string): URL {
    let url: URL;
    try {
      url = new URL(next);
    } catch {
      throw new ExchangeError('ThreatExchange threat_updates: paging.next is not a URL', false);
    }
    if (url.origin !== this.updatesUrl.origin || url.pathname.replace(/\/?$/, '/') !== this.updatesUrl.pathname) {
      throw new ExchangeError('ThreatExchange threat_updates: paging.next leads away from this privacy group\'s threat_updates; not following it with the token', false);
    }
    url.searchParams.delete('access_token');
    return url;
  }

  private withToken(url: URL): string {
    const withToken = new URL(url);
    withToken.searchParams.set('access_token', this.token);
    return withToken.href;
  }

  private call(what: string, url: URL | string, init: RequestInit, signal: AbortSignal): Promise<unknown> {
    return callJson({ what, url: String(url), init, signal, fetch: this.context.fetch, now: this.context.now, secrets: [this.token], describeError: describeGraphError });
  }
}

/**
 * Graph API errors are {error: {message, type, code}}. Code 190 (and OAuthException) is a bad
 * token, whatever the HTTP status; 4, 17, 32 and 613 are rate limits; 1 and 2 are transient.
 */
function describeGraphError(body: unknown): { message?: string; retryable?: boolean; unauthorized?: boolean } | undefined {
  const error = (body as { error?: { message?: unknown; type?: unknown; code?: unknown } } | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const code = typeof error.code === 'number' ? error.code : undefined;
  return {
    message: typeof error.message === 'string' ? error.message : undefined,
    unauthorized: code === 190 || code === 102,
    retryable: code !== undefined && [1, 2, 4, 17, 32, 613].includes(code),
  };
}

function readState(checkpoint: ExchangeCheckpoint | null): Omit<ThreatExchangeState, 'fetchedAt'> {
  if (!checkpoint) return { updateTime: null, boundary: [] };
  const { updateTime, next, boundary } = checkpoint.state;
  if (updateTime !== null && (typeof updateTime !== 'number' || !Number.isInteger(updateTime))) {
    throw new ExchangeError('ThreatExchange checkpoint has no update time; start over from no checkpoint', false);
  }
  return {
    updateTime: updateTime as number | null,
    boundary: Array.isArray(boundary) ? boundary.filter((digest): digest is string => typeof digest === 'string') : [],
    ...(typeof next === 'string' ? { next } : {}),
  };
}
