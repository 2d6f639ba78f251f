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
  mode: 'inline' | 'workers';
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
}
