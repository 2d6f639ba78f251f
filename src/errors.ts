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

export const invalid = (message: string, details?: Record<string, unknown>) => new BulwarkError('invalid', message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new BulwarkError('not_found', message, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new BulwarkError('conflict', message, details);
