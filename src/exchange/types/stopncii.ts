import {
  credentialVariable,
  ExchangeError,
  type ExchangeCheckpoint,
  type ExchangeContext,
  type ExchangeFeedback,
  type ExchangeType,
  type FetchPage,
  type SignalExchange,
} from '../exchange.ts';
import { configObject, httpUrlField, integerField, refuseUnknownFields, requiredVariable } from './config-fields.ts';
import { callJson, RequestRefused } from './json-api.ts';
import { parseFetchHashes, recordsToItems } from './stopncii-records.ts';

/**
 * StopNCII.org: hashes that people submitted of their own intimate images, shared with
 * platforms so copies can be blocked. FetchHashes reads them in "sets" from a start time,
 * page by page with a page token; each set ends with the time the next one starts from
 * (nextSetTimestamp). A hash whose hashStatus is Withdrawn or Deleted must leave the bank —
 * python-threatexchange compares hashValue instead of hashStatus there and so never removes
 * one. Platforms tell StopNCII what they did with a match through SubmitFeedback.
 */
export interface StopNciiConfig {
  /** The API base, https://api.stopncii.org/v1 by default. */
  baseUrl: string;
  /** Records per FetchHashes page (python-threatexchange asks for 800). */
  pageSize: number;
}

export const STOPNCII_BASE_URL = 'https://api.stopncii.org/v1';
/** Where the first fetch starts; python-threatexchange's DEFAULT_START_TIME (StopNCII times are Unix seconds). */
const FIRST_SET_START = 10;
/** python-threatexchange treats a checkpoint unused for 30 days as stale and fetches everything again. */
export const STOPNCII_STALE_AFTER_MS = 30 * 24 * 3600 * 1000;

/** What StopNCII is told, per verdict: a match awaiting review, confirmed (Blocked), or not confirmed (NotBlocked). */
const FEEDBACK_VALUES: Record<ExchangeFeedback['verdict'], string> = {
  seen: 'PendingReview',
  true_positive: 'Blocked',
  false_positive: 'NotBlocked',
};

/** Resume data: the set being read (its start) and, mid-set, the page token to go on from. */
interface StopNciiState {
  setStart: number;
  pageToken?: string;
  /** When this checkpoint was made, for staleness (an idle source never moves progressAt). */
  fetchedAt: string;
}

export const stopNciiExchangeType: ExchangeType<StopNciiConfig> = {
  name: 'stopncii',

  parseConfig(raw) {
    const config = configObject(raw, 'stopncii');
    refuseUnknownFields(config, ['baseUrl', 'pageSize'], 'stopncii');
    return { baseUrl: httpUrlField(config, 'baseUrl', STOPNCII_BASE_URL), pageSize: integerField(config, 'pageSize', 800, 1, 5000) };
  },

  credentialVariables(exchangeName) {
    return ['FETCH_KEY', 'SUBSCRIPTION_KEY', 'FEEDBACK_KEY'].map((part) => credentialVariable(exchangeName, part));
  },

  credentialsFromEnv(exchangeName, env) {
    const [fetchVariable, subscriptionVariable, feedbackVariable] = this.credentialVariables(exchangeName);
    const feedbackKey = env[feedbackVariable]?.trim();
    return {
      fetchKey: requiredVariable(env, fetchVariable),
      subscriptionKey: requiredVariable(env, subscriptionVariable),
      // SubmitFeedback has a function key of its own; without one the exchange only reads.
      ...(feedbackKey ? { feedbackKey } : {}),
    };
  },

  create(config, context) {
    return new StopNciiExchange(config, context);
  },

  configuredUrls: (config) => [{ field: 'baseUrl', url: config.baseUrl }],
  builtInHosts: [new URL(STOPNCII_BASE_URL).hostname],
};

class StopNciiExchange implements SignalExchange {
  private readonly secrets: string[];

  constructor(
    private readonly config: StopNciiConfig,
    private readonly context: ExchangeContext,
  ) {
    this.secrets = Object.values(context.credentials);
  }

