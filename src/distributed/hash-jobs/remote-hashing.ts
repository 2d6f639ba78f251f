import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { BulwarkError, RetryLaterError } from '../../errors.ts';
import type { HashingStats, MediaHashing } from '../../signals/hashing/media-hashing.ts';
import { HashingBusyError } from '../../signals/hashing/worker-pool.ts';
import type { ComputedSignal, HashOptions, MediaInput } from '../../signals/types.ts';
import { NatsLink } from '../connection.ts';
import type { RemoteHashingSettings } from './settings.ts';
import { ensureHashJobStreams, hashJobNames } from './streams.ts';
import { decodeAnswer, type HashAnswer, jobHeaders } from './wire.ts';

/** Room left in a NATS message for the job's headers. */
const HEADER_ROOM = 8 * 1024;

/** The workers cannot take the job now (link down, no answer in time, queue full): the fallback applies. */
class WorkersUnavailable extends Error {}

interface Channel {
  nc: NatsConnection;
  js: JetStreamClient;
  media: ObjectStore;
  inbox: string;
  subscription: Subscription;
}

interface Waiting {
  resolve(answer: HashAnswer): void;
  reject(error: Error): void;
}

/**
 * Hashes by sending each job to the hashing workers over a JetStream work queue, so an api
 * process stays light and hashing CPU grows with workers. A job carries the media (in the
 * message, or in the object store when larger than one) and a reply subject; a worker hashes
 * it in its own threads, publishes the answer, then acks. A worker that dies mid-job leaves it
 * unacked and JetStream hands it to another after ack_wait: the first answer per job id wins
 * and later ones are ignored (hashing is pure, so a repeat is harmless). When the link is down
 * or no answer comes in time, the job falls back to `local` hashing or is refused with 503,
 * as configured.
 */
export class JetStreamHashing implements MediaHashing {
  private readonly link: NatsLink;
  private readonly names;
  private channel: Channel | undefined;
  private readonly waiting = new Map<string, Waiting>();
  /** Jobs holding one of the maxInFlight slots, counted from before their first await. */
  private inFlight = 0;
  private closed = false;
  private readonly counts = { answered: 0, redelivered: 0, duplicates: 0, fallbacks: 0, refused: 0, viaObjectStore: 0 };

  constructor(readonly local: MediaHashing, private readonly settings: RemoteHashingSettings, link?: NatsLink) {
    this.names = hashJobNames(settings.nats);
    this.link = link ?? new NatsLink(settings.nats.url, `bulwark-hashing-${process.pid}`);
    void this.open();
  }

