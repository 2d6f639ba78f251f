import { randomBytes } from 'node:crypto';
import { invalid } from '../../src/errors.ts';
import { type ExchangeCheckpoint, ExchangeError, type ExchangeItem, type ExchangeType, type FetchPage, type SignalExchange } from '../../src/exchange/exchange.ts';

/** A random PDQ hash (benign: it is no media's hash). */
export const randomPdq = () => randomBytes(32).toString('hex');

/** A page of the scripted source: its items, the time it reads up to, and what it could not read. */
export interface ScriptedPage {
  items: ExchangeItem[];
  progressAt: string | null;
  skipped?: { item: string; reason: string }[];
  startsFullList?: boolean;
}

/**
 * The source behind the fake exchange type, scripted by a test: pages by position, with the
 * checkpoint {next: i} after page i, an error to throw before a given page, a staleness
 * rule, and feedback it records. Every call to fetch is logged with the position it began at.
 */
export class ScriptedSource {
  pages: ScriptedPage[] = [];
  failBefore = new Map<number, Error>();
  staleBefore: Date | undefined;
  calls: (number | null)[] = [];
  feedback: unknown[] = [];
  feedbackError: Error | undefined;
  /** When set, a fetch waits for it before its first page, and `waiting` settles once one does. */
  gate: Promise<void> | undefined;
  private reachedGate: (() => void) | undefined;
  readonly waiting = new Promise<void>((resolve) => (this.reachedGate = resolve));

  /** Called by the fake exchange on reaching the gate. */
  async passGate(): Promise<void> {
    if (!this.gate) return;
    this.reachedGate?.();
    await this.gate;
  }

  /** Fails once before page `index` with this error. */
  failOnceBefore(index: number, error: Error): void {
    this.failBefore.set(index, error);
  }
}

export const retryable = (message = 'source answered 503', retryAfterMs?: number) => new ExchangeError(message, true, retryAfterMs);
export const permanent = (message = 'source answered 401') => new ExchangeError(message, false);

/** An exchange type named `fake` whose config {source: "<id>"} picks a ScriptedSource from `sources`. */
export function fakeExchangeType(sources: Map<string, ScriptedSource>): ExchangeType<{ source: string }> {
  return {
    name: 'fake',
    parseConfig(raw: unknown) {
      const source = (raw as { source?: unknown })?.source;
      if (typeof source !== 'string' || !sources.has(source)) throw invalid(`config.source: unknown source ${JSON.stringify(source)}`, { field: 'config.source' });
      return { source };
    },
    credentialVariables: () => [],
    credentialsFromEnv: () => ({}),
    create(config): SignalExchange {
      const script = sources.get(config.source)!;
      return {
        async *fetch(checkpoint: ExchangeCheckpoint | null): AsyncIterable<FetchPage> {
          const start = checkpoint === null ? 0 : Number(checkpoint.state.next);
          script.calls.push(checkpoint === null ? null : start);
          await script.passGate();
          for (let index = start; index < script.pages.length; index++) {
            const failure = script.failBefore.get(index);
            if (failure) {
              script.failBefore.delete(index);
              throw failure;
            }
            const page = script.pages[index];
            yield { items: page.items, skipped: page.skipped, startsFullList: page.startsFullList, checkpoint: { progressAt: page.progressAt, state: { next: index + 1 } } };
          }
        },
        isStale(checkpoint: ExchangeCheckpoint) {
          return script.staleBefore !== undefined && checkpoint.progressAt !== null && new Date(checkpoint.progressAt) < script.staleBefore;
        },
        async sendFeedback(feedback) {
          if (script.feedbackError) throw script.feedbackError;
          script.feedback.push(feedback);
        },
      };
    },
  };
}

/** A clock that moves only when the test says. */
export class FakeClock {
  constructor(public time = new Date('2026-03-01T00:00:00Z')) {}
  readonly now = () => new Date(this.time);
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}
