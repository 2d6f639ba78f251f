/**
 * Domain errors. Each carries a kind that the shells (HTTP, CLI) translate into their own
 * terms — a status code, an exit code — so the domain never mentions either.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'unsupported_media'
  | 'too_large'
  | 'unauthenticated'
  | 'forbidden'
  | 'unavailable';

export class BulwarkError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Machine-readable details (field names, line numbers); never media bytes or personal data. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BulwarkError';
  }
}

/** A temporary refusal (overload): the client should retry after the given number of seconds. */
export class RetryLaterError extends BulwarkError {
  constructor(message: string, readonly retryAfterSeconds: number, details?: Record<string, unknown>) {
    super('unavailable', message, { retry_after_seconds: retryAfterSeconds, ...details });
    this.name = 'RetryLaterError';
  }
}

export const invalid = (message: string, details?: Record<string, unknown>) => new BulwarkError('invalid', message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new BulwarkError('not_found', message, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new BulwarkError('conflict', message, details);
