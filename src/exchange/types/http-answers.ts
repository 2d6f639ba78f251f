import { ExchangeError } from '../exchange.ts';

/** What the source said in a refusal, shortened: a problem document's detail, or the start of the body. */
async function refusalDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { detail?: unknown; title?: unknown };
    if (typeof body.detail === 'string') return body.detail.slice(0, 300);
  } catch {
    // Not JSON: the text itself says what went wrong, if anything.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Retry-After in milliseconds: seconds, or an HTTP date (counted from the given time). */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(date - now.getTime(), 0);
}

/**
 * The ExchangeError for a non-2xx answer: 429 and 5xx are worth retrying (after Retry-After);
 * anything else (a refused key, a missing feed, a bad request) waits for an operator.
 */
export async function refusal(response: Response, what: string, now = new Date()): Promise<ExchangeError> {
  const retryable = response.status === 429 || response.status >= 500;
  const detail = await refusalDetail(response);
  const hint = response.status === 401 || response.status === 403 ? ' (check the API key the publisher gave)' : '';
  return new ExchangeError(
    `${what}: HTTP ${response.status}${detail ? `: ${detail}` : ''}${hint}`,
    retryable,
    retryable ? retryAfterMs(response.headers.get('retry-after'), now) : undefined,
  );
}

/** The body as text, refused (not retried) once it grows past maxBytes. */
export async function readLimitedBody(response: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new ExchangeError(`${what} is ${declared} bytes, more than the ${maxBytes} accepted`, false);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ExchangeError(`${what} is more than the ${maxBytes} bytes accepted`, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
