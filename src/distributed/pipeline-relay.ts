import type { JetStreamClient } from '@nats-io/jetstream';
import { comparePositions, type DomainEvent, type EventLog, OUTBOX_START, type OutboxPosition } from '../events/event-log.ts';
import { OutboxConsumer, type PipelineStage } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import { pipelineNames, pipelinePartition } from './pipeline-streams.ts';
import type { NatsSettings } from './settings.ts';

export const PIPELINE_RELAY = 'pipeline.relay';

/** What a pipeline message carries: the outbox event as its stage's handler takes it. */
export interface PipelineMessage {
  /** "outbox-<seq>": shown in dead-letter listings, like a platform event's id. */
  event_id: string;
  seq: number;
  tx_id: string;
  type: string;
  subject: string;
  payload: unknown;
  occurred_at: string;
}

export const toPipelineMessage = (event: DomainEvent): PipelineMessage => ({
  event_id: `outbox-${event.seq}`,
  seq: event.seq,
  tx_id: event.position?.txId ?? '0',
  type: event.type,
  subject: event.subject,
  payload: event.payload,
  occurred_at: event.occurredAt.toISOString(),
});

/**
 * Moves committed outbox events into the pipeline's JetStream work queue. It is an outbox
 * consumer (one process at a time holds its position), so the outbox stays the source of
 * truth: an event is published only once its transaction committed, and the relay's position
 * moves only after JetStream acked every publish of the batch. A batch that fails half-way is
 * read and published again; its messages carry ids (`<stage>.<seq>`) that JetStream drops
 * within its duplicate window, and after it the stages' idempotency rows make them harmless.
 *
 * In the same transaction the relay moves each stage's own outbox position to its own: the
 * stage's events now belong to JetStream, and an outbox pass of the stage (a CLI command, a
 * process without NATS) starts after them. An event a stage had already handled through the
 * outbox (its position is past it) is not published to it.
 */
export function pipelineRelay(sql: SqlClient, events: EventLog, js: JetStreamClient, settings: NatsSettings, stages: readonly PipelineStage[]): OutboxConsumer {
  const n = pipelineNames(settings);
  const names = stages.map((stage) => stage.name);
  const types = [...new Set(stages.flatMap((stage) => stage.types))];
  let positions = new Map<string, OutboxPosition>();
  let publishes: Promise<unknown>[] = [];
  return new OutboxConsumer(
    sql,
    events,
    PIPELINE_RELAY,
    types,
    async (_tx, event) => {
      const data = JSON.stringify(toPipelineMessage(event));
      const partition = pipelinePartition(event.subject, settings.partitions);
      for (const stage of stages) {
        if (!stage.types.includes(event.type)) continue;
        if (comparePositions(event.position!, positions.get(stage.name) ?? OUTBOX_START) <= 0) continue;
        const published = js.publish(n.subject(stage.name, partition), data, { msgID: `${stage.name}.${event.seq}` });
        // Awaited at the batch's end; until then a refusal must not count as unhandled.
        published.catch(() => undefined);
        publishes.push(published);
      }
    },
    {
      begin: async (tx) => {
        publishes = [];
        // Locks the stages' rows: an outbox pass of a stage elsewhere waits, then sees the moved position and reads on from there.
        await tx.query('INSERT INTO consumer_offsets (consumer) SELECT unnest($1::text[]) ON CONFLICT (consumer) DO NOTHING', [names]);
        const rows = await tx.query<{ consumer: string; tx_id: string; seq: number }>(
          'SELECT consumer, tx_id::text AS tx_id, seq FROM consumer_offsets WHERE consumer = ANY($1::text[]) ORDER BY consumer FOR UPDATE',
          [names],
        );
        positions = new Map(rows.rows.map((row) => [row.consumer, { txId: row.tx_id, seq: Number(row.seq) }]));
      },
      end: async (tx, next) => {
        // Throws if JetStream refused or did not answer one: the transaction rolls back and the batch is relayed again.
        await Promise.all(publishes);
        publishes = [];
        await tx.query(
          'UPDATE consumer_offsets SET tx_id = $2::xid8, seq = $3 WHERE consumer = ANY($1::text[]) AND (tx_id, seq) < ($2::xid8, $3::bigint)',
          [names, next.txId, next.seq],
        );
      },
    },
  );
}
