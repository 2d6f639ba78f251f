import { ACTION_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from '../../actions/signature.ts';
import { failureCode } from '../../actions/webhook-target.ts';
import { ACCOUNT_DETAILS_ANSWER, type AccountDetailsOutcome, type AccountDetailsRequest, type AccountDetailsSource, describeIssues } from './account-details.ts';

export const ACCOUNT_DETAILS_ACTION = 'ncmec.account_details';
export const DEFAULT_ACCOUNT_DETAILS_TIMEOUT_MS = 10_000;
/** An answer larger than this is not an account's details and recent IP log. */
const MAX_ANSWER_BYTES = 256 * 1024;

export interface WebhookAccountDetailsOptions {
  url: string;
  /** HMAC key shared with the platform; held only in memory, never logged or stored. */
  secret: string;
  timeoutMs?: number;
  /** Where a request's deadline comes from instead of timeoutMs (tests end it on an event). */
  deadline?: () => AbortSignal;
  /** Clock for the signed timestamp, which the platform checks against its own. */
  now?: () => Date;
}

/**
 * Asks the platform over HTTPS: a POST signed like the enforcement webhooks (X-Bulwark-Timestamp,
 * X-Bulwark-Signature), bounded by a timeout, whose JSON answer must match ACCOUNT_DETAILS_ANSWER.
 * Any other outcome is `unavailable` with a reason that carries no part of the answer.
 */
export class WebhookAccountDetails implements AccountDetailsSource {
  readonly url: string;
  readonly timeoutMs: number;
  readonly #secret: string;
  readonly #deadline: (() => AbortSignal) | undefined;
  readonly #now: () => Date;

  constructor(options: WebhookAccountDetailsOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`the account-details URL must be http(s), not ${url.protocol}`);
    if (!options.secret) throw new Error('the account-details callback needs a signing secret');
    this.url = url.toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ACCOUNT_DETAILS_TIMEOUT_MS;
    this.#secret = options.secret;
    this.#deadline = options.deadline;
    this.#now = options.now ?? (() => new Date());
  }

  async lookUp(request: AccountDetailsRequest): Promise<AccountDetailsOutcome> {
    const sentAt = this.#now();
    const timestamp = Math.floor(sentAt.getTime() / 1000);
    const body = JSON.stringify({ type: ACCOUNT_DETAILS_ACTION, ...request, sent_at: sentAt.toISOString() });
    const signal = this.#deadline?.() ?? AbortSignal.timeout(this.timeoutMs);
    let text: string;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'bulwark-ncmec/1',
          [ACTION_HEADER]: ACCOUNT_DETAILS_ACTION,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(this.#secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal,
      });
      if (response.status === 404) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'unavailable', reason: 'the platform has no details for this account (404)' };
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'unavailable', reason: `http ${response.status}` };
      }
      const read = await readLimited(response, signal);
      if (read === undefined) return { kind: 'unavailable', reason: `the answer is larger than ${MAX_ANSWER_BYTES} bytes` };
      text = read;
    } catch (error) {
      return { kind: 'unavailable', reason: failureCode(error, signal) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'unavailable', reason: 'the answer is not JSON' };
    }
    const parsed = ACCOUNT_DETAILS_ANSWER.safeParse(json);
    if (!parsed.success) return { kind: 'unavailable', reason: describeIssues(parsed.error) };
    // Details about another account must never reach this report.
    if (parsed.data.account_id !== request.account_id) return { kind: 'unavailable', reason: 'the answer is about another account' };
    return { kind: 'supplied', details: parsed.data };
  }

  /** Printable description: never the secret. */
  toJSON(): object {
    return { url: this.url, timeoutMs: this.timeoutMs };
  }
}

async function readLimited(response: Response, signal: AbortSignal): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (signal.aborted) throw signal.reason;
    if (done) break;
    bytes += value.byteLength;
    if (bytes > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
