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

/** The most background work credit may hold: a short run of pieces after a wait that went long. */
const BURST_MS = 50;

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
 * t ms the next waits t·(1-share)/share ms (at most maxPauseMs), or until no request has been
 * in flight for a moment (QUIET_MS). The lag this builds is visible in GET /v1/outbox/status and drains once the surge ends.
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
      if (this.inFlight === 0) this.wakeWhenQuiet();
    };
  }

  private quietTimer: NodeJS.Timeout | undefined;

  /**
   * Lets paused work go on once the request path has been quiet for QUIET_MS. Not at the
   * moment the count reaches zero: on the embedded store it does so many times a second in
   * the middle of a surge (every request answered, the next ones not read yet), and waking
   * there let background work run without pause, taking far more than its share.
   */
  private wakeWhenQuiet(): void {
    if (this.quietTimer || this.waiting.size === 0) return;
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      if (!this.busy) for (const wake of [...this.waiting]) wake();
      // Requests came and went meanwhile: look again once the last has been quiet as long.
      else if (this.inFlight === 0) this.wakeWhenQuiet();
    }, QUIET_MS);
    // Not unref'd: paused work is promised to go on, and this runs at most QUIET_MS after the last request.
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
   *
   * What a piece may run is kept as credit: a piece of t ms costs t, and waiting earns
   * share/(1-share) per ms, up to BURST_MS. In a surge the event loop fires timers late, and
   * without credit for the lateness many small pieces (an action's record, a short batch),
   * each waiting for its own late timer, got far less than their share: the pipeline stopped.
   */
  turn<T>(work: () => Promise<T>): Promise<T> {
    // Idle, work runs at once even beside pieces still in line from the surge: those were
    // released when the last request ended, and one stage never runs two pieces at a time.
    if (this.share >= 1 || !this.busy) return work();
    const run = this.line.then(async () => {
      this.earn();
      if (this.credit < 0) {
        await this.pause(Math.min((-this.credit * (1 - this.share)) / this.share, this.maxPauseMs));
        this.earn();
        // A pause cut short (requests ended, or maxPauseMs) forgives what is still owed.
        this.credit = Math.max(this.credit, 0);
      }
      const started = this.now();
      try {
        return await work();
      } finally {
        const ended = this.now();
        this.credit -= ended - started;
        this.creditAt = ended;
      }
    });
    this.line = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private line: Promise<void> = Promise.resolve();
  /** Milliseconds of background work that may run now (negative: owed), as of creditAt. */
  private credit = 0;
  private creditAt = 0;

  private earn(): void {
    const now = this.now();
    this.credit = Math.min(this.credit + ((now - this.creditAt) * this.share) / (1 - this.share), BURST_MS);
    this.creditAt = now;
  }

  /** Waits pauseMs, or less once the request path is quiet. */
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
      if (this.inFlight === 0) this.wakeWhenQuiet();
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