  /** Sets up the queue and the answer inbox once connected; retried until it works or close(). */
  private async open(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await this.link.ready;
    } catch {
      return;
    }
    for (let waitMs = 250; !this.closed; waitMs = Math.min(waitMs * 2, 5000)) {
      try {
        const js = jetstream(nc);
        const media = await ensureHashJobStreams(await jetstreamManager(nc), js, this.settings.nats, this.settings.mediaMaxBytes);
        const inbox = createInbox();
        const subscription = nc.subscribe(`${inbox}.*`, { callback: (error, message) => (error ? this.link.failed(error) : this.answered(message.data)) });
        this.channel = { nc, js, media, inbox, subscription };
        return;
      } catch (error) {
        this.link.failed(error);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private answered(data: Uint8Array): void {
    const answer = decodeAnswer(data);
    if (!answer) return;
    const waiting = this.waiting.get(answer.jobId);
    if (!waiting) {
      // A second worker's answer after a redelivery, or one that came after we stopped waiting.
      this.counts.duplicates++;
      return;
    }
    this.waiting.delete(answer.jobId);
    this.counts.answered++;
    if (answer.deliveries > 1) this.counts.redelivered++;
    waiting.resolve(answer);
  }

  async hash(contentType: string, media: MediaInput, options?: HashOptions): Promise<ComputedSignal[]> {
    // Checked and taken in one step, before any await, so concurrent uploads cannot pass the cap together.
    if (this.inFlight >= this.settings.maxInFlight) {
      this.counts.refused++;
      throw new HashingBusyError(this.settings.retryAfterSeconds);
    }
    this.inFlight++;
    let answer: HashAnswer;
    try {
      answer = await this.remote(contentType, media, options);
      // The workers could not take it (busy, object store failing) through no fault of the media.
      if ('error' in answer && answer.error.kind === 'unavailable') throw new WorkersUnavailable(answer.error.message);
    } catch (error) {
      if (!(error instanceof WorkersUnavailable)) throw error;
      this.counts.fallbacks++;
      if (this.settings.fallback === 'refuse') {
        throw new RetryLaterError(`media cannot be hashed now: ${error.message}; retry later`, this.settings.retryAfterSeconds);
      }
      return this.local.hash(contentType, media, options);
    } finally {
      // The slot is for waiting on workers; a local fallback is bounded by the local pool's own queue.
      this.inFlight--;
    }
    if ('error' in answer) throw new BulwarkError(answer.error.kind, answer.error.message, answer.error.details);
    return answer.signals;
  }

  private async remote(contentType: string, media: MediaInput, options: HashOptions | undefined): Promise<HashAnswer> {
    const channel = this.channel;
    if (!channel || !this.link.connected) throw new WorkersUnavailable(`the NATS link is ${this.link.status().state}`);
    const jobId = randomUUID();
    const size = Buffer.isBuffer(media) ? media.length : (await stat(media.path)).size;
    const inline = size <= (channel.nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM;
    const deadline = Date.now() + this.settings.answerTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<HashAnswer>((resolve, reject) => {
      this.waiting.set(jobId, { resolve, reject });
      timer = setTimeout(() => {
        this.waiting.delete(jobId);
        reject(new WorkersUnavailable(`no hashing worker answered within ${this.settings.answerTimeoutMs} ms`));
      }, this.settings.answerTimeoutMs);
    });
    // Settled by close() or the timer while the upload is still being sent: not an unhandled rejection.
    answer.catch(() => undefined);
    try {
      if (!inline) {
        const body = Buffer.isBuffer(media) ? Readable.from([media]) : createReadStream(media.path);
        await channel.media.put({ name: jobId }, Readable.toWeb(body) as WebReadableStream<Uint8Array> as ReadableStream<Uint8Array>);
        this.counts.viaObjectStore++;
      }
      const bytes = inline ? (Buffer.isBuffer(media) ? media : await readFile(media.path)) : new Uint8Array(0);
      const headers = jobHeaders({ jobId, reply: `${channel.inbox}.${jobId}`, contentType, deadline, ...(options ? { options } : {}), ...(inline ? {} : { object: jobId }) });
      await channel.js.publish(this.names.subject, bytes, { headers, msgID: jobId });
    } catch (error) {
      clearTimeout(timer);
      this.waiting.delete(jobId);
      if (!inline) void channel.media.delete(jobId).catch(() => undefined);
      // The queue is full, the stream is missing (a NATS server restarted loses what it held in
      // memory) or the link dropped while sending: make the queue again for the next upload.
      this.remake(channel);
      throw new WorkersUnavailable(`the job could not be queued (${(error as Error).message})`);
    }
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
      // Done with, answered or not: a worker that still finds the job later finds no media and drops it.
      if (!inline) void channel.media.delete(jobId).catch(() => undefined);
    }
  }

  /** Makes the queue, its consumer and the media bucket again (one attempt at a time). */
  private remaking: Promise<void> | undefined;
  private remake(channel: Channel): void {
    this.remaking ??= jetstreamManager(channel.nc)
      .then((jsm) => ensureHashJobStreams(jsm, channel.js, this.settings.nats, this.settings.mediaMaxBytes))
      .then((media) => {
        if (this.channel === channel) this.channel = { ...channel, media };
      })
      .catch((error) => this.link.failed(error))
      .finally(() => {
        this.remaking = undefined;
      });
  }

  stats(): HashingStats {
    return {
      ...this.local.stats(),
      mode: 'jetstream',
      jetstream: {
        link: this.link.status().state,
        ready: this.channel !== undefined,
        inFlight: this.inFlight,
        maxInFlight: this.settings.maxInFlight,
        fallback: this.settings.fallback,
        ...this.counts,
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.waiting.values()) waiting.reject(new BulwarkError('unavailable', 'the server is shutting down'));
    this.waiting.clear();
    this.channel?.subscription.unsubscribe();
    await this.link.close();
    await this.local.close();
  }
}

/** The hashing that runs in this process: the pool behind remote hashing, else the hashing itself. */
export const localHashing = (hashing: MediaHashing): MediaHashing => (hashing instanceof JetStreamHashing ? hashing.local : hashing);
