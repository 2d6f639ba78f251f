import { AckPolicy, DeliverPolicy, type JetStreamManager, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsSettings } from './settings.ts';
import { names } from './subjects.ts';

const DAY_MS = 24 * 3_600_000;
/** How long a resent message id is recognised and dropped by JetStream itself. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** How long dead letters are kept for someone to look at and retry. */
const DEAD_LETTER_AGE_MS = 30 * DAY_MS;

const notFound = (error: unknown) => error instanceof JetStreamApiError && error.status === 404;

/**
 * Creates the event and dead-letter streams and the lane consumers, or brings them to this
 * configuration; every worker runs it at start, so it must be harmless to run concurrently.
 */
export async function ensureStreams(jsm: JetStreamManager, settings: NatsSettings): Promise<void> {
  const n = names(settings);
  // A work queue forgets a message once it is acked, so the stream holds only what waits.
  // Lanes (`<ns>.events.<platform>.p<n>`) and unsplit messages (`<ns>.events.<platform>`) have
  // disjoint filters, which a work queue requires.
  await upsertStream(jsm, {
    name: n.eventStream,
    subjects: [n.unpartitioned, `${settings.namespace}.events.*.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  await upsertStream(jsm, {
    name: n.deadStream,
    subjects: [n.deadSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(DEAD_LETTER_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  for (let partition = 0; partition < settings.partitions; partition++) {
    await upsertConsumer(jsm, n.eventStream, laneConsumerConfig(n.laneConsumer(partition), n.lane(partition), settings));
  }
  await upsertConsumer(jsm, n.eventStream, laneConsumerConfig(n.repartitioner, n.unpartitioned, settings));
}

/**
 * One message in flight per consumer, across all workers: the next is delivered only once
 * this one is acked, or, after a crash, redelivered first once ack_wait has passed. That is
 * what keeps an account's events in order. Bulwark counts deliveries itself (max_deliver
 * unlimited here) so a message that keeps failing is dead-lettered with its error instead of
 * being dropped by the server.
 */
function laneConsumerConfig(durable: string, filter: string, settings: NatsSettings): Partial<ConsumerConfig> {
  return {
    durable_name: durable,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: 1,
    max_deliver: -1,
  };
}

/** Creates a stream or brings it to this configuration (its retention and storage cannot change). */
export async function upsertStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!notFound(error)) throw error;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addError) {
      // Another worker created it in between: fall through and update it to this configuration.
      if (!(addError instanceof JetStreamApiError)) throw addError;
    }
  }
  const { name, retention: _retention, storage: _storage, ...changeable } = config;
  await jsm.streams.update(name, changeable);
}

/** Creates a durable consumer or brings it to this configuration. */
export async function upsertConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  const durable = config.durable_name!;
  try {
    const info = await jsm.consumers.info(stream, durable);
    const current = info.config;
    if (current.filter_subject === config.filter_subject && current.ack_wait === config.ack_wait && current.max_ack_pending === config.max_ack_pending) return;
    const { durable_name: _name, deliver_policy: _deliver, ack_policy: _ack, ...changeable } = config;
    await jsm.consumers.update(stream, durable, changeable);
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.consumers.add(stream, config);
  }
}
