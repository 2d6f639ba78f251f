import type { JetStreamClient, JsMsg, ConsumerMessages } from '@nats-io/jetstream';
import type { NatsLink } from './connection.ts';
import type { DeadLetterProblem, DeadLetters } from './dead-letters.ts';
import type { NatsSettings } from './settings.ts';

/** A message that can never succeed (not JSON, invalid events): dead-lettered at once, never retried. */
export class UnusableMessage extends Error {
  constructor(message: string, readonly problems: DeadLetterProblem[] = []) {
    super(message);
  }
}

export type MessageHandler = (message: JsMsg) => Promise<void>;
export type WorkerLog = (level: 'warn' | 'error', message: string) => void;

/**
 * The store could not be reached or shed the transaction (connection lost, server shutting
 * down, too many connections, serialization failure): no fault of the message, so it is
 * retried without counting towards the dead letters.
 */
export function storeUnavailable(error: unknown): boolean {
  const code = String((error as { code?: unknown }).code ?? '');
  if (/^(08|57P0|53300|40001|40P01)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) return true;
  return /Connection terminated|connection.*(closed|ended)|timeout exceeded when trying to connect/i.test((error as Error).message ?? '');
}

/** Waits before a message that failed is offered again: 1 s, 2 s, 4 s … at most 30 s. */
const retryDelayMs = (deliveries: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, deliveries - 1));

/**
 * Pulls one durable consumer's messages and acks each only after its handler resolved, i.e.
 * after its transaction committed. The consumer allows one unacked message, so however many
 * workers pull it they take turns, in stream order. A crash leaves the message unacked and
 * JetStream offers it again after ack_wait; handlers are idempotent by event id.
 */
export class LaneWorker {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  /** The message being handled, which stop() lets finish so its ack is not lost. */
  private busy: Promise<void> | undefined;
  /** Deliveries of a message that ended because the store was away, which do not count against it. */
  private readonly excused = new Map<number, number>();

  constructor(
    private readonly link: NatsLink,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    readonly durable: string,
    private readonly handle: MessageHandler,
    private readonly deadLetters: DeadLetters,
    private readonly settings: NatsSettings,
    private readonly log: WorkerLog,
    /** Resolves once the store answers again; pulling waits for it after the store failed. */
    private readonly storeReady: () => Promise<void> = async () => undefined,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.js.consumers.get(this.stream, this.durable);
        this.messages = await consumer.consume({ max_messages: 1 });
        // stop() may have come while consume() was starting, before there was anything to close.
        if (this.stopped) {
          await this.messages.close().catch(() => undefined);
          break;
        }
        this.link.consumerRunning(this.durable, true);
        for await (const message of this.messages) {
          this.busy = this.process(message);
          await this.busy;
          this.busy = undefined;
          if (this.stopped) break;
        }
      } catch (error) {
        if (!this.stopped) this.link.failed(error);
      } finally {
        this.link.consumerRunning(this.durable, false);
      }
      // The iterator ended by itself (consumer gone, connection lost): start over shortly.
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async process(message: JsMsg): Promise<void> {
    const deliveries = message.info.deliveryCount;
    const where = `${this.durable} message ${message.seq}`;
    // Another worker's excused deliveries are not known here: each store outage may cost a message one of its deliveries.
    const counted = deliveries - (this.excused.get(message.seq) ?? 0);
    if (counted > this.settings.maxDeliver) {
      // Earlier deliveries ended without an answer: a worker stopped or crashed while handling it.
      await this.bury(message, `delivered ${deliveries} times without an outcome (a worker may have stopped while handling it)`);
      return;
    }
    // A long transaction tells JetStream it is still at work, so the message is not handed to another worker meanwhile.
    const keepAlive = setInterval(() => message.working(), Math.max(1000, Math.floor(this.settings.ackWaitMs / 3)));
    try {
      await this.handle(message);
      message.ack();
      this.excused.delete(message.seq);
    } catch (error) {
      if (storeUnavailable(error)) {
        // Pulling on would only spend the deliveries of the messages behind this one; wait for the store.
        this.log('warn', `${where} waits: the store is unavailable (${(error as Error).message})`);
        this.link.failed(error);
        this.excused.set(message.seq, (this.excused.get(message.seq) ?? 0) + 1);
        message.nak(retryDelayMs(1));
        await this.storeReady();
      } else if (error instanceof UnusableMessage) {
        this.log('warn', `${where} dead-lettered: ${error.message}`);
        await this.bury(message, error.message, error.problems);
      } else if (counted >= this.settings.maxDeliver) {
        this.log('error', `${where} failed ${deliveries} times, dead-lettered: ${(error as Error).message}`);
        await this.bury(message, `failed ${deliveries} times; last error: ${(error as Error).message}`);
      } else {
        this.log('warn', `${where} failed (delivery ${deliveries} of ${this.settings.maxDeliver}), retried later: ${(error as Error).message}`);
        this.link.failed(error);
        message.nak(retryDelayMs(deliveries));
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Moves a message to the dead letters; if even that fails it stays, to be offered again. */
  private async bury(message: JsMsg, reason: string, problems: DeadLetterProblem[] = []): Promise<void> {
    try {
      await this.deadLetters.add(message, reason, problems);
      this.excused.delete(message.seq);
      // No reason text: nats-server 2.9 does not know "+TERM <reason>" and would leave the message pending.
      message.term();
    } catch (error) {
      this.link.failed(error);
      message.nak(retryDelayMs(message.info.deliveryCount));
    }
  }

  /** Lets a message in hand finish, then stops pulling; a loop still starting ends when it next looks. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.busy;
    void this.messages?.close().catch(() => undefined);
  }
}
