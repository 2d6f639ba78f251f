import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { validateWithXsd } from '../../src/reporting/ncmec/xsd-validation.ts';
import { childText, escapeXml, parseXml, type XmlElement } from '../../src/reporting/ncmec/xml.ts';
import { EventDeadlines } from './event-deadlines.ts';
import { LocalHttpServer, readBody } from './local-http-server.ts';
import { NCMEC_XSD } from './xmllint.ts';

type Step = 'submit' | 'upload' | 'fileinfo' | 'finish' | 'retract';
/** How a step fails when told to: an HTTP 500, a schema-error response (4100), or no answer at all. */
export type FailureMode = 500 | 'schema' | 'timeout';

export interface StoredReport {
  id: string;
  state: 'open' | 'finished' | 'retracted';
  xml: XmlElement;
  files: Map<string, { name: string; bytes: Buffer; details?: XmlElement }>;
}

/**
 * A stand-in for NCMEC's ISPWS that checks requests as the published documentation
 * describes them: Basic auth, the five POST paths, text/xml bodies validated with xmllint
 * against NCMEC's published XSD (../shared/ncmec; a violation is answered with responseCode
 * 4100, as a schema error), GET /xsd serving that schema, multipart uploads, and the sequence (upload and fileinfo only to
 * an open report, finish only once every uploaded file has its details, retract only open
 * reports). It answers <reportResponse>/<reportDoneResponse> with report and file ids.
 */
export class NcmecServer {
  readonly reports = new Map<string, StoredReport>();
  /** Every request, by step, with the response code given. */
  readonly calls: { step: string; code: number; reportId?: string }[] = [];
  private readonly failures: { step: Step; mode: FailureMode }[] = [];
  /** Every document refused for breaking the schema: the step and xmllint's (value-free) errors. */
  readonly schemaViolations: { step: 'submit' | 'fileinfo'; errors: string[] }[] = [];
  /**
   * How GET /xsd answers: the published schema; a stricter "newer" one that no longer lists the
   * incident type Bulwark reports (so a document valid under the bundled copy fails the live one);
   * an HTTP error; or something that is not a schema.
   */
  xsdAnswer: 'schema' | 'stricter' | 503 | 'not-a-schema' = 'schema';
  /** GET /xsd requests served. */
  xsdRequests = 0;
  private readonly server = new LocalHttpServer((request, response) => void this.handle(request, response));
  private readonly held: ServerResponse[] = [];
  private readonly deadlines = new EventDeadlines('the stand-in will not answer this call');
  private nextReportId = 70001;
  private nextFileId = 1;
  url = '';

  constructor(readonly username = 'esp-test-user', readonly password = 'esp-test-password') {}

  async start(port = 0): Promise<this> {
    this.url = `http://127.0.0.1:${await this.server.listen(port)}/ispws`;
    return this;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    for (const response of this.held.splice(0)) response.destroy();
    await this.server.close();
  }

  /** The next request to this step fails as told (once per call). */
  failNext(step: Step, mode: FailureMode): void {
    this.failures.push({ step, mode });
  }

  /** The deadline to hand the client under test: it passes when this stand-in holds a call it will never answer. */
  readonly deadline = this.deadlines.next;

