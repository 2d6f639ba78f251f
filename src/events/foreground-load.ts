import { invalid } from '../errors.ts';

export interface ForegroundLoadOptions {
  /**
   * The share of time background stages may keep working while requests are in flight
   * (BULWARK_PIPELINE_SHARE, 0 < share ≤ 1; 1 never gives way). Default 0.25.
   */
  share?: number;
  /** The longest a stage pauses at once, so that it never stops while requests keep coming. */
  maxPauseMs?: number;
  /** Milliseconds from a monotonic clock (tests inject their own). */
  now?: () => number;
}

export const DEFAULT_PIPELINE_SHARE = 0.25;

/** How long after the last request the request path still counts as busy. */
const QUIET_MS = 100;

/**
 * How busy the request path is, so that the pipeline's background stages give way to it
 * during a surge. An upload's answer already says whether it matched, and the platform can
 * act on that at once; the case, the decision and the webhook that follow may wait a moment.
 * On one machine the two compete for the same cores (and on the embedded store for its one
 * connection), so without this a surge of matches slowed every upload to the pipeline's pace.
 *
 * While requests are in flight, background work takes turns (turn()): after a piece that took
 * t ms the next waits t·(1-share)/share ms (at most maxPauseMs), or until no request is in
 * flight. The lag this builds is visible in GET /v1/outbox/status and drains once the surge ends.
 */
export class ForegroundLoad {
  private inFlight = 0;
  private readonly waiting = new Set<() => void>();
  readonly share: number;
  readonly maxPauseMs: number;

  constructor(options: ForegroundLoadOptions = {}) {
    const share = options.share ?? DEFAULT_PIPELINE_SHARE;
    if (!(share > 0 && share <= 1)) throw invalid(`the pipeline share is a number above 0 and at most 1, got ${share}`);
    this.share = share;
    this.maxPauseMs = options.maxPauseMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  private readonly now: () => number;

  /** A request started; returns the function to call exactly once when it has been answered or aborted. */
  enter(): () => void {
    this.inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
      this.lastLeftAt = this.now();
      if (this.inFlight === 0) for (const wake of [...this.waiting]) wake();
    };
  }

  /**
   * Requests are in flight, or one ended a moment ago. On the embedded store queries run on
   * the event loop, so while a stage works no new request is even read, the last ones finish,
   * and the count alone would say idle in the middle of a surge.
   */
  get busy(): boolean {
    return this.inFlight > 0 || this.now() - this.lastLeftAt < QUIET_MS;
  }

  private lastLeftAt = -Infinity;

  /**
   * Runs one piece of background work (a consumer's batch, a delivery pass). While no request
   * is in flight it runs at once, beside any other. While requests are in flight, background
   * work runs one piece at a time across all stages, each after the pause the last one earned,
   * so that together they keep about `share` of the time, however many stages there are.
   */
  turn<T>(work: () => Promise<T>): Promise<T> {
    // Idle, work runs at once even beside pieces still in line from the surge: those were
    // released when the last request ended, and one stage never runs two pieces at a time.
    if (this.share >= 1 || !this.busy) return work();
    const run = this.line.then(async () => {
      await this.pause(this.resumeAt - this.now());
      const started = this.now();
      try {
        return await work();
      } finally {
        const took = this.now() - started;
        this.resumeAt = this.now() + Math.min((took * (1 - this.share)) / this.share, this.maxPauseMs);
      }
    });
    this.line = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private line: Promise<void> = Promise.resolve();
  private resumeAt = 0;

  /** Waits pauseMs, or less once no request is in flight. */
  private pause(pauseMs: number): Promise<void> {
    if (!this.busy || pauseMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pauseMs);
      timer.unref();
      this.waiting.add(done);
    });
  }
}

/** BULWARK_PIPELINE_SHARE from the environment, or undefined for the default. */
export function pipelineShareFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.BULWARK_PIPELINE_SHARE;
  if (text === undefined || text === '') return undefined;
  const share = Number(text);
  if (!(share > 0 && share <= 1)) throw invalid(`BULWARK_PIPELINE_SHARE is a number above 0 and at most 1, got ${JSON.stringify(text)}`);
  return share;
}
