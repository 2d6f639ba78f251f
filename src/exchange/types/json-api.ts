import { failureCode, parseRetryAfter } from '../../actions/webhook-target.ts';
import { ExchangeError } from '../exchange.ts';
import { readLimited } from './ncmec-client.ts';

/**
 * One call to a source's JSON API, turned into the answer or an ExchangeError the fetcher can
 * act on: 429 and 5xx (and an unreachable source) are retried, honouring Retry-After; 401/403
 * and anything malformed stop the exchange until an operator acts. Messages name the call and
 * the status only: never the URL (ThreatExchange puts its token in it), never a credential.
 */
export interface JsonCall {
  /** What is being called, for messages: "StopNCII FetchHashes". */
  what: string;
  url: string;
  init: RequestInit;
  signal: AbortSignal;
  fetch: typeof globalThis.fetch;
  now: () => Date;
  /** Values that must never appear in an error message (they are cut out of the source's own text). */
  secrets: string[];
  /** Largest answer read; past it the call fails without retry (an enormous page is refused, not buffered). Default 32 MiB. */
  maxBytes?: number;
  /** Reads the source's own explanation out of an error body, e.g. Graph API's error.message. */
  describeError?: (body: unknown) => { message?: string; retryable?: boolean; unauthorized?: boolean } | undefined;
}

/** A page of StopNCII records or ThreatExchange updates is well under a megabyte. */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

export async function callJson(call: JsonCall): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    response = await call.fetch(call.url, { ...call.init, signal: call.signal });
    text = await readLimited(response, call.maxBytes ?? DEFAULT_MAX_BYTES);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason ?? error;
    if (error instanceof ExchangeError) throw new ExchangeError(`${call.what}: ${error.message}`, false);
    throw new ExchangeError(`${call.what}: the source could not be reached (${failureCode(error)})`, true);
  }
  let body: unknown;
  let parsed = true;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = false;
  }
  if (response.ok) {
    if (!parsed) throw new ExchangeError(`${call.what}: the answer is not valid JSON (HTTP ${response.status}, ${text.length} bytes)`, false);
    return body;
  }
  const described = parsed ? call.describeError?.(body) : undefined;
  const detail = described?.message ? `: ${redact(described.message, call.secrets).slice(0, 200)}` : '';
  const status = `HTTP ${response.status}${detail}`;
  if (response.status === 401 || response.status === 403 || described?.unauthorized) {
    throw new ExchangeError(`${call.what}: the source refused the credentials (${status})`, false);
  }
  if (response.status === 429 || response.status >= 500 || described?.retryable) {
    throw new ExchangeError(`${call.what}: the source is busy or failing (${status})`, true, parseRetryAfter(response.headers.get('retry-after'), call.now()));
  }
  throw new RequestRefused(`${call.what}: the source refused the request (${status})`, response.status);
}

/** A 4xx other than 401/403/429: the request itself was wrong (a bad parameter, an expired cursor). */
export class RequestRefused extends ExchangeError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, false);
  }
}

/** The text with every secret replaced, so a source echoing a request cannot leak one into a stored error. */
export function redact(text: string, secrets: string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length > 0) result = result.split(secret).join('[redacted]');
  return result;
}
