import { AckPolicy, DeliverPolicy, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { EventLog } from '../events/event-log.ts';
import type { NatsSettings } from './settings.ts';
import { upsertConsumer, upsertStream } from './streams.ts';
import { partitionOf } from './subjects.ts';

/** How long JetStream itself drops a relayed event published again (the relay's ack lost, its transaction retried). */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * Names of the pipeline's work queue. Each stage has its own subjects, one per partition,
 * `<ns>.pipeline.<stage>.p<n>`: a work-queue stream needs its consumers' filters disjoint, and
 * an event several stages read (case.decided) is a message for each, acked by each on its own.
 */
export interface PipelineNames {
  stream: string;
  subjects: string;
  subject(stage: string, partition: number): string;
  consumer(stage: string, partition: number): string;
}

/** A stage name as one subject token and as part of a durable name ("rules.runner" → "rules_runner"). */
const token = (stage: string) => stage.replace(/[^A-Za-z0-9_-]/g, '_');

export function pipelineNames(settings: Pick<NatsSettings, 'namespace'>): PipelineNames {
  const ns = settings.namespace;
  return {
    stream: `${ns.toUpperCase().replace(/-/g, '_')}_PIPELINE`,
    subjects: `${ns}.pipeline.>`,
    subject: (stage, partition) => `${ns}.pipeline.${token(stage)}.p${partition}`,
    consumer: (stage, partition) => `pipe-${token(stage)}-p${partition}`,
  };
}

/**
 * The partition of an outbox event: by what it is about ("content:abc", "case:12"), so the
 * events about one thing reach each stage in outbox order, as they did from the outbox.
 */
export const pipelinePartition = (subject: string, partitions: number): number => partitionOf(subject, partitions);

/**
 * The work-queue stream and, for each stage, one durable consumer per partition. Like the
 * platform-event lanes, each consumer lets one message be unacked at a time across all
 * workers, which keeps a partition in order; the partitions of all stages run in parallel,
 * spread over whichever workers pull them. Bulwark counts deliveries itself (LaneWorker) and
 * dead-letters a message with its error, so max_deliver is unlimited here.
 */
export async function ensurePipelineStream(jsm: JetStreamManager, settings: NatsSettings, stages: readonly string[]): Promise<void> {
  const n = pipelineNames(settings);
  await upsertStream(jsm, {
    name: n.stream,
    subjects: [n.subjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  for (const stage of stages) {
    for (let partition = 0; partition < settings.pipelinePartitions; partition++) {
      await upsertConsumer(jsm, n.stream, {
        durable_name: n.consumer(stage, partition),
        filter_subject: n.subject(stage, partition),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(settings.ackWaitMs),
        max_ack_pending: 1,
        max_deliver: -1,
      });
    }
  }
}

/**
 * Messages each stage has not acked yet (waiting and in hand), summed over its partitions. A
 * consumer whose state cannot be read fails the whole answer: a count taken as 0 would let a
 * caller waiting for the stage to settle (a transparency report) go on with messages queued.
 */
export async function pipelineBacklog(jsm: JetStreamManager, settings: NatsSettings, stages: readonly string[]): Promise<Map<string, number>> {
  const n = pipelineNames(settings);
  const out = new Map<string, number>();
  for (const stage of stages) {
    let total = 0;
    for (let partition = 0; partition < settings.pipelinePartitions; partition++) {
      const info = await jsm.consumers.info(n.stream, n.consumer(stage, partition));
      total += info.num_pending + info.num_ack_pending;
    }
    out.set(stage, total);
  }
  return out;
}

/**
 * What a stage carried by JetStream has not handled yet: events of its types the relay has not
 * passed on (its outbox position moves as they are relayed) and messages queued for it;
 * undefined when its queue cannot be read, which must never be taken for "nothing left".
 */
export async function unhandledByStage(events: EventLog, jsm: JetStreamManager, settings: NatsSettings, stage: string): Promise<number | undefined> {
  const queued = await pipelineBacklog(jsm, settings, [stage]).catch(() => undefined);
  if (!queued) return undefined;
  return (await events.consumerStatus(stage)).behind + (queued.get(stage) ?? 0);
}
