import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalHttpServer, readBody } from './local-http-server.ts';

/** How the next call to a route fails when told to: an HTTP status (with a Graph error code), or a body that is not JSON. */
export type ThreatExchangeFailure = { status: number; code?: number; retryAfter?: string } | 'malformed';

interface Descriptor {
  id: string;
  owner: string;
  tags: string[];
  status: 'MALICIOUS' | 'NON_MALICIOUS' | 'UNKNOWN';
  reactions: Map<string, Set<string>>;
}

interface Indicator {
  id: string;
  type: string;
  indicator: string;
  lastUpdated: number;
  descriptors: Descriptor[];
}

/** ThreatExchange's reaction types (reference/reacting, as of Jan 2023). */
const REACTION_TYPES = ['SAW_THIS_TOO', 'NON_MALICIOUS', 'DISAGREE_WITH_TAGS', 'HELPFUL', 'NOT_HELPFUL', 'OUTDATED', 'WANT_MORE_INFO', 'INGESTED', 'ALREADY_KNOWN', 'IN_REVIEW', 'REVIEWED'];

/**
 * A stand-in for the parts of ThreatExchange's Graph API an exchange uses: GET
 * /{version}/{privacy_group}/threat_updates/ (access_token, start_time inclusive, limit, fields;
 * updates ordered by last_updated with Graph cursors in paging.next, which carries the token
 * as Graph's does) and POST /{version}/{descriptor_id}/ with reactions=… (from another app
 * only). A changed descriptor moves its indicator to the end of the updates; an indicator whose
 * last descriptor is deleted becomes a should_delete update. Errors are Graph's
 * {error: {message, type, code}}; a bad token is code 190. Time is `now`, Unix seconds.
 */
export class ThreatExchangeServer {
  readonly indicators = new Map<string, Indicator>();
  /** Reactions received, in order. */
  readonly reactions: { descriptorId: string; reactions: string[]; appId: string }[] = [];
  /** Every request: route, status and query without the token. */
  readonly calls: { route: string; status: number; query: Record<string, string> }[] = [];
  now = 1_700_000_000;
  private nextId = 5_000_001;
  private cursorGeneration = 1;
  private readonly failures: { route: string; failure: ThreatExchangeFailure }[] = [];
  url = '';
  private readonly server = new LocalHttpServer((request, response) => void this.handle(request, response));

