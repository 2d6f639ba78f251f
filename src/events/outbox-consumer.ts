import { RetryLaterError } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import { recordDeliveries } from './pipeline-deliveries.ts';
import { comparePositions, type DomainEvent, type EventLog, OUTBOX_START, type OutboxPosition } from './event-log.ts';

export type EventHandler = (tx: SqlClient, event: DomainEvent) => Promise<DomainEvent[] | void>;

/**
 * A stage's work on a batch of events at once, in the batch's transaction, with the same
 * effect as handling each in turn: set-based, a statement for the batch where an EventHandler
 * would make one per event (issue 11: a rule firing made eight). One event is a batch of one.
 */
export type BatchEventHandler = (tx: SqlClient, events: DomainEvent[]) => Promise<DomainEvent[]>;

/** A pipeline stage as another transport (src/distributed/pipeline-stages.ts) runs it: its name, the events it reads, its work on them. */
export interface PipelineStage {
  readonly name: string;
  readonly types: readonly string[];
  /** Its work on several events in the caller's transaction, as handling each in turn would do it; returns the events to publish after commit. */
  handleBatch(tx: SqlClient, events: DomainEvent[]): Promise<DomainEvent[]>;
  /**
   * What the stage's events must stay in order by, when spread over partitions: by default the
   * event's subject; a stage whose events about different subjects depend on each other (a
   * decision and the appeal against it) gives what they share.
   */
  orderKey?(event: DomainEvent): string;
}

/**
 * Work a consumer does around each batch, in the batch's transaction: `begin` after its own
 * position is locked and before the first event; `end` after the last, before the position
 * moves to `next`. A relay uses them to publish a batch and wait for every publish to be acked.
 */
export interface BatchHooks {
  begin?(tx: SqlClient): Promise<void>;
  end?(tx: SqlClient, next: OutboxPosition): Promise<void>;
  /**
   * False for a consumer whose handler never appends events (the relay): its transactions then
   * do not count as outbox writers, so readers of the outbox do not wait for them.
   */
  writesEvents?: boolean;
}

/** Events per transaction. */
const BATCH = 100;
/**
 * On PGlite a transaction has the store to itself: every upload waits for the whole batch,
 * so batches there are short (a batch of 100 rule firings held uploads for seconds). On
 * PostgreSQL batches are as short while requests are in flight: each statement then waits its
 * turn among the requests', and a batch of 100 rule firings took some 20 s in a surge, so no
 * case or webhook came out of it until the surge was nearly over. A stage that handles its
 * batch set-based (a BatchEventHandler) pays per batch rather than per event: it takes full ones.
 */
const SHORT_BATCH = 10;

/** How long settled() waits, at most, for another transport to handle what was committed before it was called. */
export const SETTLE_LIMIT_MS = 60_000;
/** How often settled() looks again, at first and at most. */
const SETTLE_BACKOFF_MS = { first: 20, max: 1000 };

/** How long a pass waits before looking again for events held back behind a running writer, at first and at most. */
const HELD_BACK_BACKOFF_MS = { first: 1, max: 50 };

/**
 * A later pipeline stage reading the outbox. Its position is stored beside the work it
 * does, in one transaction, so each event is handled exactly once even across restarts and
 * several processes. Only its own position row is locked while a batch is handled: writers
 * of events and other consumers never wait for it.
 */
