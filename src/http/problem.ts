import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { BulwarkError, type ErrorKind } from '../errors.ts';
import { UnstorableInputError } from '../validation/edge.ts';

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  unavailable: 503,
};

const TITLE_BY_STATUS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const title = TITLE_BY_STATUS[status] ?? 'Error';
  return { type: `https://bulwark.dev/problems/${title.toLowerCase().replace(/ /g, '-')}`, title, status, detail, ...extensions };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** Maps every error the server can meet to a problem document; internal details never leak. */
export function problemFromError(error: unknown, request: FastifyRequest): Problem {
  // Named like a request validation error, so clients read one shape for every refused field.
  if (error instanceof UnstorableInputError) return problem(400, error.message, { errors: [{ location: error.location, message: error.reason }] });
  if (error instanceof BulwarkError) {
    return problem(STATUS_BY_KIND[error.kind], error.message, error.details ? { errors: error.details } : {});
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      location: `${error.validationContext ?? 'body'}${issue.instancePath ?? ''}`,
      message: issue.message ?? 'invalid',
    }));
    return problem(400, issues.map((issue) => `${issue.location}: ${issue.message}`).join('; '), { errors: issues });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return problem(fastifyError.statusCode, fastifyError.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return problem(500, 'an internal error occurred; it has been logged');
}
