import assert from 'node:assert/strict';
import { ExchangeError, type ExchangeCheckpoint, type FetchPage, type SignalExchange } from '../../src/exchange/exchange.ts';

/** Runs an exchange's fetch as the fetcher would, stopping after `limit` pages (the fetcher may stop between any two). */
export async function collectPages(exchange: SignalExchange, checkpoint: ExchangeCheckpoint | null, limit = Infinity): Promise<FetchPage[]> {
  const pages: FetchPage[] = [];
  for await (const page of exchange.fetch(checkpoint, new AbortController().signal)) {
    pages.push(page);
    if (pages.length >= limit) break;
  }
  return pages;
}

/** The ExchangeErrors a test run met, kept so the suite can check at its end that none carried a credential. */
export class ExchangeFailures {
  readonly seen: ExchangeError[] = [];

  async expect(promise: Promise<unknown>): Promise<ExchangeError> {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof ExchangeError, `expected an ExchangeError, got ${String(error)}`);
    this.seen.push(error);
    return error;
  }

  assertNoneMention(secrets: string[], atLeast: number): void {
    assert.ok(this.seen.length >= atLeast, `only ${this.seen.length} failures were checked`);
    for (const error of this.seen) for (const secret of secrets) assert.ok(!error.message.includes(secret), error.message);
  }
}
