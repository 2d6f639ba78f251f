import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, jetstreamManager } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { BulwarkError } from '../../errors.ts';
import type { MediaHashing } from '../../signals/hashing/media-hashing.ts';
import type { MediaInput } from '../../signals/types.ts';
import type { NatsLink } from '../connection.ts';
import type { DeadLetters } from '../dead-letters.ts';
import type { WorkerLog } from '../lane-worker.ts';
import type { NatsSettings } from '../settings.ts';
import { HashAttempts } from './attempts.ts';
import { ensureHashJobStreams, hashJobNames } from './streams.ts';
import { encodeAnswer, type HashAnswer, type HashJobHeader, jobSummary, readJobHeader } from './wire.ts';

export interface HashJobWorkerCounts {
  hashed: number;
  /** Jobs dropped unhashed: their api had stopped waiting, or their media was gone. */
  dropped: number;
  deadLettered: number;
  /** Jobs answered `unavailable` after maxDeliver deliveries that were not the media's fault. */
  givenUp: number;
}

/** How long one pull for jobs waits on an empty queue before it is renewed. */
const FETCH_EXPIRES_MS = 5000;

/**
 * Takes hash jobs off the shared work queue and hashes them in this process's pool, up to
 * `concurrency` at once. It pulls only as many jobs as it can start now, so no job ages toward
 * its ack wait in a client buffer without keep-alives. Each job is answered on its reply subject
 * before it is acked, so a worker that dies in between leaves it to be handed out again (and
 * answered twice, which the api ignores). A job whose hashing killed or stalled maxDeliver
 * workers (counted by HashAttempts, not by deliveries) is dead-lettered (its header, never its
 * media) and answered as media that cannot be hashed. A job delivered more than maxDeliver times
 * for other reasons (workers busy, object store or link failing) is answered `unavailable`, so
 * the api applies its fallback rather than blaming the upload.
 */
export class HashJobWorker {
  private stopped = false;
  private batch: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly active = new Set<Promise<void>>();
  readonly counts: HashJobWorkerCounts = { hashed: 0, dropped: 0, deadLettered: 0, givenUp: 0 };