  constructor(readonly options = { accessToken: '1000000001|tx-test-app-secret-token', privacyGroup: '2000000002', apiVersion: 'v21.0' }) {}

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await this.server.listen()}`;
    return this;
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  get appId(): string {
    return this.options.accessToken.split('|')[0];
  }

  /** A member shares a descriptor of an indicator in the group; returns the descriptor id. */
  addDescriptor(type: string, indicator: string, owner: string, fields: { tags?: string[]; status?: Descriptor['status'] } = {}): string {
    const key = `${type} ${indicator}`;
    const existing = this.indicators.get(key) ?? { id: String(this.nextId++), type, indicator, lastUpdated: this.now, descriptors: [] };
    const descriptor: Descriptor = { id: String(this.nextId++), owner, tags: fields.tags ?? [], status: fields.status ?? 'MALICIOUS', reactions: new Map() };
    existing.descriptors.push(descriptor);
    this.touch(existing);
    return descriptor.id;
  }

  deleteDescriptor(descriptorId: string): void {
    const indicator = this.holder(descriptorId);
    indicator.descriptors = indicator.descriptors.filter((descriptor) => descriptor.id !== descriptorId);
    this.touch(indicator);
  }

  /** Every paging cursor handed out so far stops working, as Graph cursors do after a while. */
  expireCursors(): void {
    this.cursorGeneration++;
  }

  failNext(route: 'threat_updates' | 'reaction', failure: ThreatExchangeFailure): void {
    this.failures.push({ route, failure });
  }

  private touch(indicator: Indicator): void {
    indicator.lastUpdated = this.now;
    this.indicators.delete(`${indicator.type} ${indicator.indicator}`);
    this.indicators.set(`${indicator.type} ${indicator.indicator}`, indicator);
  }

  private holder(descriptorId: string): Indicator {
    const indicator = [...this.indicators.values()].find((candidate) => candidate.descriptors.some((descriptor) => descriptor.id === descriptorId));
    if (!indicator) throw new Error(`no descriptor ${descriptorId}`);
    return indicator;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const params = new URLSearchParams(url.search);
    if (request.method === 'POST' && /^application\/x-www-form-urlencoded/.test(request.headers['content-type'] ?? '')) {
      for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.set(name, value);
    }
    const { apiVersion, privacyGroup } = this.options;
    const updates = url.pathname.replace(/\/$/, '') === `/${apiVersion}/${privacyGroup}/threat_updates`;
    const descriptorId = new RegExp(`^/${apiVersion.replace('.', '\\.')}/(\\d+)/?$`).exec(url.pathname)?.[1];
    const route = updates && request.method === 'GET' ? 'threat_updates' : descriptorId && request.method === 'POST' ? 'reaction' : 'unknown';
    const query = Object.fromEntries([...params].filter(([name]) => name !== 'access_token'));
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ route, status, query });
      response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      response.end(typeof json === 'string' ? json : JSON.stringify(json));
    };
    const graphError = (status: number, code: number, message: string, type = 'OAuthException') => reply(status, { error: { message, type, code, fbtrace_id: 'stand-in' } });
    if (params.get('access_token') !== this.options.accessToken) return graphError(400, 190, 'Invalid OAuth access token - Cannot parse access token');
    if (route === 'unknown') return graphError(400, 100, 'Unsupported request: the object does not exist or does not support this operation', 'GraphMethodException');
    const failed = this.failures.findIndex((candidate) => candidate.route === route);
    if (failed >= 0) {
      const { failure } = this.failures.splice(failed, 1)[0];
      if (failure === 'malformed') return reply(200, '{"data": [{"indicator": ');
      return reply(failure.status, { error: { message: 'Please retry your request later.', type: 'OAuthException', code: failure.code ?? 2 } }, failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
    }
    if (route === 'threat_updates') return this.threatUpdates(params, reply, graphError);
    return this.react(descriptorId!, params, reply, graphError);
  }

  private threatUpdates(params: URLSearchParams, reply: (status: number, json: unknown) => void, graphError: (status: number, code: number, message: string, type?: string) => void): void {
    const limit = Number(params.get('limit') ?? 25);
    const start = Number(params.get('start_time') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isInteger(start)) return graphError(400, 100, 'Invalid parameter', 'GraphMethodException');
    const fields = topLevelFields(params.get('fields') ?? 'id');
    const after = params.get('after') ? Buffer.from(params.get('after')!, 'base64url').toString('utf8').split(':').map(Number) : undefined;
    if (after && (after.length !== 3 || after[0] !== this.cursorGeneration)) return graphError(400, 100, 'Invalid parameter: the cursor has expired', 'GraphMethodException');
    after?.shift();
    const ordered = [...this.indicators.values()]
      .filter((indicator) => indicator.lastUpdated >= start)
      .sort((a, b) => a.lastUpdated - b.lastUpdated || Number(a.id) - Number(b.id))
      .filter((indicator) => !after || indicator.lastUpdated > after[0] || (indicator.lastUpdated === after[0] && Number(indicator.id) > after[1]));
    const page = ordered.slice(0, limit);
    const data = page.map((indicator) => this.render(indicator, fields));
    const answer: { data: unknown[]; paging?: unknown } = { data };
    if (ordered.length > limit) {
      const last = page.at(-1)!;
      const cursor = Buffer.from(`${this.cursorGeneration}:${last.lastUpdated}:${last.id}`).toString('base64url');
      const next = new URL(`${this.url}/${this.options.apiVersion}/${this.options.privacyGroup}/threat_updates/`);
      for (const [name, value] of params) if (name !== 'after') next.searchParams.set(name, value);
      next.searchParams.set('after', cursor);
      answer.paging = { cursors: { after: cursor }, next: next.href };
    }
    reply(200, answer);
  }

  private render(indicator: Indicator, fields: Set<string>): Record<string, unknown> {
    const full: Record<string, unknown> = {
      indicator: indicator.indicator,
      type: indicator.type,
      last_updated: indicator.lastUpdated,
      should_delete: indicator.descriptors.length === 0,
      descriptors: {
        data: indicator.descriptors.map((descriptor) => ({
          id: descriptor.id,
          owner: { id: descriptor.owner },
          status: descriptor.status,
          tags: { data: descriptor.tags.map((text, index) => ({ id: `${descriptor.id}${index}`, text })) },
          reactions: [...descriptor.reactions].map(([key, apps]) => ({ key, value: [...apps].join(',') })),
        })),
      },
    };
    return { id: indicator.id, ...Object.fromEntries(Object.entries(full).filter(([name]) => fields.has(name))) };
  }

  private react(descriptorId: string, params: URLSearchParams, reply: (status: number, json: unknown) => void, graphError: (status: number, code: number, message: string, type?: string) => void): void {
    const reactions = (params.get('reactions') ?? '').split(',').filter(Boolean);
    if (reactions.length === 0 || reactions.some((reaction) => !REACTION_TYPES.includes(reaction))) return graphError(400, 100, 'Invalid parameter: reactions', 'GraphMethodException');
    let indicator: Indicator;
    try {
      indicator = this.holder(descriptorId);
    } catch {
      return graphError(400, 100, 'Unsupported post request: the object does not exist', 'GraphMethodException');
    }
    const descriptor = indicator.descriptors.find((candidate) => candidate.id === descriptorId)!;
    if (descriptor.owner === this.appId) return graphError(400, 100, 'An app cannot react to its own descriptor', 'GraphMethodException');
    for (const reaction of reactions) descriptor.reactions.set(reaction, (descriptor.reactions.get(reaction) ?? new Set()).add(this.appId));
    this.reactions.push({ descriptorId, reactions, appId: this.appId });
    this.touch(indicator);
    reply(200, { success: true });
  }
}

/** The top-level names of a Graph `fields` list: "a,b{c,d},e" → a, b, e. */
function topLevelFields(fields: string): Set<string> {
  const names = new Set<string>();
  let depth = 0;
  let current = '';
  for (const char of `${fields},`) {
    if (char === '{') depth++;
    if (char === '}') depth--;
    if (char === ',' && depth === 0) {
      names.add(current.replace(/\{.*$/, '').trim());
      current = '';
    } else current += char;
  }
  return names;
}
