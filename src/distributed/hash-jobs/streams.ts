import { AckPolicy, DeliverPolicy, DiscardPolicy, type JetStreamClient, type JetStreamManager, JetStreamApiError, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { nanos } from '@nats-io/transport-node';
import type { NatsSettings } from '../settings.ts';

/** Most bytes of jobs (inline media) that may wait in the queue; past it a publish fails and the api falls back. */
const JOB_STREAM_MAX_BYTES = 512 * 1024 * 1024;
/** Media nobody deleted (an api process died mid-job) are gone after this; so are attempt records. */
const MEDIA_TTL_MS = 60 * 60_000;
/** Media bytes the bucket holds when no api process has said otherwise (BULWARK_HASHING_MEDIA_MAX_BYTES). */
export const DEFAULT_MEDIA_MAX_BYTES = 1024 * 1024 * 1024;
const DUPLICATE_WINDOW_MS = 2 * 60_000;

export interface HashJobNames {
  stream: string;
  subject: string;
  consumer: string;
  /** Object store bucket for media larger than a NATS message. */
  bucket: string;
  /** Stream of hashing attempts begun and not (yet) finished, one subject per job: see attempts.ts. */
  attemptsStream: string;
  attemptsSubject(jobId: string): string;
}

export function hashJobNames(settings: Pick<NatsSettings, 'namespace'>): HashJobNames {
  const ns = settings.namespace;
  const prefix = ns.toUpperCase().replace(/-/g, '_');
  return {
    stream: `${prefix}_HASH_JOBS`,
    subject: `${ns}.hash.jobs`,
    consumer: 'hash-workers',
    bucket: `${ns}-hash-media`,
    attemptsStream: `${prefix}_HASH_ATTEMPTS`,
    attemptsSubject: (jobId) => `${ns}.hash.attempts.${jobId}`,
  };
}

const notFound = (error: unknown) => error instanceof JetStreamApiError && error.status === 404;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.streams.add(config).catch((addError) => {
      // Another process created it in between.
      if (!(addError instanceof JetStreamApiError)) throw addError;
    });
  }
}

/**
 * The hash-job work queue, its one shared consumer, the media bucket and the attempt records.
 * All live in memory: a job is worth nothing once its api process has stopped waiting, and media
 * under review should not reach the NATS server's disk. Safe to run from every process at once.
 * `mediaMaxBytes` is given by api processes (their setting wins over the default a worker that
 * came first set); workers leave the bucket's cap as they find it.
 */
export async function ensureHashJobStreams(jsm: JetStreamManager, js: JetStreamClient, settings: NatsSettings, mediaMaxBytes?: number): Promise<ObjectStore> {
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
  await ensureStream(jsm, stream);
  await ensureStream(jsm, {
    name: n.attemptsStream,
    subjects: [n.attemptsSubject('*')],
    storage: StorageType.Memory,
    max_age: nanos(MEDIA_TTL_MS),
    discard: DiscardPolicy.Old,
  });
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
  // Capped: a full bucket fails the put (the bucket discards new data), and the api's fallback applies.
  const media = await new Objm(js).create(n.bucket, { storage: StorageType.Memory, ttl: nanos(MEDIA_TTL_MS), max_bytes: mediaMaxBytes ?? DEFAULT_MEDIA_MAX_BYTES });
  if (mediaMaxBytes !== undefined) {
    // create() leaves an existing bucket as it is: set this api's cap on one made before.
    const bucketStream = `OBJ_${n.bucket}`;
    const { config } = await jsm.streams.info(bucketStream);
    if (config.max_bytes !== mediaMaxBytes) await jsm.streams.update(bucketStream, { max_bytes: mediaMaxBytes });
  }
  return media;
}
