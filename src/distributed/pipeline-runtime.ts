import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Bulwark } from '../app.ts';
import { ACTION_REQUESTED_EVENT, ACTION_REQUEUED_EVENT } from '../actions/action-service.ts';
import type { OutboxConsumer, PipelineStage } from '../events/outbox-consumer.ts';
import type { NatsLink } from './connection.ts';
import type { DeadLetters } from './dead-letters.ts';
import { LaneWorker, type WorkerLog } from './lane-worker.ts';
import { PIPELINE_RELAY, pipelineRelay } from './pipeline-relay.ts';
import type { SqlClient } from '../store/sql.ts';
import { ACTIONS_DUE_STAGE, actionsDueStage, stageHandler } from './pipeline-stages.ts';
import { ensurePipelineStream, pipelineBacklog, pipelineNames, unhandledByStage } from './pipeline-streams.ts';
import type { NatsSettings, Role } from './settings.ts';

/** How often a worker's relay looks for events other processes committed, besides their wake-ups. */
const RELAY_POLL_MS = 5000;
/** NATS's default max_payload, for a relay that has not seen the server's yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface JetStreamPipeline {
  /** The stages whose events go through JetStream, by name (what GET /v1/outbox/status reports). */
  readonly stages: string[];
  /** JetStream consumers this process pulls once running (for /healthz). */
  readonly consumers: number;
  /** Relays what the outbox holds now; a worker calls it on every wake-up. */
  catchUp(): Promise<void>;
  /** Creates the work queue and its consumers, or brings them to this configuration. */
  ensure(jsm: JetStreamManager): Promise<void>;
  /** In a worker: starts the relay and the stages' pullers (once the queue exists). */
  start(js: JetStreamClient, deadLetters: DeadLetters, storeReady: () => Promise<void>): void;
  /** Messages each stage has not acked yet. */
  backlog(jsm: JetStreamManager): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/**
 * The pipeline's own events through JetStream work queues: from now on no process handles a
 * stage from the outbox (every role hands them over, so an api's report that drains a stage
 * does not handle its events beside the workers); workers relay the outbox into the queue and
 * pull every stage's partitions. Only on PostgreSQL: the embedded store is one process's alone.
 */
export function jetstreamPipeline(bulwark: Bulwark, link: NatsLink, settings: NatsSettings, role: Role, log: WorkerLog): JetStreamPipeline | undefined {
  if (settings.pipeline !== 'jetstream' || bulwark.sql.driver !== 'postgres') return undefined;
  const worker = role !== 'api';
  const dispatching = worker && bulwark.config.dispatchActions !== false;
  let manager: JetStreamManager | undefined;
  // What a stage has not handled yet: events the relay has not passed on, and messages queued for it.
  const remaining = (name: string) => async () => (manager && link.connected ? unhandledByStage(bulwark.events, manager, settings, name) : undefined);
  for (const stage of bulwark.pipelineStages) stage.handOver(remaining(stage.name));
  const stages: PipelineStage[] = [...bulwark.pipelineStages];
  if (dispatching) stages.push(actionsDueStage([ACTION_REQUESTED_EVENT, ACTION_REQUEUED_EVENT], () => bulwark.actions.dispatchDue(), (error) => log('warn', `actions not dispatched: ${error.message}`)));
  const names = [...bulwark.pipelineStages.map((stage) => stage.name), ACTIONS_DUE_STAGE];
  const n = pipelineNames(settings);
  const workers: LaneWorker[] = [];
  const stops: (() => void)[] = [];
  let relay: OutboxConsumer | undefined;
  let starting = false;
  let stopped = false;
  return {
    stages: names,
    consumers: worker ? stages.length * settings.pipelinePartitions : 0,
    catchUp: async () => {
      await relay?.drain();
    },
    ensure: async (jsm) => {
      await ensurePipelineStream(jsm, settings, stages.map((stage) => stage.name));
      manager = jsm;
    },
    start: (js, deadLetters, storeReady) => {
      if (!worker || stopped || starting) return;
      starting = true;
      const created = pipelineRelay(bulwark.sql, bulwark.events, js, settings, stages, () => link.current?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
      // A relay new to a deployment whose stages read the outbox until now starts where the furthest-behind of them is,
      // not at the outbox's beginning: every event before that is handled by every stage that existed. Wake-ups reach
      // the relay only once that is settled (it would otherwise take the outbox's beginning for its position).
      void (async () => {
        for (;;) {
          try {
            await startRelayAtStages(bulwark.sql, stages.map((stage) => stage.name));
            break;
          } catch (error) {
            log('warn', `pipeline relay waits for the store: ${(error as Error).message}`);
            await storeReady();
            if (stopped) return;
          }
        }
        if (stopped) return;
        relay = created;
        stops.push(created.start());
        const poll = setInterval(() => void created.drain().catch((error) => link.failed(error)), RELAY_POLL_MS);
        poll.unref();
        stops.push(() => clearInterval(poll));
        void created.drain().catch((error) => link.failed(error));
      })();
      for (const stage of stages) {
        for (let partition = 0; partition < settings.pipelinePartitions; partition++) {
          workers.push(new LaneWorker(link, js, n.stream, n.consumer(stage.name, partition), stageHandler(bulwark.sql, bulwark.events, stage), deadLetters, settings, log, storeReady));
        }
      }
      for (const lane of workers) lane.start();
    },
    backlog: (jsm) => pipelineBacklog(jsm, settings, names),
    stop: async () => {
      stopped = true;
      for (const stop of stops) stop();
      // A relay batch cut short by the store closing rolls back and is relayed again by the next worker.
      await Promise.all(workers.map((lane) => lane.stop()));
    },
  };
}

/**
 * Gives the relay a position if it has none: the earliest of the stages' positions. A stage
 * with none yet (actions.due, a stage new in this release) then starts where the relay does,
 * not at the outbox's beginning; on a new deployment no stage has one and the relay starts there.
 */
async function startRelayAtStages(sql: SqlClient, stages: string[]): Promise<void> {
  await sql.query(
    `INSERT INTO consumer_offsets (consumer, tx_id, seq)
     SELECT $1, tx_id, seq FROM consumer_offsets
     WHERE consumer = ANY($2::text[])
     ORDER BY tx_id, seq LIMIT 1
     ON CONFLICT (consumer) DO NOTHING`,
    [PIPELINE_RELAY, stages],
  );
}

