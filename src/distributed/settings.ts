/** Which parts of Bulwark a process runs: the HTTP API, the pipeline's background work, or both. */
export type Role = 'api' | 'worker' | 'all';

export const ROLES: readonly Role[] = ['api', 'worker', 'all'];

export interface NatsSettings {
  /** Server list as the client takes it: "nats://host:4222", comma-separated for a cluster. */
  url: string;
  /**
   * Prefix of every subject and stream name, so several Bulwark deployments (or tests) can
   * share one NATS account without reading each other's messages.
   */
  namespace: string;
  /**
   * How many ordered lanes platform events are split into by account. Publishers and workers
   * must agree on it; changing it while messages wait reorders an account across the change.
   */
  partitions: number;
  /** How long a worker may hold a message before JetStream gives it to another worker. */
  ackWaitMs: number;
  /** Deliveries of one message before it is moved to the dead letters. */
  maxDeliver: number;
  /**
   * How the pipeline's own events reach their stages: JetStream work queues shared by every
   * worker (src/distributed/pipeline-stages.ts), or each stage reading the outbox itself.
   */
  pipeline: PipelineTransport;
  /**
   * Partitions of each pipeline stage's work queue: how many of a stage's transactions may run
   * at once across all workers. More spread a stage over more machines; fewer make larger
   * batches (one message per stage and partition per relayed outbox batch). Change it only
   * while no pipeline message waits: partitions no longer pulled would keep theirs.
   */
  pipelinePartitions: number;
}

export type PipelineTransport = 'jetstream' | 'outbox';

export const DEFAULT_NATS: Omit<NatsSettings, 'url'> = { namespace: 'bulwark', partitions: 8, ackWaitMs: 30_000, maxDeliver: 5, pipeline: 'jetstream', pipelinePartitions: 4 };

/** A whole number of 1 or more from the environment, or `fallback` when unset; anything else stops start-up. */
export function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number of 1 or more, got ${JSON.stringify(raw)}`);
  return value;
}

/** NATS settings from a flag or BULWARK_NATS_URL and the BULWARK_NATS_* tunables; undefined when no URL is given. */
export function natsSettingsFromEnv(url: string | undefined, env: NodeJS.ProcessEnv = process.env): NatsSettings | undefined {
  const server = url ?? env.BULWARK_NATS_URL;
  if (!server) return undefined;
  const namespace = env.BULWARK_NATS_NAMESPACE ?? DEFAULT_NATS.namespace;
  if (!/^[a-z0-9_-]{1,32}$/.test(namespace)) throw new Error(`BULWARK_NATS_NAMESPACE must be 1-32 of a-z 0-9 _ -, got ${JSON.stringify(namespace)}`);
  const pipeline = env.BULWARK_PIPELINE_TRANSPORT || DEFAULT_NATS.pipeline;
  if (pipeline !== 'jetstream' && pipeline !== 'outbox') throw new Error(`BULWARK_PIPELINE_TRANSPORT must be jetstream or outbox, got ${JSON.stringify(pipeline)}`);
  return {
    url: server,
    pipeline,
    pipelinePartitions: positive(env, 'BULWARK_PIPELINE_PARTITIONS', DEFAULT_NATS.pipelinePartitions),
    namespace,
    partitions: positive(env, 'BULWARK_EVENT_PARTITIONS', DEFAULT_NATS.partitions),
    ackWaitMs: positive(env, 'BULWARK_NATS_ACK_WAIT_MS', DEFAULT_NATS.ackWaitMs),
    maxDeliver: positive(env, 'BULWARK_NATS_MAX_DELIVER', DEFAULT_NATS.maxDeliver),
  };
}
