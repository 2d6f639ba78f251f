import { ACTION_HEADER, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature.ts';
import type { ActionDelivery, ActionTarget, DeliveryOutcome } from './types.ts';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** The most of a platform's answer that is read and kept as an action's result. */
export const MAX_RESULT_BYTES = 16 * 1024;

export interface WebhookTargetOptions {
  url: string;
  /** HMAC key shared with the platform; held only in memory, never logged or stored. */
  secret: string;
  timeoutMs?: number;
  /**
   * Where a request's deadline comes from, instead of timeoutMs: a signal that aborts (with a
   * TimeoutError) when the request has taken too long. Tests end a request this way on an
   * event rather than on the wall clock.
   */
  deadline?: () => AbortSignal;
  /** Clock for the signed timestamp; the platform checks it against its own, so it is the real time by default. */
  now?: () => Date;
}

/** The JSON body a platform receives; field names are part of the documented contract (docs/webhooks.md). */
export function webhookBody(delivery: ActionDelivery, sentAt: Date): string {
  return JSON.stringify({
    id: delivery.id,
    type: delivery.type,
    target: delivery.target,
    idempotency_key: delivery.idempotencyKey,
    decided_by: delivery.decidedBy,
    automated: delivery.automated,
    reason: delivery.reason,
    ...(delivery.identifiers ? { identifiers: delivery.identifiers } : {}),
    ...(delivery.parentId !== undefined ? { parent_id: delivery.parentId } : {}),
    attempt: delivery.attempt,
    sent_at: sentAt.toISOString(),
  });
}

/**
 * Delivers actions as signed HTTP POSTs. The answer decides what happens next: 2xx (or a
 * 409 naming this idempotency key) means done; 408, 429, 5xx, timeouts and network errors
 * are worth another try; any other answer will not change by asking again.
 */
export class WebhookTarget implements ActionTarget {
  readonly url: string;
  readonly timeoutMs: number;
  // A private field: util.inspect, JSON.stringify and error reports never show it.
  readonly #secret: string;
  readonly #now: () => Date;
  readonly #deadline: (() => AbortSignal) | undefined;

  constructor(options: WebhookTargetOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`webhook URL must be http(s), not ${url.protocol}`);
    if (!options.secret) throw new Error('a webhook needs a signing secret');
    this.url = url.toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.#secret = options.secret;
    this.#now = options.now ?? (() => new Date());
    this.#deadline = options.deadline;
  }

  async deliver(delivery: ActionDelivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    const sentAt = this.#now();
    const timestamp = Math.floor(sentAt.getTime() / 1000);
    const body = webhookBody(delivery, sentAt);
    const timeout = this.#deadline?.() ?? AbortSignal.timeout(this.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'bulwark-actions/1',
          [IDEMPOTENCY_HEADER]: delivery.idempotencyKey,
          [ACTION_HEADER]: delivery.type,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(this.#secret, timestamp, body),
        },
        body,
        // Following a redirect would turn the POST into a GET somewhere else; a moved endpoint is a configuration error.
        redirect: 'manual',
        signal: combined,
      });
    } catch (error) {
      return { kind: 'retry', errorCode: failureCode(error, combined) };
    }

    const status = response.status;
    try {
      if (status >= 200 && status < 300) {
        return { kind: 'succeeded', statusCode: status, result: await readResult(response, combined) };
      }
      if (status === 409) {
        const result = await readResult(response, combined);
        const echoed = response.headers.get(IDEMPOTENCY_HEADER) ?? (isRecord(result) ? result.idempotency_key : undefined);
        if (echoed === delivery.idempotencyKey) return { kind: 'succeeded', statusCode: status, result, alreadyApplied: true };
        return { kind: 'permanent', statusCode: status, errorCode: String(status) };
      }
      await response.body?.cancel().catch(() => undefined);
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), sentAt);
        return { kind: 'retry', statusCode: status, errorCode: String(status), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      return { kind: 'permanent', statusCode: status, errorCode: String(status) };
    } catch (error) {
      // The platform answered but the body did not arrive whole (timeout, reset): ask again;
      // the idempotency key makes a repeat harmless if it had already acted.
      return { kind: 'retry', statusCode: status, errorCode: failureCode(error, combined) };
    }
  }

  /** Printable description: credentials in the URL, if any, are masked. */
  toJSON(): object {
    const shown = new URL(this.url);
    if (shown.username || shown.password) {
      shown.username = '***';
      shown.password = '';
    }
    return { url: shown.toString(), timeoutMs: this.timeoutMs };
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads at most MAX_RESULT_BYTES of the answer; JSON is kept, anything else or anything larger is only described. */
async function readResult(response: Response, signal: AbortSignal): Promise<unknown> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      bytes += value.byteLength;
      if (bytes > MAX_RESULT_BYTES) {
        truncated = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (truncated) return { truncated: true, limit_bytes: MAX_RESULT_BYTES };
  if (bytes === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return { non_json: true, bytes };
  }
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

/** 'timeout', or the network error's code (ECONNREFUSED, ECONNRESET, …); never a message that could carry a body. */
export function failureCode(error: unknown, signal?: AbortSignal): string {
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || (signal?.aborted && (signal.reason as { name?: unknown })?.name === 'TimeoutError')) return 'timeout';
  if (name === 'AbortError' || signal?.aborted) return 'aborted';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'network_error';
}
