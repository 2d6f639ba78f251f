import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { BulwarkError, RetryLaterError } from '../../errors.ts';
import type { ComputedSignal, HashOptions, MediaInput } from '../types.ts';
import type { HashJob, HashJobResult } from './hash-worker.ts';
import type { HashingStats, MediaHashing } from './media-hashing.ts';

export interface WorkerPoolOptions {
  /** Hashing threads; default one per core. */
  workers?: number;
  /** Jobs that may wait for a thread; beyond it new jobs are refused as busy. Default 4 per worker. */
  maxQueue?: number;
  /** A job running longer is abandoned and its worker replaced: a safety net, not a schedule. Default 10 minutes. */
  maxJobMs?: number;
  /** Seconds a refused client is told to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** The worker module (default hash-worker.js); tests substitute one that misbehaves. */
  workerModule?: URL;
}

/** The hashing threads are busy and their queue is full: the client should retry later. */
export class HashingBusyError extends RetryLaterError {
  constructor(retryAfterSeconds: number) {
    super('every hashing worker is busy and the queue is full; retry later', retryAfterSeconds);
    this.name = 'HashingBusyError';
  }
}

/**
 * Hashes in a pool of worker threads (piscina) with a bounded queue. Memory is bounded:
 * each worker decodes one job at a time, a job's pixels are capped by HashOptions.maxPixels,
 * and waiting jobs hold only their compressed bytes (docs/hashing.md has the figures).
 * Threads start on the first job and stop after a minute idle, so an instance that never
 * hashes media never pays for them.
 */
export class WorkerPoolHashing implements MediaHashing {
  private readonly pool: Piscina<HashJob, HashJobResult>;
  private readonly workers: number;
  private readonly maxQueue: number;
  private readonly maxJobMs: number;
  private readonly retryAfterSeconds: number;
  private refused = 0;
  private crashed = 0;
  /** Jobs handed to the pool and not yet answered, running or queued. */
  private inFlight = 0;

  constructor(options: WorkerPoolOptions = {}) {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
    const maxQueue = options.maxQueue ?? 4 * workers;
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be a non-negative integer, got ${maxQueue}`);
    this.workers = workers;
    this.maxQueue = maxQueue;
    this.maxJobMs = options.maxJobMs ?? 600_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.pool = new Piscina({
      filename: (options.workerModule ?? new URL('./hash-worker.js', import.meta.url)).href,
      minThreads: 0,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // Workers inherit no --import flags: hash-worker.js loads the TypeScript itself.
      execArgv: [],
    });
    this.pool.on('error', () => {
      // A worker that dies between jobs is replaced by piscina; nothing was lost.
      this.crashed++;
    });
  }

  async hash(contentType: string, media: MediaInput, options?: HashOptions): Promise<ComputedSignal[]> {
    // Admission is counted here, not left to piscina's queue, whose limit also counts
    // threads still starting: a job beyond workers + maxQueue is refused at once.
    if (this.inFlight >= this.workers + this.maxQueue) {
      this.refused++;
      throw new HashingBusyError(this.retryAfterSeconds);
    }
    // The bytes are copied once into a buffer of their own, which is then moved to the worker
    // rather than copied again (a Buffer may be a view into a larger shared pool).
    const bytes = Buffer.isBuffer(media) ? new Uint8Array(media) : undefined;
    const job: HashJob = { contentType, media: bytes ?? media, ...(options ? { options } : {}) };
    let result: HashJobResult;
    this.inFlight++;
    try {
      result = await this.pool.run(job, { signal: AbortSignal.timeout(this.maxJobMs), ...(bytes ? { transferList: [bytes.buffer] } : {}) });
    } catch (error) {
      throw this.failure(error);
    } finally {
      this.inFlight--;
    }
    if ('error' in result) throw new BulwarkError(result.error.kind, result.error.message, result.error.details);
    return result.signals;
  }

  /**
   * Why a job failed outside the hashers' own errors: it ran too long, or its worker was lost
   * (a native crash in a decoder, or the thread's memory limit), which the media caused and
   * which is answered as such. Anything else is a bug in Bulwark and stays an error as it is.
   */
  private failure(error: unknown): unknown {
    if (!(error instanceof Error)) return error;
    if (error.name === 'AbortError' || error.name === 'TimeoutError') {
      return new BulwarkError('too_large', `hashing took longer than ${Math.round(this.maxJobMs / 1000)} s and was stopped; the media is too large or too complex`);
    }
    const workerLost = /^worker exited with code/.test(error.message) || (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    if (!workerLost) return error;
    this.crashed++;
    return new BulwarkError('invalid', 'the media could not be hashed: the hashing worker stopped while decoding it');
  }

  stats(): HashingStats {
    return {
      mode: 'workers',
      workers: this.workers,
      running: Math.min(this.inFlight, this.workers),
      queued: Math.max(0, this.inFlight - this.workers),
      maxQueue: this.maxQueue,
      refused: this.refused,
      crashed: this.crashed,
    };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