  finished(): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.state === 'finished');
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const reply = (status: number, code: number, description: string, extra: Record<string, string> = {}, root = 'reportResponse', step = '') => {
      this.calls.push({ step, code, reportId: extra.reportId });
      const fields = Object.entries(extra).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join('');
      response.writeHead(status, { 'content-type': 'application/xml; charset=utf-8' });
      response.end(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><${root}><responseCode>${code}</responseCode><responseDescription>${escapeXml(description)}</responseDescription>${fields}</${root}>`);
    };
    const url = new URL(request.url ?? '/', 'http://localhost');
    const step = url.pathname.replace(/^\/ispws\//, '') as Step;
    if (request.headers.authorization !== `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`) return reply(401, 2000, 'Authentication required', {}, 'reportResponse', step);
    if (url.pathname === '/ispws/xsd' && request.method === 'GET') {
      this.xsdRequests++;
      if (this.xsdAnswer === 503) return reply(503, 1000, 'Server error', {}, 'reportResponse', 'xsd');
      response.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
      const published = readFileSync(NCMEC_XSD, 'utf8');
      const stricter = published.replace(/<xs:enumeration value="Child Pornography \(possession, manufacture, and distribution\)" \/>/, '');
      response.end(this.xsdAnswer === 'schema' ? published : this.xsdAnswer === 'stricter' ? stricter : '<html><body>maintenance</body></html>');
      return;
    }
    if (!['submit', 'upload', 'fileinfo', 'finish', 'retract'].includes(step) || !url.pathname.startsWith('/ispws/')) return reply(404, 1210, 'Resource not found', {}, 'reportResponse', step);
    if (request.method !== 'POST') return reply(405, 4000, 'Invalid request', {}, 'reportResponse', step);
    const failure = this.failures.findIndex((candidate) => candidate.step === step);
    if (failure >= 0) {
      const { mode } = this.failures.splice(failure, 1)[0];
      if (mode === 'timeout') {
        this.calls.push({ step, code: -1 });
        this.held.push(response);
        this.deadlines.pass(); // never answers; the client's deadline passes now
        return;
      }
      if (mode === 500) return reply(500, 1000, 'Server error', {}, 'reportResponse', step);
      return reply(400, 4100, 'Validation failed', {}, 'reportResponse', step);
    }
    const contentType = request.headers['content-type'] ?? '';
    if (step === 'submit' || step === 'fileinfo') {
      if (!/^text\/xml\b/.test(contentType)) return reply(415, 4000, 'Expected text/xml', {}, 'reportResponse', step);
      let document: XmlElement;
      try {
        document = parseXml(body.toString('utf8'));
      } catch {
        return reply(400, 4110, 'Malformed XML', {}, 'reportResponse', step);
      }
      const checked = await validateWithXsd(body.toString('utf8'), NCMEC_XSD);
      // Without xmllint the stand-in cannot judge a document; it must not pass it unchecked.
      if (checked.kind === 'unavailable') return reply(500, 1000, `Server error: ${checked.reason}`, {}, 'reportResponse', step);
      if (checked.kind === 'invalid') {
        this.schemaViolations.push({ step, errors: checked.errors });
        return reply(400, 4100, `Validation failed: ${checked.errors.length} problem(s)`, {}, 'reportResponse', step);
      }
      if (step === 'submit') {
        const id = String(this.nextReportId++);
        this.reports.set(id, { id, state: 'open', xml: document, files: new Map() });
        return reply(200, 0, 'Success', { reportId: id }, 'reportResponse', step);
      }
      const reportId = childText(document, 'reportId')!;
      const report = this.open(reportId);
      if (typeof report === 'number') return reply(400, report, 'Report is not open', {}, 'reportResponse', step);
      const file = report.files.get(childText(document, 'fileId')!);
      if (!file) return reply(400, 5002, 'File does not exist', {}, 'reportResponse', step);
      file.details = document;
      return reply(200, 0, 'Success', { reportId }, 'reportResponse', step);
    }
    const form = parseForm(contentType, body);
    if (!form) return reply(415, 4000, 'Expected form data', {}, 'reportResponse', step);
    const reportId = form.fields.get('id') ?? '';
    if (step === 'retract') {
      const report = this.reports.get(reportId);
      if (!report) return reply(400, 5001, 'Report does not exist', {}, 'reportResponse', step);
      if (report.state === 'finished') return reply(400, 5102, 'Report already finished', {}, 'reportResponse', step);
      if (report.state === 'retracted') return reply(400, 5101, 'Report already retracted', {}, 'reportResponse', step);
      report.state = 'retracted';
      return reply(200, 0, 'Success', { reportId }, 'reportResponse', step);
    }
    const report = this.open(reportId);
    if (typeof report === 'number') return reply(400, report, 'Report is not open', {}, 'reportResponse', step);
    if (step === 'upload') {
      const file = form.files.get('file');
      if (!file) return reply(400, 4000, 'No file', {}, 'reportResponse', step);
      const fileId = `file-${this.nextFileId++}`;
      report.files.set(fileId, { name: file.name, bytes: file.bytes });
      return reply(200, 0, 'Success', { reportId, fileId, hash: createHash('md5').update(file.bytes).digest('hex') }, 'reportResponse', step);
    }
    if ([...report.files.values()].some((file) => !file.details)) return reply(400, 4100, 'A file has no details', {}, 'reportResponse', step);
    report.state = 'finished';
    this.calls.push({ step, code: 0, reportId });
    response.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?><reportDoneResponse><responseCode>0</responseCode><reportId>${reportId}</reportId><files>${[...report.files.keys()].map((id) => `<fileId>${id}</fileId>`).join('')}</files></reportDoneResponse>`);
  }

  private open(reportId: string): StoredReport | number {
    const report = this.reports.get(reportId);
    if (!report) return 5001;
    if (report.state === 'finished') return 5102;
    if (report.state === 'retracted') return 5101;
    return report;
  }
}

/** multipart/form-data (or urlencoded) fields and files. */
function parseForm(contentType: string, body: Buffer): { fields: Map<string, string>; files: Map<string, { name: string; bytes: Buffer }> } | undefined {
  const fields = new Map<string, string>();
  const files = new Map<string, { name: string; bytes: Buffer }>();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) fields.set(key, value);
    return { fields, files };
  }
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    const fileName = /filename="([^"]*)"/.exec(headers)?.[1];
    if (name !== undefined) {
      if (fileName !== undefined) files.set(name, { name: fileName, bytes: Buffer.from(content) });
      else fields.set(name, content.toString('utf8'));
    }
    start = next;
  }
  return { fields, files };
}
