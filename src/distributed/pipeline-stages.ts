import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { PipelineStage } from '../events/outbox-consumer.ts';
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
    return { seq: seq!, type, subject, payload: item.payload, occurredAt: new Date(occurred_at), position: { txId: tx_id, seq: seq! } };
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
  const worker = `${hostname()}:${process.pid}`;
  return async (message: JsMsg) => {
    const batch = decodePipelineMessage(message.data);
    const foreign = batch.find((event) => !stage.types.includes(event.type));
    if (foreign) throw new UnusableMessage(`${stage.name} does not handle ${foreign.type} events`);
    const emitted = await events.foreground.turn(() =>
      sql.transaction(async (tx) => {
        const fresh = await tx.query<{ event_seq: number }>(
          'INSERT INTO pipeline_deliveries (stage, event_seq, worker) SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING RETURNING event_seq',
          [stage.name, batch.map((event) => event.seq), worker],
        );
        const first = new Set(fresh.rows.map((row) => Number(row.event_seq)));
        const out: DomainEvent[] = [];
        for (const event of batch) if (first.has(event.seq)) out.push(...((await stage.handle(tx, event)) ?? []));
        return out;
      }),
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
    handle: async (tx) => tx.afterCommit(() => void dispatchDue().catch(onError)),
  };
}
