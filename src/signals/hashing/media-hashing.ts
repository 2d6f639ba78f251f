import type { ComputedSignal, HashOptions, MediaInput } from '../types.ts';

/**
 * Where media are hashed. Decoding an image or a video is CPU-bound and can take seconds
 * for large or hostile input, so the server hashes in worker threads (worker-pool.ts) and
 * never on the event loop; one-off commands and tests may hash inline (inline.ts).
 */
export interface MediaHashing {
  hash(contentType: string, media: MediaInput, options?: HashOptions): Promise<ComputedSignal[]>;
  /** What is running and waiting, for /healthz and metrics. */
  stats(): HashingStats;
  close(): Promise<void>;
}

export interface HashingStats {
  /** 'jetstream': jobs go to hashing workers over NATS; the other figures are then this process's own pool, used as fallback. */
  mode: 'inline' | 'workers' | 'jetstream';
  /** Threads that hash (0 when inline). */
  workers: number;
  /** Jobs being hashed now. */
  running: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Most jobs that may wait; past it new jobs are refused as busy. */
  maxQueue: number;
  /** Jobs refused because the queue was full, since start. */
  refused: number;
  /** Workers that died (crashed or ran out of memory) and were replaced, since start. */
  crashed: number;
  /** Remote hashing (src/distributed/hash-jobs/), when configured. */
  jetstream?: RemoteHashingStats;
}

export interface RemoteHashingStats {
  /** The NATS link's state. */
  link: string;
  /** The job queue and answer inbox are set up. */
  ready: boolean;
  /** Jobs sent and waiting for their answer. */
  inFlight: number;
  maxInFlight: number;
  fallback: 'local' | 'refuse';
  /** Jobs answered by a worker, since start. */
  answered: number;
  /** Of those, answered after JetStream handed the job out again (a worker died or stalled). */
  redelivered: number;
  /** Answers ignored because the job was already answered or given up. */
  duplicates: number;
  /** Jobs hashed locally or refused because no worker could take them. */
  fallbacks: number;
  /** Jobs refused because maxInFlight were waiting. */
  refused: number;
  /** Jobs whose media went through the object store (larger than a NATS message). */
  viaObjectStore: number;
}
