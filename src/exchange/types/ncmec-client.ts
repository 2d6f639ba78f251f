/**
 * HTTP for NCMEC's Hash Sharing API: Basic auth on every call, and every failure turned into
 * an ExchangeError that says which call failed and whether to retry — never the credentials,
 * never the response body.
 */
import { parseRetryAfter } from '../../actions/webhook-target.ts';
import { ExchangeError, type ExchangeContext } from '../exchange.ts';

/** A page of 1000 entries is about 1 MB; an answer far larger is refused rather than held in memory. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export class NcmecHashClient {
  private readonly authorization: string;
  private readonly root: URL;

  /** `baseUrl` is the environment's root, e.g. https://report.cybertip.org/hashsharing (paths add /v2/…). */
  constructor(
    baseUrl: string,
    credentials: { user: string; password: string },
    private readonly context: Pick<ExchangeContext, 'fetch' | 'now'>,
    private readonly maxAnswerBytes = MAX_ANSWER_BYTES,
  ) {
    this.root = new URL(baseUrl.replace(/\/+$/, ''));
    this.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  }

  /** The URL of a path under the environment (v2/entries…), or of a paging link NCMEC gave (/v2/entries?…). */
  url(pathOrLink: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(pathOrLink)) {
      // An absolute link must stay on the environment's origin: the credentials go with it.
      const absolute = new URL(pathOrLink);
      if (absolute.origin !== this.root.origin) throw new ExchangeError(`NCMEC gave a paging link to another origin (${absolute.origin}); refusing to send credentials there`, false);
      return absolute.href;
    }
    return `${this.root.href}/${pathOrLink.replace(/^\/+/, '')}`;
  }

  async get(pathOrLink: string, what: string, signal: AbortSignal): Promise<string> {
    return this.call('GET', this.url(pathOrLink), what, signal);
  }

  async put(path: string, body: string, what: string, signal: AbortSignal): Promise<string> {
    return this.call('PUT', this.url(path), what, signal, body);
  }

  private async call(method: string, url: string, what: string, signal: AbortSignal, body?: string): Promise<string> {
    let response: Response;
    let text: string;
    try {
      response = await this.context.fetch(url, {
        method,
        headers: { authorization: this.authorization, accept: 'application/xml', ...(body !== undefined ? { 'content-type': 'application/xml; charset=utf-8' } : {}) },
        body,
        signal,
      });
      text = await readLimited(response, this.maxAnswerBytes);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof ExchangeError) throw new ExchangeError(`NCMEC ${what}: ${error.message}`, false);
      throw new ExchangeError(`NCMEC ${what}: the request failed (${(error as Error)?.name ?? 'network error'})`, true);
    }
    if (response.ok) return text;
    const status = response.status;
    if (status === 401 || status === 403) throw new ExchangeError(`NCMEC ${what}: HTTP ${status}, the credentials were refused (check the exchange's USER and PASSWORD variables)`, false);
    if (status === 429 || status >= 500) throw new ExchangeError(`NCMEC ${what}: HTTP ${status}`, true, parseRetryAfter(response.headers.get('retry-after'), this.context.now()));
    throw new NcmecHttpError(`NCMEC ${what}: HTTP ${status}`, status);
  }
}

/** The body as text, refused (ExchangeError, not retryable) once it passes `limit` bytes. */
export async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the rest of the body.
    if (size > limit) throw new ExchangeError(`the answer is over ${limit} bytes; refused`, false);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A 4xx other than 401/403/429: the request is wrong and will stay wrong (or a paging link expired). */
export class NcmecHttpError extends ExchangeError {
  constructor(message: string, readonly status: number) {
    super(message, false);
  }
}

