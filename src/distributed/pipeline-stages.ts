import type { JsMsg } from '@nats-io/jetstream';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { PipelineStage } from '../events/outbox-consumer.ts';
import { recordDeliveries } from '../events/pipeline-deliveries.ts';
import type { SqlClient } from '../store/sql.ts';
import { type MessageHandler, UnusableMessage } from './lane-worker.ts';
import type { PipelineMessage } from './pipeline-relay.ts';

/** A relayed message back into the events its stage handles, in order; anything else can never succeed. */
export function decodePipelineMessage(data: Uint8Array): DomainEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new UnusableMessage(`not JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new UnusableMessage('the message holds no events');
  return list.map((item: Partial<PipelineMessage> | null, index) => {
    const { seq, tx_id, type, subject, occurred_at } = item ?? {};
    if (typeof item !== 'object' || item === null || !Number.isSafeInteger(seq) || typeof tx_id !== 'string' || typeof type !== 'string' || typeof subject !== 'string' || typeof occurred_at !== 'string') {
      throw new UnusableMessage(`item ${index} is not an outbox event: seq, tx_id, type, subject and occurred_at are required`);
    }
    // An event too large for a message travels without its payload (payload_in_store), read from the outbox by the stage.
    const payload = item.payload_in_store === true ? undefined : item.payload;
    return { seq: seq!, type, subject, payload, occurredAt: new Date(occurred_at), position: { txId: tx_id, seq: seq! } };
  });
}

/**
 * One stage's handler for its JetStream messages. The stage's work on a message's events and
 * a row naming (stage, event) for each commit in one transaction, and the message is acked
 * after (LaneWorker): an event delivered again finds its row and is skipped, so each event has
 * its effect once per stage, as an outbox position gave it. Events the stage's work publishes
 * are heard in this process after the commit (e.g. a decision's actions are dispatched here).
 */
export function stageHandler(sql: SqlClient, events: EventLog, stage: PipelineStage): MessageHandler {
  return async (message: JsMsg) => {
    const batch = decodePipelineMessage(message.data);
    const foreign = batch.find((event) => !stage.types.includes(event.type));
    if (foreign) throw new UnusableMessage(`${stage.name} does not handle ${foreign.type} events`);
    const emitted = await events.foreground.turn(() =>
      sql.transaction(async (tx) => {
        const first = await recordDeliveries(tx, stage.name, batch);
        await loadLeftOutPayloads(tx, batch.filter((event) => first.has(event.seq) && event.payload === undefined));
        return stage.handleBatch(tx, batch.filter((event) => first.has(event.seq)));
      }, { background: true }),
    );
    events.published(emitted);
  };
}

/** Actions enqueued anywhere (a reviewer's decision in an api process) are delivered by whichever worker takes this message. */
export const ACTIONS_DUE_STAGE = 'actions.due';

export function actionsDueStage(types: readonly string[], dispatchDue: () => Promise<unknown>, onError: (error: Error) => void): PipelineStage {
  return {
    name: ACTIONS_DUE_STAGE,
    types,
    // Dispatch claims due actions under a lease and delivers each under its idempotency key: a second wake-up costs a query, not a delivery.
    handleBatch: async (tx) => {
      tx.afterCommit(() => void dispatchDue().catch(onError));
      return [];
    },
  };
}

/** Reads from the outbox the payloads of events that came without them (too large for a message). */
async function loadLeftOutPayloads(tx: SqlClient, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = await tx.query<{ seq: number | string; payload: unknown }>('SELECT seq, payload FROM events WHERE seq = ANY($1::bigint[])', [events.map((event) => event.seq)]);
  const bySeq = new Map(rows.rows.map((row) => [Number(row.seq), row.payload]));
  for (const event of events) {
    if (!bySeq.has(event.seq)) throw new Error(`outbox event ${event.seq} is gone: its payload cannot be read`);
    (event as { payload: unknown }).payload = bySeq.get(event.seq);
  }
}
