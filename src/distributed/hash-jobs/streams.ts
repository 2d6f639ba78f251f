import { AckPolicy, DeliverPolicy, DiscardPolicy, type JetStreamClient, type JetStreamManager, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { nanos } from '@nats-io/transport-node';
import type { NatsSettings } from '../settings.ts';

/** Most bytes of jobs (inline media) that may wait in the queue; past it a publish fails and the api falls back. */
const JOB_STREAM_MAX_BYTES = 512 * 1024 * 1024;
/** Media nobody deleted (an api process died mid-job) are gone after this. */
const MEDIA_TTL_MS = 60 * 60_000;
const DUPLICATE_WINDOW_MS = 2 * 60_000;

export interface HashJobNames {
  stream: string;
  subject: string;
  consumer: string;
  /** Object store bucket for media larger than a NATS message. */
  bucket: string;
}

export function hashJobNames(settings: Pick<NatsSettings, 'namespace'>): HashJobNames {
  const ns = settings.namespace;
  return { stream: `${ns.toUpperCase().replace(/-/g, '_')}_HASH_JOBS`, subject: `${ns}.hash.jobs`, consumer: 'hash-workers', bucket: `${ns}-hash-media` };
}

const notFound = (error: unknown) => error instanceof JetStreamApiError && error.status === 404;

/**
 * The hash-job work queue, its one shared consumer and the media bucket. Both live in memory:
 * a job is worth nothing once its api process has stopped waiting, and media under review
 * should not reach the NATS server's disk. Safe to run from every process at once.
 */
export async function ensureHashJobStreams(jsm: JetStreamManager, js: JetStreamClient, settings: NatsSettings): Promise<ObjectStore> {
  const n = hashJobNames(settings);
  const stream = {
    name: n.stream,
    subjects: [n.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.Memory,
    max_bytes: JOB_STREAM_MAX_BYTES,
    discard: DiscardPolicy.New,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(n.stream);
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.streams.add(stream).catch((addError) => {
      // Another process created it in between.
      if (!(addError instanceof JetStreamApiError)) throw addError;
    });
  }
  const consumer = {
    durable_name: n.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    // Workers count deliveries themselves, so a job that keeps killing them is dead-lettered with a reason.
    max_deliver: -1,
    max_ack_pending: 10_000,
  };
  try {
    const info = await jsm.consumers.info(n.stream, n.consumer);
    if (info.config.ack_wait !== consumer.ack_wait) await jsm.consumers.update(n.stream, n.consumer, { ack_wait: consumer.ack_wait });
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.consumers.add(n.stream, consumer).catch((addError) => {
      if (!(addError instanceof JetStreamApiError)) throw addError;
    });
  }
  return new Objm(js).create(n.bucket, { storage: StorageType.Memory, ttl: nanos(MEDIA_TTL_MS) });
}