  constructor(
    private readonly link: NatsLink,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly media: ObjectStore,
    private readonly hashing: MediaHashing,
    private readonly deadLetters: DeadLetters,
    private readonly attempts: HashAttempts,
    private readonly settings: NatsSettings,
    private readonly log: WorkerLog,
    /** Jobs hashed at once: enough to keep the pool's threads busy. */
    private readonly concurrency = Math.max(1, hashing.stats().workers * 2),
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const n = hashJobNames(this.settings);
    while (!this.stopped) {
      try {
        const consumer = await this.js.consumers.get(n.stream, n.consumer);
        this.link.consumerRunning(n.consumer, true);
        while (!this.stopped) {
          if (this.active.size >= this.concurrency) {
            await Promise.race(this.active);
            continue;
          }
          // One pull for the free slots only: every job that arrives starts (and is kept alive) at once.
          this.batch = await consumer.fetch({ max_messages: this.concurrency - this.active.size, expires: FETCH_EXPIRES_MS });
          if (this.stopped) void this.batch.close().catch(() => undefined);
          for await (const message of this.batch) {
            // Taken even after stop() began: stop() waits for this loop, then for the job.
            const job = this.process(message).finally(() => this.active.delete(job));
            this.active.add(job);
          }
        }
      } catch (error) {
        if (!this.stopped) {
          this.link.failed(error);
          // The queue lives in NATS's memory: a NATS server that restarted has lost it, and no
          // job can arrive until someone makes it again. Any process may; this one does.
          await jetstreamManager(this.nc)
            .then((jsm) => ensureHashJobStreams(jsm, this.js, this.settings))
            .catch(() => undefined);
        }
      } finally {
        this.link.consumerRunning(n.consumer, false);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async process(message: JsMsg): Promise<void> {
    const job = readJobHeader(message.headers);
    if (!job) {
      // Not a job Bulwark sent; nobody waits for it.
      this.counts.dropped++;
      message.term();
      return;
    }
    const keepAlive = setInterval(() => message.working(), Math.max(250, Math.floor(this.settings.ackWaitMs / 3)));
    let scratch: string | undefined;
    const deliveries = message.info.deliveryCount;
    try {
      // Only a redelivered job can have stopped a worker before.
      const stoppedWorkers = deliveries > 1 ? await this.attempts.unfinished(job.jobId) : 0;
      if (stoppedWorkers >= this.settings.maxDeliver) return await this.bury(message, job, deliveries, stoppedWorkers);
      if (deliveries > this.settings.maxDeliver) return this.giveUp(message, job, deliveries);
      if (Date.now() > job.deadline) {
        this.counts.dropped++;
        message.ack();
        return;
      }
      let media: MediaInput;
      if (job.object) {
        scratch = await mkdtemp(join(tmpdir(), 'bulwark-hash-job-'));
        const path = join(scratch, 'media');
        if (!(await this.download(job.object, path))) {
          this.counts.dropped++;
          message.ack();
          return;
        }
        media = { path };
      } else {
        media = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
      }
      const answer = await this.hash(job, media, deliveries);
      this.nc.publish(job.reply, encodeAnswer(answer));
      this.counts.hashed++;
      message.ack();
      if (deliveries > 1) void this.attempts.forget(job.jobId).catch(() => undefined);
    } catch (error) {
      // Not the media's fault (the pool was busy, the object store or link failed): offered again,
      // to this or another worker, without counting against the media.
      this.log('warn', `hash job ${job.jobId} (delivery ${deliveries}) failed and is retried: ${(error as Error).message}`);
      message.nak(1000);
    } finally {
      clearInterval(keepAlive);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Media larger than a message, streamed to a scratch file; false when it is gone (the api gave up on the job). */
  private async download(name: string, path: string): Promise<boolean> {
    const found = await this.media.get(name);
    if (!found) return false;
    await pipeline(Readable.fromWeb(found.data as unknown as WebReadableStream<Uint8Array>), createWriteStream(path));
    await found.error;
    return true;
  }

  /**
   * The hashes, or the hashers' own error as data; anything else throws (to be retried). The
   * attempt is recorded while the hashers have the media: a record left behind means they died.
   */
  private async hash(job: HashJobHeader, media: MediaInput, deliveries: number): Promise<HashAnswer> {
    const attempt = await this.attempts.begin(job.jobId);
    try {
      return { jobId: job.jobId, deliveries, signals: await this.hashing.hash(job.contentType, media, job.options) };
    } catch (error) {
      if (!(error instanceof BulwarkError) || error.kind === 'unavailable') throw error;
      return { jobId: job.jobId, deliveries, error: { kind: error.kind, message: error.message, ...(error.details ? { details: error.details } : {}) } };
    } finally {
      await this.attempts.finished(attempt).catch((error: unknown) => this.log('warn', `hash job ${job.jobId}: its finished attempt could not be cleared: ${(error as Error).message}`));
    }
  }

  /** The media stopped `stoppedWorkers` workers: dead-lettered, and the upload told it cannot be hashed. */
  private async bury(message: JsMsg, job: HashJobHeader, deliveries: number, stoppedWorkers: number): Promise<void> {
    const reason = `hash job delivered ${deliveries} times without an answer: the media stopped or stalled ${stoppedWorkers} workers that began hashing it`;
    try {
      await this.deadLetters.add(message, reason, [], jobSummary(job));
    } catch (error) {
      this.link.failed(error);
      message.nak(1000);
      return;
    }
    this.counts.deadLettered++;
    this.log('error', `hash job ${job.jobId} dead-lettered: ${reason}`);
    const answer: HashAnswer = { jobId: job.jobId, deliveries, error: { kind: 'invalid', message: `the media could not be hashed: it stopped the hashing workers ${stoppedWorkers} times`, details: { hash_job: job.jobId } } };
    this.nc.publish(job.reply, encodeAnswer(answer));
    message.term();
    void this.attempts.forget(job.jobId).catch(() => undefined);
  }

  /** Workers could not take the job maxDeliver times, through no fault of the media: the api's fallback applies. */
  private giveUp(message: JsMsg, job: HashJobHeader, deliveries: number): void {
    this.counts.givenUp++;
    this.log('warn', `hash job ${job.jobId} given up after ${deliveries} deliveries: the workers could not take it`);
    const answer: HashAnswer = { jobId: job.jobId, deliveries, error: { kind: 'unavailable', message: `the hashing workers could not take the job in ${deliveries - 1} deliveries`, details: { hash_job: job.jobId } } };
    this.nc.publish(job.reply, encodeAnswer(answer));
    message.term();
    void this.attempts.forget(job.jobId).catch(() => undefined);
  }

  /** Stops pulling and lets the jobs in hand finish, so their answers and acks are not lost. */
  async stop(): Promise<void> {
    this.stopped = true;
    void this.batch?.close().catch(() => undefined);
    // A job the closing pull still hands over is started, so wait for the loop too; bounded, as a
    // loop waiting on an absent NATS would not end (its pull expires by then anyway).
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise((resolve) => (bound = setTimeout(resolve, FETCH_EXPIRES_MS)))]);
    clearTimeout(bound);
    await Promise.allSettled(this.active);
  }
}

/** Sets up the hash-job queue and starts taking jobs into `hashing` (this process's own pool). */
export async function startHashJobWorker(link: NatsLink, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, hashing: MediaHashing, deadLetters: DeadLetters, settings: NatsSettings, log: WorkerLog): Promise<HashJobWorker> {
  const media = await ensureHashJobStreams(jsm, js, settings);
  const worker = new HashJobWorker(link, nc, js, media, hashing, deadLetters, new HashAttempts(js, jsm, settings), settings, log);
  worker.start();
  return worker;
}
