import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { ErrorKind } from '../../errors.ts';
import type { ComputedSignal, HashOptions } from '../../signals/types.ts';

/**
 * A hash job travels as one JetStream message: what to do in headers, the media's bytes as
 * the body, or (for media larger than a message) the name of an object-store entry.
 */
const H = {
  job: 'Bulwark-Job',
  reply: 'Bulwark-Reply',
  contentType: 'Bulwark-Content-Type',
  options: 'Bulwark-Hash-Options',
  deadline: 'Bulwark-Deadline',
  object: 'Bulwark-Object',
} as const;

export interface HashJobHeader {
  jobId: string;
  /** Core NATS subject the api process listens on for this job's answer. */
  reply: string;
  contentType: string;
  options?: HashOptions;
  /** Epoch ms after which the api no longer waits: a worker drops the job unhashed. */
  deadline: number;
  /** Set when the media is in the object store under this name rather than in the body. */
  object?: string;
}

export function jobHeaders(job: HashJobHeader): MsgHdrs {
  const h = headers();
  h.set(H.job, job.jobId);
  h.set(H.reply, job.reply);
  h.set(H.contentType, job.contentType);
  if (job.options) h.set(H.options, JSON.stringify(job.options));
  h.set(H.deadline, String(job.deadline));
  if (job.object) h.set(H.object, job.object);
  return h;
}

/** The job's header, or undefined when a message on the job subject is not one (it is dropped). */
export function readJobHeader(h: MsgHdrs | undefined): HashJobHeader | undefined {
  const jobId = h?.get(H.job);
  const reply = h?.get(H.reply);
  const contentType = h?.get(H.contentType);
  const deadline = Number(h?.get(H.deadline));
  if (!h || !jobId || !reply || !contentType || !Number.isFinite(deadline)) return undefined;
  const options = h.get(H.options);
  const object = h.get(H.object);
  let parsed: HashOptions | undefined;
  try {
    parsed = options ? (JSON.parse(options) as HashOptions) : undefined;
  } catch {
    return undefined;
  }
  return { jobId, reply, contentType, deadline, ...(parsed ? { options: parsed } : {}), ...(object ? { object } : {}) };
}

/** A worker's answer; `deliveries` says how many times JetStream had handed the job out. */
export type HashAnswer = { jobId: string; deliveries: number } & ({ signals: ComputedSignal[] } | { error: { kind: ErrorKind; message: string; details?: Record<string, unknown> } });

export const encodeAnswer = (answer: HashAnswer): Uint8Array => Buffer.from(JSON.stringify(answer));

export function decodeAnswer(data: Uint8Array): HashAnswer | undefined {
  try {
    const answer = JSON.parse(Buffer.from(data).toString('utf8')) as HashAnswer;
    return typeof answer.jobId === 'string' && ('signals' in answer || 'error' in answer) ? answer : undefined;
  } catch {
    return undefined;
  }
}

/** What a dead letter keeps of a job: its header, never the media. */
export const jobSummary = (job: HashJobHeader): Uint8Array => Buffer.from(JSON.stringify({ job_id: job.jobId, content_type: job.contentType, options: job.options ?? {}, via_object_store: Boolean(job.object) }));
