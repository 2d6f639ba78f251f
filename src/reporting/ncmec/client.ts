import { childText, parseXml, XmlParseError } from './xml.ts';

/** Why one ISPWS call failed: only ids and codes, never bodies (they may carry personal data). */
export class NcmecApiError extends Error {
  constructor(
    readonly step: NcmecStep,
    readonly httpStatus: number | null,
    readonly responseCode: number | null,
    readonly reason: 'http' | 'response_code' | 'timeout' | 'network' | 'malformed',
  ) {
    super(`${step} failed: ${reason}${httpStatus !== null ? ` http ${httpStatus}` : ''}${responseCode !== null ? ` code ${responseCode}` : ''}`);
  }

  /** The short form kept as a report's last error. */
  get code(): string {
    return [this.step, this.reason, this.httpStatus !== null ? `http=${this.httpStatus}` : undefined, this.responseCode !== null ? `code=${this.responseCode}` : undefined].filter(Boolean).join(' ');
  }
}

export type NcmecStep = 'submit' | 'upload' | 'fileinfo' | 'finish' | 'retract';

/** The ISPWS calls the submission sequence makes; an interface so tests and other transports can stand in. */
export interface CyberTiplineApi {
  submit(reportXml: string): Promise<{ reportId: string }>;
  upload(reportId: string, fileName: string, mediaType: string, bytes: Buffer): Promise<{ fileId: string; hash: string | undefined }>;
  fileInfo(fileDetailsXml: string): Promise<void>;
  finish(reportId: string): Promise<{ fileIds: string[] }>;
  /** Resolves to the response code: 0, or 5102 when the report had already been finished. */
  retract(reportId: string): Promise<number>;
}

export interface CyberTiplineClientOptions {
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
  /**
   * Where a call's deadline comes from, instead of timeoutMs: a signal that aborts (with a
   * TimeoutError) when the call has taken too long. Tests end a call this way on an event
   * rather than on the wall clock.
   */
  deadline?: () => AbortSignal;
  fetch?: typeof fetch;
}

/**
 * HTTP client for NCMEC's ISPWS: Basic auth; XML bodies as text/xml for /submit and
 * /fileinfo; multipart/form-data with `id` (and `file`) for /upload, /finish and /retract.
 * Answers are <reportResponse>/<reportDoneResponse> documents whose responseCode 0 is success.
 */
export class CyberTiplineClient implements CyberTiplineApi {
  private readonly authorization: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly deadline: (() => AbortSignal) | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CyberTiplineClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.deadline = options.deadline;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async submit(reportXml: string): Promise<{ reportId: string }> {
    const response = await this.call('submit', '/submit', reportXml, 'text/xml; charset=utf-8');
    const reportId = childText(response, 'reportId');
    if (!reportId) throw new NcmecApiError('submit', 200, 0, 'malformed');
    return { reportId };
  }

  async upload(reportId: string, fileName: string, mediaType: string, bytes: Buffer): Promise<{ fileId: string; hash: string | undefined }> {
    const form = new FormData();
    form.append('id', reportId);
    form.append('file', new Blob([bytes], { type: mediaType }), fileName);
    const response = await this.call('upload', '/upload', form);
    const fileId = childText(response, 'fileId');
    if (!fileId) throw new NcmecApiError('upload', 200, 0, 'malformed');
    return { fileId, hash: childText(response, 'hash') };
  }

  async fileInfo(fileDetailsXml: string): Promise<void> {
    await this.call('fileinfo', '/fileinfo', fileDetailsXml, 'text/xml; charset=utf-8');
  }

  async finish(reportId: string): Promise<{ fileIds: string[] }> {
    const form = new FormData();
    form.append('id', reportId);
    const response = await this.call('finish', '/finish', form);
    const files = response.children.find((child) => child.name === 'files');
    return { fileIds: (files?.children ?? []).filter((c) => c.name === 'fileId').map((c) => c.text ?? '') };
  }

  async retract(reportId: string): Promise<number> {
    const form = new FormData();
    form.append('id', reportId);
    try {
      await this.call('retract', '/retract', form);
      return 0;
    } catch (error) {
      // Already finished or already gone: nothing open is left to retract, which the caller must know.
      if (error instanceof NcmecApiError && (error.responseCode === 5102 || error.responseCode === 5001 || error.responseCode === 5101)) return error.responseCode;
      throw error;
    }
  }

  private async call(step: NcmecStep, path: string, body: string | FormData, contentType?: string) {
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: this.authorization, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
        signal: this.deadline?.() ?? AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const name = (error as Error)?.name;
      throw new NcmecApiError(step, null, null, name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network');
    }
    let parsed;
    try {
      parsed = parseXml(text);
    } catch (error) {
      if (!(error instanceof XmlParseError)) throw error;
      throw new NcmecApiError(step, response.status, null, response.ok ? 'malformed' : 'http');
    }
    const code = Number.parseInt(childText(parsed, 'responseCode') ?? '', 10);
    if (!response.ok) throw new NcmecApiError(step, response.status, Number.isNaN(code) ? null : code, 'http');
    if (Number.isNaN(code)) throw new NcmecApiError(step, response.status, null, 'malformed');
    if (code !== 0) throw new NcmecApiError(step, response.status, code, 'response_code');
    return parsed;
  }
}
