import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeXml, parseXml, XmlParseError, type XmlElement } from '../../src/reporting/ncmec/xml.ts';
import { LocalHttpServer, readBody } from './local-http-server.ts';

const NAMESPACE = 'https://hashsharing.ncmec.org/hashsharing/v2';
/** Fingerprint types of the v2 API (python-threatexchange's FingerprintType); the large ones are never inlined. */
const FINGERPRINT_TYPES = ['MD5', 'SHA1', 'PDNA', 'PDQ', 'NETCLEAN', 'VIDENTIFIER', 'TMK_PDQF', 'SSVH_PDNA', 'SSVH_SAFER_HASH'];
const LARGE_TYPES = new Set(['VIDENTIFIER', 'TMK_PDQF', 'SSVH_PDNA', 'SSVH_SAFER_HASH']);
const PAGING_LINK_TTL_MS = 12 * 60 * 60 * 1000;

export interface HashSharingEntry {
  member: string;
  id: string;
  kind: 'image' | 'video';
  classification?: string;
  /** NCMEC fingerprint type (MD5, PDQ, SHA1…) → value. */
  fingerprints: Record<string, string>;
  timestamp: Date;
  deleted: boolean;
}

export interface RecordedFeedback {
  member: string;
  entry: string;
  type: string;
  vote: 'affirmative' | 'negative';
  reasonIds: string[];
}

/** How the next entries request fails when told to: 429 (with Retry-After), 500, or a page cut off mid-document. */
export type HashFailure = { status: 429; retryAfterSeconds: number } | { status: 500 } | { status: 'malformed' };

/**
 * A stand-in for NCMEC's Hash Sharing API v2, as its published documentation and
 * python-threatexchange's client describe it: Basic auth; GET v2/entries?from=&to= answering
 * <queryResult> with <images>/<videos> (entries and deleted entries) in an order that is not
 * time order, paged by <paging><next> links (start, size, max) that it honours for 12 hours of
 * its clock; GET v2/feedback/{TYPE}/reasons; PUT v2/entries/{esp}/{entry}/{TYPE}/feedback,
 * validated and recorded; GET v2/status and v2/members. `from` is inclusive and `to`
 * exclusive here (the documentation found does not say), and dates must be UTC.
 */
export class NcmecHashServer {
  readonly entries = new Map<string, HashSharingEntry>();
  readonly feedback: RecordedFeedback[] = [];
  /** Every request: method, path with query, and the status answered. */
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** Negative feedback reasons by fingerprint type (placeholder wording). */
  readonly reasons = new Map<string, { guid: string; name: string }[]>(
    FINGERPRINT_TYPES.map((type) => [type, [
      { guid: guidFor(`${type}-not-matching`), name: 'Content does not match the classification' },
      { guid: guidFor(`${type}-quality`), name: 'Fingerprint of poor quality' },
    ]]),
  );
  private readonly failures: HashFailure[] = [];
  /** Result lists behind issued paging links, with when they were issued. */
  private readonly cursors = new Map<string, { keys: string[]; issuedAt: number }>();
  private readonly server = new LocalHttpServer((request, response) => void this.handle(request, response));
  url = '';

  constructor(
    readonly options: { username?: string; password?: string; pageSize?: number; now?: () => Date; memberNames?: Record<string, string> } = {},
  ) {}

  get username(): string {
    return this.options.username ?? 'hash-test-user';
  }

