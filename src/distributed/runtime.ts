import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Bulwark } from '../app.ts';
import { NatsLink, type LinkStatus } from './connection.ts';
import { DeadLetters } from './dead-letters.ts';
import { localHashing } from './hash-jobs/remote-hashing.ts';
import { type HashJobWorker, startHashJobWorker } from './hash-jobs/job-worker.ts';
import { applyEvents, splitIntoLanes } from './event-handlers.ts';
import { LaneWorker, type WorkerLog } from './lane-worker.ts';
import { outboxWakeups } from './outbox-wakeups.ts';
import { jetstreamPipeline } from './pipeline-runtime.ts';
import type { NatsSettings, Role } from './settings.ts';
import { ensureStreams } from './streams.ts';
import { names } from './subjects.ts';

export interface Distributed {
  readonly link: NatsLink;
  /** Resolves once connected and the streams exist; dead letters need JetStream. */
  readonly deadLetters: Promise<DeadLetters>;
  status(): LinkStatus & { degraded: boolean };
  /**
   * With the pipeline on JetStream: the messages each stage has not acked yet, by stage name
   * (undefined otherwise, and while NATS is away).
   */
  pipelineBacklog(): Promise<Map<string, number> | undefined>;
  close(): Promise<void>;
}

/**
 * What a process does on NATS: every role sends outbox wake-ups and can read dead letters;
 * workers also listen for wake-ups and pull platform events from JetStream. Nothing here
 * blocks start-up: it all begins when the connection first comes up.
 */
export function startDistributed(bulwark: Bulwark, settings: NatsSettings, role: Role, log: WorkerLog): Distributed {
  const n = names(settings);
  const link = new NatsLink(settings.url, `bulwark-${role}-${process.pid}`);
  const worker = role !== 'api';
  const pipeline = jetstreamPipeline(bulwark, link, settings, role, log);
  const stopWakeups = outboxWakeups(bulwark, link, n, worker, async () => {
    await Promise.all([bulwark.wake(), pipeline?.catchUp()]);
  });
  const lanes: LaneWorker[] = [];
  let hashJobs: HashJobWorker | undefined;
  let closed = false;
  const storeReady = async () => {
    for (let waitMs = 250; !closed; waitMs = Math.min(waitMs * 2, 5000)) {
      if (await bulwark.sql.query('SELECT 1').then(() => true, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
  let manager: JetStreamManager | undefined;
  const deadLetters = link.ready.then(async (nc) => {
    const jsm = await jetstreamManager(nc);
    manager = jsm;
    // Every process retries set-up until it succeeds: a server restarted with JetStream still starting answers errors for a while.
    for (;;) {
      try {
        await ensureStreams(jsm, settings);
        await pipeline?.ensure(jsm);
        break;
      } catch (error) {
        link.failed(error);
        if (closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    const js = jetstream(nc);
    const dead = new DeadLetters(js, jsm, settings);
    if (worker && !closed) {
      for (let partition = 0; partition < settings.partitions; partition++) {
        lanes.push(new LaneWorker(link, js, n.eventStream, n.laneConsumer(partition), applyEvents(bulwark.platformEvents), dead, settings, log, storeReady));
      }
      lanes.push(new LaneWorker(link, js, n.eventStream, n.repartitioner, splitIntoLanes(js, settings), dead, settings, log, storeReady));
      for (const lane of lanes) lane.start();
      pipeline?.start(js, dead, storeReady);
      // Workers also hash uploads that api processes send them (BULWARK_HASHING=jetstream), in their own threads.
      startHashJobWorker(link, nc, js, jsm, localHashing(bulwark.hashing), dead, settings, log).then(
        (started) => {
          hashJobs = started;
          if (closed) void started.stop();
        },
        (error) => link.failed(error),
      );
    }
    return dead;
  });
  deadLetters.catch((error) => link.failed(error));
  return {
    link,
    deadLetters,
    status: () => {
      const status = link.status();
      // A worker pulls every lane, the splitter and the hash jobs, and each pipeline stage's partitions.
      const expected = (worker ? settings.partitions + 2 : 0) + (pipeline?.consumers ?? 0);
      return { ...status, degraded: status.state !== 'connected' || status.consumers.length < expected };
    },
    pipelineBacklog: async () => (pipeline && manager && link.connected ? pipeline.backlog(manager) : undefined),
    close: async () => {
      closed = true;
      stopWakeups();
      await pipeline?.stop();
      await Promise.all([...lanes.map((lane) => lane.stop()), hashJobs?.stop()]);
      await link.close();
    },
  };
}