export class OutboxConsumer implements PipelineStage {
  private draining: Promise<number> | undefined;
  private again = false;
  /** Set when another transport delivers this stage's events: this consumer then reads nothing itself. */
  private handedOver = false;
  /** See PipelineStage.orderKey. */
  orderKey?: (event: DomainEvent) => string;
  /** Whether each handled event is recorded in pipeline_deliveries (see recordDeliveries). */
  private recording = false;
  /** With another transport: how many of this stage's events it has not handled yet (undefined: it cannot tell now). */
  private remaining: (() => Promise<number | undefined>) | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    readonly name: string,
    readonly types: string[],
    handler: EventHandler | { batch: BatchEventHandler },
    private readonly hooks: BatchHooks = {},
  ) {
    events.registerConsumer(name, types);
    this.handler = typeof handler === 'function' ? handler : undefined;
    this.batchHandler = typeof handler === 'function' ? undefined : handler.batch;
  }

  /** Exactly one of the two is set. */
  private readonly handler: EventHandler | undefined;
  private readonly batchHandler: BatchEventHandler | undefined;

  /** This stage's work on one event, in the caller's transaction. */
  async handle(tx: SqlClient, event: DomainEvent): Promise<DomainEvent[]> {
    return this.handleBatch(tx, [event]);
  }

  /** This stage's work on several events, in the caller's transaction: set-based where the stage can, else each in turn. */
  async handleBatch(tx: SqlClient, events: DomainEvent[]): Promise<DomainEvent[]> {
    if (this.batchHandler) return events.length === 0 ? [] : this.batchHandler(tx, events);
    const published: DomainEvent[] = [];
    for (const event of events) published.push(...((await this.handler!(tx, event)) ?? []));
    return published;
  }

  /**
   * From now on another transport (JetStream work queues) delivers this stage's events, and
   * a relay moves its outbox position as it hands them over: drain() and start() do nothing,
   * so no event is handled both here and there.
   */
  handOver(remaining?: () => Promise<number | undefined>): void {
    this.handedOver = true;
    this.remaining = remaining ?? this.remaining;
  }

  /**
   * Records each event this consumer handles in pipeline_deliveries, as JetStream's stages do
   * (src/distributed/pipeline-stages.ts), and skips events already recorded there. A stage that
   * can also be delivered through JetStream needs it: a relay whose transaction rolls back after
   * JetStream acked its publish leaves the message queued and the stage's outbox position where
   * it was, so a process reading the stage from the outbox (a CLI command, a process without
   * NATS) and then a worker taking the message would each handle the event.
   */
  recordDeliveries(): void {
    this.recording = true;
  }

  /**
   * Resolves once every event committed before the call has been handled by this stage, by
   * this process (drain) or by the transport it was handed over to, for work that must see
   * them all (a transparency report counts the statements this stage records). With another
   * transport that does not finish within `limitMs`, or cannot say, it refuses with a
   * retryable error rather than let a caller read figures missing events still queued.
   */
  async settled(limitMs = SETTLE_LIMIT_MS, now: () => number = performance.now.bind(performance)): Promise<void> {
    if (!this.handedOver) {
      await this.drain();
      return;
    }
    const started = now();
    for (let waitMs = SETTLE_BACKOFF_MS.first; ; waitMs = Math.min(waitMs * 2, SETTLE_BACKOFF_MS.max)) {
      const left = this.remaining ? await this.remaining() : undefined;
      if (left === 0) return;
      if (now() - started >= limitMs) {
        const what = left === undefined ? 'cannot be read from this process (is NATS reachable, and BULWARK_NATS_URL set?)' : `still holds ${left} event(s) or message(s)`;
        throw new RetryLaterError(`the ${this.name} stage's queue ${what}; its figures would miss them`, 30, { stage: this.name, ...(left === undefined ? {} : { remaining: left }) });
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /**
   * Handles every event committed before the call; concurrent calls share one pass, and a
   * call during a pass causes another. Events committed behind a writer still running are
   * not readable until it ends (src/events/event-log.ts); the pass waits for it, since that
   * writer may publish nothing that would wake this consumer. Writers are Bulwark's own
   * short transactions, other consumers' batches at the longest.
   */
  drain(): Promise<number> {
    if (this.handedOver) return Promise.resolve(0);
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      let total = 0;
      let backoffMs = 0;
      do {
        this.again = false;
        for (;;) {
          const { handled, heldBack } = await this.events.foreground.turn(() => this.batch());
          total += handled;
          if (handled > 0) {
            backoffMs = 0;
            continue;
          }
          if (!heldBack) break;
          backoffMs = Math.min(Math.max(backoffMs * 2, HELD_BACK_BACKOFF_MS.first), HELD_BACK_BACKOFF_MS.max);
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
        }
      } while (this.again);
      return total;
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /**
   * Drains when an event of interest is published in this process; returns a stop function.
   * Passes start at most once every `coalesceMs`: an event after a quiet spell is handled at
   * once, and a burst shares passes. Each pass is a transaction with its own bookkeeping
   * queries, and on the embedded store those wait behind the requests that publish the
   * events, so one pass per event cost POST /v1/content about a third of its throughput.
   */
  start(coalesceMs = 10): () => void {
    if (this.handedOver) return () => undefined;
    let timer: NodeJS.Timeout | undefined;
    let lastPass = -Infinity;
    const pass = () => {
      timer = undefined;
      lastPass = performance.now();
      void this.drain().catch(() => undefined);
    };
    const unsubscribe = this.events.subscribe((event) => {
      if (!this.types.includes(event.type) || timer) return;
      const wait = lastPass + coalesceMs - performance.now();
      if (wait <= 0) pass();
      else timer = setTimeout(pass, wait);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }

  private async batch(): Promise<{ handled: number; heldBack: boolean }> {
    const published: DomainEvent[] = [];
    const outcome = await this.sql.transaction(async (tx) => {
      // Read before writing anything: a transaction has an id only once it writes, and while
      // it runs its id holds back the outbox horizon, this consumer's own reads included.
      // PGlite runs one transaction at a time: no one else can move the position meanwhile.
      const serial = tx.driver === 'pglite';
      const seen = await this.position(tx, false);
      const after = seen ?? OUTBOX_START;
      const page = await this.events.readPage({ after, limit: this.batchHandler || !(serial || this.events.foreground.busy) ? BATCH : SHORT_BATCH, types: this.types }, tx);
      // With nothing to handle the position stays: reads by type skip other types' events
      // through the index anyway, and an idle pass then writes nothing.
      if (page.events.length === 0) return { handled: 0, heldBack: page.heldBack };
      if (!seen) await tx.query('INSERT INTO consumer_offsets (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING', [this.name]);
      const locked = serial && seen ? seen : await this.position(tx, true);
      // Another process moved the position while this one read: its read is stale, read again.
      if (!locked || comparePositions(locked, after) !== 0) return { handled: 0, heldBack: false, moved: true };
      await this.hooks.begin?.(tx);
      const fresh = this.recording ? await recordDeliveries(tx, this.name, page.events) : undefined;
      published.push(...(await this.handleBatch(tx, fresh ? page.events.filter((event) => fresh.has(event.seq)) : page.events)));
      await this.hooks.end?.(tx, page.next);
      await tx.query('UPDATE consumer_offsets SET tx_id = $2::xid8, seq = $3 WHERE consumer = $1', [this.name, page.next.txId, page.next.seq]);
      return { handled: page.events.length, heldBack: page.heldBack };
    }, { writesEvents: this.hooks.writesEvents !== false, background: true });
    this.events.published(published);
    if ('moved' in outcome) this.again = true;
    return outcome;
  }

  private async position(tx: SqlClient, lock: boolean): Promise<OutboxPosition | undefined> {
    const result = await tx.query<{ tx_id: string; seq: number }>(
      `SELECT tx_id::text AS tx_id, seq FROM consumer_offsets WHERE consumer = $1${lock ? ' FOR UPDATE' : ''}`,
      [this.name],
    );
    const row = result.rows[0];
    return row ? { txId: row.tx_id, seq: Number(row.seq) } : undefined;
  }
}

