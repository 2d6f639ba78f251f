import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalHttpServer, readBody } from './local-http-server.ts';

/** How the next call to an endpoint fails when told to. */
export type StopNciiFailure = { status: 429 | 500 | 503; retryAfter?: string } | 'malformed';

export interface StopNciiRecord {
  lastModtimestamp: number;
  signalType: string;
  hashValue: string;
  hashStatus: string;
  caseNumbers: Record<string, string>;
  CSPFeedbacks: { feedbackValue: string; tags: string[]; source: string }[];
}

const FEEDBACK_VALUES = ['None', 'QualityUnknown', 'PendingReview', 'Blocked', 'NotBlocked', 'Withdrawn', 'Deleted'];

/**
 * A stand-in for the StopNCII.org hash API as python-threatexchange's client speaks it
 * (clients/stopncii/api.py): GET /v1/FetchHashes and POST /v1/SubmitFeedback, each checking
 * its own x-functions-key and the Ocp-Apim-Subscription-Key. A fetch "set" is every record
 * modified from startTimestamp up to the server's time when the set began; its pages are
 * handed out by an opaque nextPageToken, and the last page names nextSetTimestamp, where the
 * next set starts. Time is the server's own clock (`now`, Unix seconds) so tests move it.
 */
export class StopNciiServer {
  readonly records = new Map<string, StopNciiRecord>();
  /** Feedback received, in order. */
  readonly feedback: { hashValue: string; feedbackValue: string; tags: string[] }[] = [];
  /** Every request: endpoint, answer status and the query (never the keys). */
  readonly calls: { endpoint: string; status: number; query: Record<string, string> }[] = [];
  /** The server's clock in Unix seconds. */
  now = 1_700_000_000;
  private readonly failures: { endpoint: string; failure: StopNciiFailure }[] = [];
  private tokenGeneration = 1;
  url = '';
  private readonly server = new LocalHttpServer((request, response) => void this.handle(request, response));

