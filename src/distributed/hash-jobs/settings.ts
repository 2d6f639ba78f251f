import { type NatsSettings, positive } from '../settings.ts';
import { DEFAULT_MEDIA_MAX_BYTES } from './streams.ts';

/** What an api process does when no hashing worker can take a job: hash it itself, or refuse with 503. */
export type HashingFallback = 'local' | 'refuse';

export interface RemoteHashingSettings {
  nats: NatsSettings;
  /** Jobs this process may have waiting on workers at once; past it uploads are refused as busy (503). */
  maxInFlight: number;
  /**
   * How long a job may wait for its answer before this process gives up on the workers and
   * falls back. It covers queueing, hashing and any redelivery after a worker died, so it is
   * larger than the NATS ack wait.
   */
  answerTimeoutMs: number;
  fallback: HashingFallback;
  /** Seconds a refused client is told to wait (Retry-After). */
  retryAfterSeconds: number;
  /**
   * Most bytes of media the NATS server holds (in memory) for jobs larger than a message, across
   * all api processes; past it a put fails and the fallback applies, so large uploads cannot
   * exhaust the server's memory and take the event streams down with it.
   */
  mediaMaxBytes: number;
}

export const DEFAULT_REMOTE_HASHING = { maxInFlight: 64, answerTimeoutMs: 120_000, fallback: 'local', retryAfterSeconds: 2, mediaMaxBytes: DEFAULT_MEDIA_MAX_BYTES } as const;

/**
 * BULWARK_HASHING=local (default) hashes uploads in this process's threads; `jetstream` sends
 * them to worker processes over NATS (BULWARK_HASHING_FALLBACK, _MAX_IN_FLIGHT, _TIMEOUT_MS, _MEDIA_MAX_BYTES).
 * Undefined for local hashing; an error when jetstream is asked for without NATS.
 */
export function remoteHashingFromEnv(nats: NatsSettings | undefined, env: NodeJS.ProcessEnv = process.env): RemoteHashingSettings | undefined {
  const mode = env.BULWARK_HASHING || 'local';
  if (mode !== 'local' && mode !== 'jetstream') throw new Error(`BULWARK_HASHING must be local or jetstream, got ${JSON.stringify(mode)}`);
  if (mode === 'local') return undefined;
  if (!nats) throw new Error('BULWARK_HASHING=jetstream needs NATS: set --nats-url or BULWARK_NATS_URL');
  const fallback = env.BULWARK_HASHING_FALLBACK || DEFAULT_REMOTE_HASHING.fallback;
  if (fallback !== 'local' && fallback !== 'refuse') throw new Error(`BULWARK_HASHING_FALLBACK must be local or refuse, got ${JSON.stringify(fallback)}`);
  return {
    nats,
    fallback,
    maxInFlight: positive(env, 'BULWARK_HASHING_MAX_IN_FLIGHT', DEFAULT_REMOTE_HASHING.maxInFlight),
    answerTimeoutMs: positive(env, 'BULWARK_HASHING_TIMEOUT_MS', DEFAULT_REMOTE_HASHING.answerTimeoutMs),
    retryAfterSeconds: DEFAULT_REMOTE_HASHING.retryAfterSeconds,
    mediaMaxBytes: positive(env, 'BULWARK_HASHING_MEDIA_MAX_BYTES', DEFAULT_REMOTE_HASHING.mediaMaxBytes),
  };
}