  get password(): string {
    return this.options.password ?? 'hash-test-password';
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async start(port = 0): Promise<this> {
    this.url = `http://127.0.0.1:${await this.server.listen(port)}/hashsharing`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  /** Adds or updates an entry (its timestamp becomes `at`); it keeps its place in the result order. */
  put(entry: { member: string; id: string; kind?: 'image' | 'video'; classification?: string; fingerprints: Record<string, string>; at: Date }): void {
    const { at, ...rest } = entry;
    this.entries.set(`${entry.member}-${entry.id}`, { kind: 'image', ...rest, timestamp: at, deleted: false });
  }

  /** The member retracts an entry: it becomes a deleted entry updated at `at`. */
  retract(member: string, id: string, at: Date): void {
    const entry = this.entries.get(`${member}-${id}`);
    if (!entry) throw new Error(`no entry ${member}-${id}`);
    this.entries.set(`${member}-${id}`, { member, id, kind: entry.kind, fingerprints: {}, timestamp: at, deleted: true });
  }

  failNext(failure: HashFailure): void {
    this.failures.push(failure);
  }

  /** Forgets every paging link issued, as if they had expired. */
  expirePagingLinks(): void {
    this.cursors.clear();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const reply = (status: number, xml: string, headers: Record<string, string> = {}) => {
      this.calls.push({ method: request.method ?? '', path: url.pathname + url.search, status });
      response.writeHead(status, { 'content-type': 'application/xml; charset=utf-8', ...headers });
      response.end(xml.startsWith('<?xml') || xml === '' ? xml : `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>${xml}`);
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}) => reply(status, `<error xmlns="${NAMESPACE}"><message>${escapeXml(message)}</message></error>`, headers);
    if (request.headers.authorization !== `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`) {
      return error(401, 'Authentication required', { 'www-authenticate': 'Basic realm="hashsharing"' });
    }
    const path = url.pathname.replace(/^\/hashsharing\/v2\//, '');
    if (path === url.pathname) return error(404, 'Not found');
    if (request.method === 'GET' && path === 'entries') {
      const failure = this.failures.shift();
      if (failure?.status === 429) return error(429, 'Too many requests', { 'retry-after': String(failure.retryAfterSeconds) });
      if (failure?.status === 500) return error(500, 'Server error');
      const answer = this.entriesPage(url.searchParams);
      if (typeof answer !== 'string') return error(answer.status, answer.message);
      return reply(200, failure?.status === 'malformed' ? answer.slice(0, Math.floor(answer.length / 2)) : answer);
    }
    if (request.method === 'GET' && path === 'status') {
      return reply(200, `<status xmlns="${NAMESPACE}"><ipAddress>127.0.0.1</ipAddress><username>${escapeXml(this.username)}</username><member id="1">Stand-in member</member></status>`);
    }
    if (request.method === 'GET' && path === 'members') {
      const members = [...new Set([...this.entries.values()].map((entry) => entry.member))].sort();
      return reply(200, `<members xmlns="${NAMESPACE}">${members.map((id) => `<member id="${id}">${escapeXml(this.memberName(id))}</member>`).join('')}</members>`);
    }
    const reasons = /^feedback\/([A-Z0-9_]+)\/reasons$/.exec(path);
    if (request.method === 'GET' && reasons) {
      const list = this.reasons.get(reasons[1]);
      if (!list) return error(404, `Unknown fingerprint type ${reasons[1]}`);
      const type = reasons[1][0] + reasons[1].slice(1).toLowerCase();
      return reply(200, `<availableFeedbackReasons xmlns="${NAMESPACE}">${list.map((reason) => `<reason guid="${reason.guid}" name="${escapeXml(reason.name)}" type="${type}"/>`).join('')}</availableFeedbackReasons>`);
    }
    const feedback = /^entries\/(\d+)\/([^/]+)\/([A-Z0-9_]+)\/feedback$/.exec(path);
    if (request.method === 'PUT' && feedback) {
      const problem = this.recordFeedback(decodeURIComponent(feedback[1]), decodeURIComponent(feedback[2]), feedback[3], request.headers['content-type'] ?? '', body.toString('utf8'));
      if (problem) return error(problem.status, problem.message);
      return reply(200, `<submissionResult xmlns="${NAMESPACE}"/>`);
    }
    return error(404, 'Not found');
  }

  private entriesPage(params: URLSearchParams): string | { status: number; message: string } {
    const from = parseUtc(params.get('from'));
    const to = parseUtc(params.get('to'));
    if (from === undefined || to === undefined) return { status: 400, message: 'from and to must be UTC date-times (yyyy-MM-ddTHH:mm:ssZ)' };
    const size = this.options.pageSize ?? 1000;
    let keys: string[];
    let start = 1;
    if (params.has('start')) {
      const cursor = this.cursors.get(cursorKey(params));
      if (!cursor || this.now().getTime() - cursor.issuedAt > PAGING_LINK_TTL_MS) return { status: 400, message: 'The paging link has expired' };
      keys = cursor.keys;
      start = Number(params.get('start'));
    } else {
      keys = [...this.entries.values()]
        .filter((entry) => entry.timestamp.getTime() >= from && entry.timestamp.getTime() < to)
        .map((entry) => `${entry.member}-${entry.id}`)
        // Not time order: NCMEC's is not either.
        .sort((a, b) => guidFor(a).localeCompare(guidFor(b)));
    }
    const pageKeys = keys.slice(start - 1, start - 1 + size);
    const page = pageKeys.map((key) => this.entries.get(key)!);
    let paging = '';
    if (start - 1 + size < keys.length) {
      const next = new URLSearchParams({ from: params.get('from')!, to: params.get('to')!, start: String(start + size), size: String(size), max: String(keys.length) });
      this.cursors.set(cursorKey(next), { keys, issuedAt: this.now().getTime() });
      paging = `<paging><next>${escapeXml(`/v2/entries?${next}`)}</next></paging>`;
    }
    const block = (kind: 'image' | 'video') => {
      const ofKind = page.filter((entry) => entry.kind === kind);
      if (ofKind.length === 0) return `<${kind}s count="0"/>`;
      const max = new Date(Math.max(...ofKind.map((entry) => entry.timestamp.getTime())));
      return `<${kind}s count="${ofKind.length}" maxTimestamp="${utc(max)}">${ofKind.map((entry) => this.entryXml(entry)).join('')}</${kind}s>`;
    };
    return `<queryResult xmlns="${NAMESPACE}">${block('image')}${block('video')}${paging}</queryResult>`;
  }

  private entryXml(entry: HashSharingEntry): string {
    const head = `<member id="${entry.member}">${escapeXml(this.memberName(entry.member))}</member><timestamp>${utc(entry.timestamp)}</timestamp><id>${escapeXml(entry.id)}</id>`;
    if (entry.deleted) {
      const name = entry.kind === 'image' ? 'deletedImage' : 'deletedVideo';
      return `<${name}>${head}</${name}>`;
    }
    const fingerprints = Object.entries(entry.fingerprints).map(([type, value]) => {
      const name = type.toLowerCase().replace(/_/g, '-');
      return LARGE_TYPES.has(type) ? `<${name} rel="self" href="/v2/entries/${entry.member}/${escapeXml(entry.id)}/fingerprints/${type}"/>` : `<${name}>${escapeXml(value)}</${name}>`;
    });
    const classification = entry.classification ? `<classification>${escapeXml(entry.classification)}</classification>` : '';
    return `<${entry.kind}>${head}${classification}<fingerprints>${fingerprints.join('')}</fingerprints></${entry.kind}>`;
  }

  private recordFeedback(member: string, id: string, type: string, contentType: string, body: string): { status: number; message: string } | undefined {
    const entry = this.entries.get(`${member}-${id}`);
    if (!entry || entry.deleted) return { status: 404, message: `No entry ${id} of member ${member}` };
    if (!FINGERPRINT_TYPES.includes(type)) return { status: 400, message: `Unknown fingerprint type ${type}` };
    if (!(type in entry.fingerprints)) return { status: 400, message: `Entry ${id} has no ${type} fingerprint` };
    if (!/^(application|text)\/xml\b/.test(contentType)) return { status: 415, message: 'Expected an XML body' };
    let document: XmlElement;
    try {
      document = parseXml(body);
    } catch (error) {
      if (error instanceof XmlParseError) return { status: 400, message: 'Malformed XML' };
      throw error;
    }
    if (document.name !== 'feedbackSubmission' || document.attributes.xmlns !== NAMESPACE) return { status: 400, message: `Expected <feedbackSubmission xmlns="${NAMESPACE}">` };
    if (document.children.length !== 1) return { status: 400, message: 'Expected exactly one of <affirmative> or <negative>' };
    const [vote] = document.children;
    if (vote.name === 'affirmative') {
      if (vote.children.length > 0) return { status: 400, message: '<affirmative> is empty' };
      this.feedback.push({ member, entry: id, type, vote: 'affirmative', reasonIds: [] });
      return undefined;
    }
    if (vote.name !== 'negative') return { status: 400, message: `Unexpected <${vote.name}>` };
    const reasonIds = vote.children.length === 1 && vote.children[0].name === 'reasonIds' ? vote.children[0].children : [];
    if (reasonIds.length === 0 || reasonIds.some((guid) => guid.name !== 'guid' || !guid.text)) return { status: 400, message: '<negative> needs <reasonIds> with <guid> elements' };
    const known = new Set((this.reasons.get(type) ?? []).map((reason) => reason.guid));
    const unknown = reasonIds.find((guid) => !known.has(guid.text!));
    if (unknown) return { status: 400, message: `Unknown reason ${unknown.text} for ${type}` };
    this.feedback.push({ member, entry: id, type, vote: 'negative', reasonIds: reasonIds.map((guid) => guid.text!) });
    return undefined;
  }

  private memberName(id: string): string {
    return this.options.memberNames?.[id] ?? `Member ${id}`;
  }
}

const cursorKey = (params: URLSearchParams) => ['from', 'to', 'start', 'size', 'max'].map((name) => params.get(name)).join('|');

/** A stable guid-shaped id from a seed. */
function guidFor(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function parseUtc(value: string | null): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

const utc = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