  constructor(readonly keys = { fetch: 'fetch-function-key-test', feedback: 'feedback-function-key-test', subscription: 'subscription-key-test' }) {}

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await this.server.listen()}/v1`;
    return this;
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Adds or replaces a record, modified now; any hashValue is stored as given (tests plant bad ones). */
  put(signalType: string, hashValue: string, fields: Partial<Omit<StopNciiRecord, 'signalType' | 'hashValue'>> = {}): StopNciiRecord {
    const record: StopNciiRecord = { lastModtimestamp: this.now, signalType, hashValue, hashStatus: 'Active', caseNumbers: { [`case-${this.records.size + 1}`]: 'Active' }, CSPFeedbacks: [], ...fields };
    this.records.set(`${signalType} ${hashValue}`, record);
    return record;
  }

  /** The person withdrew their case (or StopNCII deleted the hash): the record changes status, modified now. */
  withdraw(signalType: string, hashValue: string, status: 'Withdrawn' | 'Deleted' = 'Withdrawn'): void {
    const record = this.records.get(`${signalType} ${hashValue}`);
    if (!record) throw new Error(`no record ${signalType} ${hashValue}`);
    record.hashStatus = status;
    record.caseNumbers = Object.fromEntries(Object.keys(record.caseNumbers).map((id) => [id, status]));
    record.lastModtimestamp = this.now;
  }

  /** Every page token handed out so far stops working. */
  expireTokens(): void {
    this.tokenGeneration++;
  }

  failNext(endpoint: 'FetchHashes' | 'SubmitFeedback', failure: StopNciiFailure): void {
    this.failures.push({ endpoint, failure });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const endpoint = url.pathname.replace(/^\/v1\//, '');
    const query = Object.fromEntries(url.searchParams);
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ endpoint, status, query });
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(typeof json === 'string' ? json : JSON.stringify(json));
    };
    const route = endpoint === 'FetchHashes' ? { method: 'GET', key: this.keys.fetch } : endpoint === 'SubmitFeedback' ? { method: 'POST', key: this.keys.feedback } : undefined;
    if (!route || !url.pathname.startsWith('/v1/')) return reply(404, { statusCode: 404, message: 'Resource not found' });
    // Azure API Management checks the subscription key first, then the function checks its own key.
    if (request.headers['ocp-apim-subscription-key'] !== this.keys.subscription) return reply(401, { statusCode: 401, message: 'Access denied due to invalid subscription key.' });
    if (request.headers['x-functions-key'] !== route.key) return reply(401, { statusCode: 401, message: 'Unauthorized' });
    if (request.method !== route.method) return reply(405, { statusCode: 405, message: 'Method not allowed' });
    const failed = this.failures.findIndex((candidate) => candidate.endpoint === endpoint);
    if (failed >= 0) {
      const { failure } = this.failures.splice(failed, 1)[0];
      if (failure === 'malformed') return reply(200, '{"count": 2, "hashRecords": [{"signalType": "ImagePDQ", ');
      return reply(failure.status, { statusCode: failure.status, message: 'Try again later' }, failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
    }
    if (endpoint === 'FetchHashes') return this.fetchHashes(query, reply);
    return this.submitFeedback(body, reply);
  }

  private fetchHashes(query: Record<string, string>, reply: (status: number, json: unknown) => void): void {
    const start = Number(query.startTimestamp);
    const pageSize = Number(query.pageSize ?? 800);
    if (!Number.isInteger(start) || start < 0) return reply(400, { statusCode: 400, message: 'startTimestamp must be a Unix time' });
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 5000) return reply(400, { statusCode: 400, message: 'pageSize out of range' });
    let cursor: PageCursor = { start, until: this.now, offset: 0, generation: this.tokenGeneration };
    if (query.nextPageToken) {
      const decoded = decodeToken(query.nextPageToken);
      if (!decoded || decoded.start !== start || decoded.generation !== this.tokenGeneration) return reply(400, { statusCode: 400, message: 'Invalid or expired nextPageToken' });
      cursor = decoded;
    }
    const set = [...this.records.values()]
      .filter((record) => record.lastModtimestamp >= cursor.start && record.lastModtimestamp < cursor.until)
      .sort((a, b) => a.lastModtimestamp - b.lastModtimestamp || `${a.signalType} ${a.hashValue}`.localeCompare(`${b.signalType} ${b.hashValue}`));
    const page = set.slice(cursor.offset, cursor.offset + pageSize);
    const hasMoreRecords = cursor.offset + page.length < set.length;
    reply(200, {
      count: page.length,
      nextPageToken: hasMoreRecords ? encodeToken({ start: cursor.start, until: cursor.until, offset: cursor.offset + page.length, generation: this.tokenGeneration }) : null,
      nextSetTimestamp: cursor.until,
      hasMoreRecords,
      hashRecords: page,
    });
  }

  private submitFeedback(body: Buffer, reply: (status: number, json: unknown) => void): void {
    let payload: { count?: unknown; hashFeedbacks?: unknown };
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(400, { statusCode: 400, message: 'Body is not JSON' });
    }
    const feedbacks = payload.hashFeedbacks;
    if (!Array.isArray(feedbacks) || payload.count !== feedbacks.length) return reply(400, { statusCode: 400, message: 'count must equal the number of hashFeedbacks' });
    for (const entry of feedbacks) {
      const { hashValue, feedbackValue, tags } = entry ?? {};
      if (typeof hashValue !== 'string' || !FEEDBACK_VALUES.includes(feedbackValue) || !Array.isArray(tags)) return reply(400, { statusCode: 400, message: 'Each feedback needs hashValue, feedbackValue and tags' });
    }
    for (const { hashValue, feedbackValue, tags } of feedbacks) this.feedback.push({ hashValue, feedbackValue, tags });
    reply(200, { count: feedbacks.length });
  }
}

interface PageCursor {
  start: number;
  until: number;
  offset: number;
  generation: number;
}

function encodeToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeToken(token: string): PageCursor | undefined {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return [cursor.start, cursor.until, cursor.offset, cursor.generation].every(Number.isInteger) ? cursor : undefined;
  } catch {
    return undefined;
  }
}