  async *fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal): AsyncIterable<FetchPage> {
    const resumed = checkpoint ? readState(checkpoint) : undefined;
    let setStart = resumed?.setStart ?? FIRST_SET_START;
    let pageToken = resumed?.pageToken;
    let progressAt = checkpoint?.progressAt ?? null;
    let resumingToken = pageToken !== undefined;
    for (;;) {
      const query = new URLSearchParams({ startTimestamp: String(setStart), pageSize: String(this.config.pageSize) });
      if (pageToken) query.set('nextPageToken', pageToken);
      let body: unknown;
      try {
        body = await callJson({
          what: 'StopNCII FetchHashes',
          url: `${this.config.baseUrl}/FetchHashes?${query}`,
          init: { method: 'GET', headers: this.headers(this.context.credentials.fetchKey) },
          signal,
          fetch: this.context.fetch,
          now: this.context.now,
          secrets: this.secrets,
        });
      } catch (error) {
        // Page tokens do not last: one refused after a restart means reading the set again from its start (records only repeat).
        if (!(resumingToken && error instanceof RequestRefused)) throw error;
        resumingToken = false;
        pageToken = undefined;
        continue;
      }
      resumingToken = false;
      const page = parseFetchHashes(body, this.config.pageSize);
      const fetchedAt = this.context.now().toISOString();
      const { items, skipped } = recordsToItems(page.records);
      if (page.hasMoreRecords) {
        if (page.nextPageToken === pageToken) throw new ExchangeError('StopNCII FetchHashes: the source handed back the page token it was given, so the same page would repeat', false);
        pageToken = page.nextPageToken!;
        // Mid-set nothing newer is known to be complete: progress stays where the set began.
        yield { items, skipped, checkpoint: { progressAt, state: { setStart, pageToken, fetchedAt } satisfies StopNciiState } };
        continue;
      }
      // The set is read: the next one starts where StopNCII says, and progress never goes back.
      const setEnd = new Date(page.nextSetTimestamp * 1000).toISOString();
      if (progressAt === null || setEnd > progressAt) progressAt = setEnd;
      setStart = page.nextSetTimestamp;
      yield { items, skipped, checkpoint: { progressAt, state: { setStart, fetchedAt } satisfies StopNciiState } };
      return;
    }
  }

  isStale(checkpoint: ExchangeCheckpoint, now: Date): boolean {
    const madeAt = typeof checkpoint.state.fetchedAt === 'string' ? checkpoint.state.fetchedAt : checkpoint.progressAt;
    if (!madeAt) return false;
    return now.getTime() - Date.parse(madeAt) > STOPNCII_STALE_AFTER_MS;
  }

  async sendFeedback(feedback: ExchangeFeedback, signal: AbortSignal): Promise<void> {
    const feedbackKey = this.context.credentials.feedbackKey;
    if (!feedbackKey) throw new ExchangeError('StopNCII SubmitFeedback: no function key for SubmitFeedback is configured (the exchange\'s FEEDBACK_KEY variable)', false);
    const space = feedback.item.key.indexOf(' ');
    const hashValue = space > 0 ? feedback.item.key.slice(space + 1) : '';
    if (!hashValue) throw new ExchangeError(`StopNCII SubmitFeedback: ${JSON.stringify(feedback.item.key)} is not a StopNCII item key`, false);
    // The reviewer's free-text reason is not sent: StopNCII has no reason list, and free text may carry personal data.
    const body = { count: 1, hashFeedbacks: [{ hashValue, feedbackValue: FEEDBACK_VALUES[feedback.verdict], tags: [] }] };
    await callJson({
      what: 'StopNCII SubmitFeedback',
      url: `${this.config.baseUrl}/SubmitFeedback`,
      init: { method: 'POST', headers: { ...this.headers(feedbackKey), 'content-type': 'application/json' }, body: JSON.stringify(body) },
      signal,
      fetch: this.context.fetch,
      now: this.context.now,
      secrets: this.secrets,
    });
  }

  /** Every endpoint takes its own Azure Functions key beside the API Management subscription key. */
  private headers(functionKey: string | undefined): Record<string, string> {
    return { 'x-functions-key': functionKey ?? '', 'Ocp-Apim-Subscription-Key': this.context.credentials.subscriptionKey ?? '', accept: 'application/json' };
  }
}

function readState(checkpoint: ExchangeCheckpoint): { setStart: number; pageToken?: string } {
  const { setStart, pageToken } = checkpoint.state;
  if (typeof setStart !== 'number' || !Number.isInteger(setStart) || setStart < 0) throw new ExchangeError('StopNCII checkpoint has no set start time; start over from no checkpoint', false);
  return { setStart, ...(typeof pageToken === 'string' && pageToken ? { pageToken } : {}) };
}
