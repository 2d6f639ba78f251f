import { BulwarkError } from '../../errors.ts';
import { defaultSignalRegistry } from '../default-registry.ts';
import { hashContent } from '../hash-content.ts';
import type { ComputedSignal, HashOptions } from '../types.ts';

/** One hashing job as it crosses to a worker thread: plain data only. */
export interface HashJob {
  contentType: string;
  /** The media's bytes (copied to the worker), or a file to read. */
  media: Uint8Array | { path: string };
  options?: HashOptions;
}

/** A job's outcome. Domain errors travel as data: a thrown Error would lose its kind. */
export type HashJobResult = { signals: ComputedSignal[] } | { error: { kind: BulwarkError['kind']; message: string; details?: Record<string, unknown> } };

const registry = defaultSignalRegistry();

/** Runs inside a worker thread (see hash-worker.js). */
export async function runHashJob(job: HashJob): Promise<HashJobResult> {
  const media = job.media instanceof Uint8Array ? Buffer.from(job.media.buffer, job.media.byteOffset, job.media.byteLength) : job.media;
  try {
    return { signals: await hashContent(registry, job.contentType, media, job.options) };
  } catch (error) {
    if (error instanceof BulwarkError) return { error: { kind: error.kind, message: error.message, ...(error.details ? { details: error.details } : {}) } };
    throw error;
  }
}
