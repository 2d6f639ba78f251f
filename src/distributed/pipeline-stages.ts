import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { PipelineStage } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import { type MessageHandler, UnusableMessage } from './lane-worker.ts';
import type { PipelineMessage } from './pipeline-relay.ts';

/** A relayed message back into the event its stage handles; anything else can never succeed. */
export function decodePipelineMessage(data: Uint8Array): DomainEvent {
  let parsed: Partial<PipelineMessage>;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<PipelineMessage>;
  } catch (error) {
    throw new UnusableMessage(`not JSON: ${(error as Error).message}`);
  }
  const { seq, tx_id, type, subject, occurred_at } = parsed ?? {};
  if (typeof parsed !== 'object' || parsed === null || !Number.isSafeInteger(seq) || typeof tx_id !== 'string' || typeof type !== 'string' || typeof subject !== 'string' || typeof occurred_at !== 'string') {
    throw new UnusableMessage('not an outbox event: seq, tx_id, type, subject and occurred_at are required');
  }
  return { seq: seq!, type, subject, payload: parsed.payload, occurredAt: new Date(occurred_at), position: { txId: tx_id, seq: seq! } };
}

/**
 * One stage's handler for its JetStream messages. The stage's work and a row naming
 * (stage, event) commit in one transaction, and the message is acked after (LaneWorker): a
 * message delivered again finds its row and is acked with no effect, so each event has its
 * effect once per stage, as an outbox position gave it. Events the stage's work publishes are
 * heard in this process after the commit (e.g. a decision's actions are dispatched here).
 */
export function stageHandler(sql: SqlClient, events: EventLog, stage: PipelineStage): MessageHandler {
  const worker = `${hostname()}:${process.pid}`;
  return async (message: JsMsg) => {
    const event = decodePipelineMessage(message.data);
    if (!stage.types.includes(event.type)) throw new UnusableMessage(`${stage.name} does not handle ${event.type} events`);
    const emitted = await events.foreground.turn(() =>
      sql.transaction(async (tx) => {
        const first = await tx.query('INSERT INTO pipeline_deliveries (stage, event_seq, worker) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_seq',
          [stage.name, event.seq, worker],);
        if (first.rows.length === 0) return [];
        return (await stage.handle(tx, event)) ?? [];
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
