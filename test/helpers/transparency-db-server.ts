import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { MAX_STATEMENTS_PER_CALL, MULTI_STATEMENT_PATH, validateStatement } from '../../src/reporting/dsa/tdb-schema.ts';
import { EventDeadlines } from './event-deadlines.ts';

type Failure = { kind: '500' } | { kind: '429'; retryAfterSeconds: number } | { kind: 'timeout' };

/**
 * A stand-in for the DSA Transparency Database's multi-statement endpoint: it checks the
 * bearer token, the path, the batch size and every statement with the database's rules,
 * answers in its formats (201 with uuids, 422 with errors per "statement_<i>", 401), keeps
 * puids unique, and fails on demand.
 */
export class TransparencyDbServer {
  readonly token = 'test-token-0123456789';
  readonly requests: { path: string; authorization: string | undefined; count: number; status: number }[] = [];
  readonly accepted = new Map<string, Record<string, unknown>>();
  private readonly failures: Failure[] = [];
  private readonly deadlines = new EventDeadlines('the stand-in will not answer this call');
  private server: Server | undefined;
  url = '';

  failNext(...failures: Failure[]): void {
    this.failures.push(...failures);
  }

  /** The deadline to hand the client under test: it passes when this stand-in holds a call it will never answer. */
  readonly deadline = this.deadlines.next;

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const record = (count: number, status: number): void => void this.requests.push({ path: request.url ?? '', authorization: request.headers.authorization, count, status });
    if (request.headers.authorization !== `Bearer ${this.token}`) return record(0, 401), send(401, { message: 'Unauthenticated.' });
    if (request.method !== 'POST' || request.url !== MULTI_STATEMENT_PATH) return record(0, 404), send(404, { message: 'Not Found' });
    const failure = this.failures.shift();
    if (failure?.kind === 'timeout') return record(0, 0), this.deadlines.pass(); // never answers; the client's deadline passes now
    if (failure?.kind === '500') return record(0, 500), send(500, { message: 'Server Error' });
    if (failure?.kind === '429') return record(0, 429), send(429, { message: 'Too Many Attempts.' }, { 'retry-after': String(failure.retryAfterSeconds) });
    let body: { statements?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return record(0, 422), send(422, { message: 'The statements field is required.', errors: { statements: ['The statements field is required.'] } });
    }
    const statements = body.statements;
    if (!Array.isArray(statements) || statements.length < 1 || statements.length > MAX_STATEMENTS_PER_CALL) {
      return record(0, 422), send(422, { message: `The statements field must have between 1 and ${MAX_STATEMENTS_PER_CALL} items.`, errors: { statements: [`The statements field must have between 1 and ${MAX_STATEMENTS_PER_CALL} items.`] } });
    }
    const errors: Record<string, Record<string, string[]>> = {};
    statements.forEach((statement, index) => {
      const found = validateStatement(statement);
      const puid = (statement as { puid?: string }).puid;
      if (puid && this.accepted.has(puid)) (found.puid ??= []).push('The identifier given is not unique within this platform.');
      if (Object.keys(found).length > 0) errors[`statement_${index}`] = found;
    });
    if (Object.keys(errors).length > 0) return record(statements.length, 422), send(422, { errors });
    const created = statements.map((statement: Record<string, unknown>) => {
      const out = { ...statement, uuid: randomUUID(), created_at: new Date().toISOString().replace('T', ' ').slice(0, 19) };
      this.accepted.set(statement.puid as string, out);
      return out;
    });
    record(statements.length, 201);
    send(201, { statements: created });
  }
}
