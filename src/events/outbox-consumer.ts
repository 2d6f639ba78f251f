import type { SqlClient } from '../store/sql.ts';
import type { DomainEvent, EventLog } from './event-log.ts';

export type EventHandler = (tx: SqlClient, event: DomainEvent) => Promise<DomainEvent[] | void>;

/**
 * A later pipeline stage reading the outbox. Its position is stored beside the work it
 * does, in one transaction, so each event is handled exactly once even across restarts and
 * several processes (the position row is locked while a batch is handled).
 */
export class OutboxConsumer {
  private draining: Promise<number> | undefined;
  private again = false;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    readonly name: string,
    private readonly types: string[],
    private readonly handler: EventHandler,
  ) {}

  /** Handles every pending event; concurrent calls share one pass, and a call during a pass causes another. */
  drain(): Promise<number> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      let total = 0;
      do {
        this.again = false;
        for (;;) {
          const handled = await this.batch();
          total += handled;
          if (handled === 0) break;
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

  private async batch(): Promise<number> {
    const published: DomainEvent[] = [];
    const handled = await this.sql.transaction(async (tx) => {
      await tx.query('INSERT INTO consumer_offsets (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING', [this.name]);
      const position = await tx.query<{ seq: number }>('SELECT seq FROM consumer_offsets WHERE consumer = $1 FOR UPDATE', [this.name]);
      const after = Number(position.rows[0].seq);
      const pending = await this.events.read({ afterSeq: after, limit: 100, types: this.types }, tx);
      if (pending.length === 0) return 0;
      for (const event of pending) {
        const emitted = await this.handler(tx, event);
        if (emitted) published.push(...emitted);
      }
      await tx.query('UPDATE consumer_offsets SET seq = $2 WHERE consumer = $1', [this.name, pending[pending.length - 1].seq]);
      return pending.length;
    });
    this.events.published(published);
    return handled;
  }
}
