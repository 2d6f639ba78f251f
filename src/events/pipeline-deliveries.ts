import { hostname } from 'node:os';
import type { SqlClient } from '../store/sql.ts';
import type { DomainEvent } from './event-log.ts';

/**
 * Which outbox events each pipeline stage has handled (table pipeline_deliveries), written in
 * the stage's own transaction by both ways a stage receives events: reading the outbox
 * (src/events/outbox-consumer.ts) and JetStream work queues (src/distributed/pipeline-stages.ts).
 * An event delivered again by either (a message redelivered after a lost ack, a relay batch
 * rolled back after JetStream took its messages) finds its row and is skipped.
 */

/** Which process handled an event, for an operator following it across processes. */
const HANDLER = `${hostname()}:${process.pid}`;

/**
 * A row guards against a delivery of an event its stage already committed: a redelivery comes
 * within a few ack waits, a rolled-back relay batch at the next pass, so a week is ample. A
 * message that failed never committed, so a dead letter retried later has no row to miss.
 */
export const DELIVERY_MEMORY = '7 days';

/** Records that `stage` handled these events, in the caller's transaction; returns the seqs new to it. */
export async function recordDeliveries(tx: SqlClient, stage: string, events: readonly DomainEvent[]): Promise<Set<number>> {
  const fresh = await tx.query<{ event_seq: number | string }>(
    'INSERT INTO pipeline_deliveries (stage, event_seq, worker) SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING RETURNING event_seq',
    [stage, events.map((event) => event.seq), HANDLER],
  );
  return new Set(fresh.rows.map((row) => Number(row.event_seq)));
}

/** Forgets rows older than DELIVERY_MEMORY; returns how many went. */
export async function forgetOldDeliveries(sql: SqlClient): Promise<number> {
  const result = await sql.query('DELETE FROM pipeline_deliveries WHERE handled_at < now() - $1::interval', [DELIVERY_MEMORY]);
  return result.rowCount ?? 0;
}
