import type { JetStreamClient } from '@nats-io/jetstream';
import { comparePositions, type DomainEvent, type EventLog, OUTBOX_START, type OutboxPosition } from '../events/event-log.ts';
import { OutboxConsumer, type PipelineStage } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import { pipelineNames, pipelinePartition } from './pipeline-streams.ts';
import type { NatsSettings } from './settings.ts';

export const PIPELINE_RELAY = 'pipeline.relay';

/** What a pipeline message carries (a JSON array of these, in outbox order): the outbox events as the stage's handler takes them. */
export interface PipelineMessage {
  /** "outbox-<seq>": shown in dead-letter listings, like a platform event's id. */
  event_id: string;
  seq: number;
  tx_id: string;
  type: string;
  subject: string;
  payload?: unknown;
  /** Set instead of `payload` on an event too large for a message: the stage reads it from the outbox. */
  payload_in_store?: true;
  occurred_at: string;
}

/**
 * Room kept in each message below the server's max_payload for headers and framing. Messages
 * are cut to fit: one too large fails its publish, the relay's batch rolls back and is tried
 * again forever, and no stage moves (a network.detected event lists every member).
 */
const MESSAGE_ROOM = 16 * 1024;

/** Splits a stage's events for one subject into messages of at most `limit` bytes of JSON, in order. */
export function splitBySize(list: readonly PipelineMessage[], limit: number): PipelineMessage[][] {
  const out: PipelineMessage[][] = [];
  let current: PipelineMessage[] = [];
  let size = 2;
  for (const message of list) {
    let item = message;
    let bytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes + 2 > limit) {
      item = { ...message, payload: undefined, payload_in_store: true };
      bytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    }
    if (current.length > 0 && size + bytes > limit) {
      out.push(current);
      current = [];
      size = 2;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
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
 * read and published again; its messages carry ids (subject and seqs) that JetStream drops
 * within its duplicate window, and after it the stages' idempotency rows make them harmless.
 *
 * In the same transaction the relay moves each stage's own outbox position to its own: the
 * stage's events now belong to JetStream, and an outbox pass of the stage (a CLI command, a
 * process without NATS) starts after them. An event a stage had already handled through the
 * outbox (its position is past it) is not published to it.
 */
export function pipelineRelay(sql: SqlClient, events: EventLog, js: JetStreamClient, settings: NatsSettings, stages: readonly PipelineStage[], maxPayload: () => number): OutboxConsumer {
  const n = pipelineNames(settings);
  const names = stages.map((stage) => stage.name);
  const types = [...new Set(stages.flatMap((stage) => stage.types))];
  let positions = new Map<string, OutboxPosition>();
  /** The batch's events by destination subject, in outbox order: one message each. */
  let messages = new Map<string, PipelineMessage[]>();
  return new OutboxConsumer(
    sql,
    events,
    PIPELINE_RELAY,
    types,
    async (_tx, event) => {
      const message = toPipelineMessage(event);
      for (const stage of stages) {
        if (!stage.types.includes(event.type)) continue;
        if (comparePositions(event.position!, positions.get(stage.name) ?? OUTBOX_START) <= 0) continue;
        const partition = pipelinePartition(stage.orderKey?.(event) ?? event.subject, settings.pipelinePartitions);
        const subject = n.subject(stage.name, partition);
        const list = messages.get(subject) ?? [];
        list.push(message);
        messages.set(subject, list);
      }
    },
    {
      // The relay appends nothing: outbox readers need not wait while it publishes.
      writesEvents: false,
      begin: async (tx) => {
        messages = new Map();
        // Locks the stages' rows: an outbox pass of a stage elsewhere waits, then sees the moved position and reads on from there.
        await tx.query('INSERT INTO consumer_offsets (consumer) SELECT unnest($1::text[]) ON CONFLICT (consumer) DO NOTHING', [names]);
        const rows = await tx.query<{ consumer: string; tx_id: string; seq: number }>(
          'SELECT consumer, tx_id::text AS tx_id, seq FROM consumer_offsets WHERE consumer = ANY($1::text[]) ORDER BY consumer FOR UPDATE',
          [names],
        );
        positions = new Map(rows.rows.map((row) => [row.consumer, { txId: row.tx_id, seq: Number(row.seq) }]));
      },
      end: async (tx, next) => {
        // One message per stage and partition holds the batch's events for it, so a stage handles them in one
        // transaction, as it did a batch from the outbox. A relay that fails here rolls back and relays the
        // batch again: the same events under the same id are dropped by JetStream, and any it regroups are
        // recognised one by one by the stages' idempotency rows.
        const limit = maxPayload() - MESSAGE_ROOM;
        await Promise.all(
          [...messages].flatMap(([subject, list]) =>
            splitBySize(list, limit).map((part) => js.publish(subject, JSON.stringify(part), { msgID: `${subject}.${part[0].seq}.${part[part.length - 1].seq}.${part.length}` })),
          ),
        );
        messages = new Map();
        await tx.query(
          'UPDATE consumer_offsets SET tx_id = $2::xid8, seq = $3 WHERE consumer = ANY($1::text[]) AND (tx_id, seq) < ($2::xid8, $3::bigint)',
          [names, next.txId, next.seq],
        );
      },
    },
  );
}
