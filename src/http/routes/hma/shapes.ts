import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Bank } from '../../../banks/banks.ts';
import { BulwarkError, type ErrorKind, invalid } from '../../../errors.ts';
import { UnstorableInputError } from '../../../validation/edge.ts';
import { bankRatio } from './bank-controls.ts';

/**
 * Shapes shared by the HMA-compatible routes: HMA 2.x's error body, its bank names and bank
 * config, and its multipart uploads. HMA's own answers are the reference (OpenMediaMatch's
 * blueprints and schemas); where Bulwark differs, docs/hma.md says how.
 */

/** HMA's error body (schemas/shared.py ErrorResponse): details is optional. */
export interface HmaError {
  message: string;
  details?: string;
}

// HMA answers 403 where a bank name is taken (bank_create_impl); the rest as Bulwark does.
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 403,
  too_large: 413,
  unsupported_media: 400,
  unavailable: 503,
};

export function hmaErrorFromError(error: unknown, request: FastifyRequest): { status: number; body: HmaError } {
  if (error instanceof UnstorableInputError) return { status: 400, body: { message: error.message } };
  if (error instanceof BulwarkError) {
    const details = error.details && error.kind !== 'unauthenticated' ? JSON.stringify(error.details) : undefined;
    return { status: STATUS_BY_KIND[error.kind], body: { message: error.message, ...(details ? { details } : {}) } };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => `${error.validationContext ?? 'body'}${issue.instancePath ?? ''}: ${issue.message ?? 'invalid'}`);
    return { status: 400, body: { message: issues[0], ...(issues.length > 1 ? { details: issues.join('; ') } : {}) } };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, body: { message: fastifyError.message } };
  }
  request.log.error({ err: error }, 'unhandled error');
  return { status: 500, body: { message: 'an internal error occurred; it has been logged' } };
}

/** Makes every error of the routes registered in this scope (authentication included) answer in HMA's shape. */
export function answerInHmaShape(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply: FastifyReply) => {
    const { status, body } = hmaErrorFromError(error, request);
    return reply.code(status).type('application/json').send(body);
  });
}

export const hmaAbort = (message: string) => invalid(message);

const HMA_BANK_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * An HMA bank name as a Bulwark one: HMA's names are UPPER_WITH_UNDERSCORE, Bulwark's lower
 * case, so the mapping is the case alone and goes both ways. A new name must also be one HMA
 * accepts; an existing Bulwark bank whose name HMA could not write (a "-", a leading digit)
 * is still reached by its upper-cased name.
 */
export function bulwarkBankName(hmaName: string, options: { creating?: boolean } = {}): string {
  if (options.creating && !HMA_BANK_NAME.test(hmaName)) throw invalid('Bank names must be UPPER_WITH_UNDERSCORE');
  const name = hmaName.toLowerCase();
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name) || hmaName !== hmaName.toUpperCase()) {
    throw invalid(`bank name ${JSON.stringify(hmaName)} cannot be a Bulwark bank name: Bulwark's start with a letter or digit and have at most 63 characters`);
  }
  return name;
}

export const hmaBankName = (bulwarkName: string): string => bulwarkName.toUpperCase();

/** HMA's BankConfig. */
export const bankConfigJson = (bank: Bank) => ({ name: hmaBankName(bank.name), matching_enabled_ratio: bankRatio(bank) });

/** HMA's `distance`: the similarity's pretty_str, "-" for types that match exactly. */
export const distanceString = (matching: 'exact' | 'distance', distance: number): string => (matching === 'exact' ? '-' : String(distance));

/** HMA reads flags as "true"/"false" (str_to_bool also takes 1 and 0). */
export function flag(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw invalid(`invalid boolean parameter ${name} - prefer true/false`);
}

export interface MultipartBody {
  files: { field: string; data: Buffer }[];
  fields: Map<string, string>;
}

/** Parses a multipart/form-data body (buffered under the server's body limit). */
export async function parseMultipart(body: Buffer, contentType: string): Promise<MultipartBody> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalid('malformed multipart/form-data body');
  }
  const parsed: MultipartBody = { files: [], fields: new Map() };
  for (const [field, value] of form) {
    if (typeof value === 'string') parsed.fields.set(field, value);
    else parsed.files.push({ field, data: Buffer.from(await value.arrayBuffer()) });
  }
  return parsed;
}

/** Takes multipart bodies as buffers in this scope, so routes can read files and fields. */
export function acceptMultipart(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
}

export async function multipartOf(request: FastifyRequest): Promise<MultipartBody | undefined> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data') || !Buffer.isBuffer(request.body)) return undefined;
  return parseMultipart(request.body, contentType);
}

/** HMA's note: a string of at most 255 characters; empty clears it. */
export function checkNote(note: unknown): string | null {
  if (note === undefined || note === null || note === '') return null;
  if (typeof note !== 'string') throw invalid('note should be a string');
  if (note.length > 255) throw invalid('note must be at most 255 characters');
  return note;
}

/** HMA's BankedContentMetadata: content_id and content_uri strings, json an object; nothing else. */
export function checkMetadata(raw: unknown): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('metadata should be a json object');
  const { collab: _collab, ...rest } = raw as Record<string, unknown>;
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'content_id' || key === 'content_uri') {
      if (typeof value !== 'string') throw invalid(`Invalid metadata: ${key} should be a string`);
    } else if (key === 'json') {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw invalid('Invalid metadata: json should be an object');
    } else throw invalid(`Invalid metadata: ${key}: Extra inputs are not permitted`);
    if (value !== null) checked[key] = value;
  }
  return Object.keys(checked).length > 0 ? checked : null;
}
