import type { AuditEntry, CaseDetail, DecisionAnswer, LoginAnswer, NcmecReportSummary, Queue, SessionAnswer } from './types.ts';

const BASE = '/console/api';

/** A problem+json answer from the server, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(detail || title);
  }
}

async function problemOf(response: Response): Promise<ApiError> {
  let title = response.statusText || `HTTP ${response.status}`;
  let detail = '';
  try {
    const body = (await response.json()) as { title?: string; detail?: string };
    title = body.title ?? title;
    detail = body.detail ?? '';
  } catch {
    // Not problem+json (a proxy's error page, say): the status line is all there is.
  }
  return new ApiError(response.status, title, detail);
}

/**
 * The console's only way to the server. The session lives in an HttpOnly cookie the page cannot
 * read; the CSRF token lives here, in memory only, and goes with every POST.
 */
export class ConsoleApi {
  private csrfToken: string | null = null;
  /** Called on any 401 other than a failed login: the session is gone. */
  onUnauthorized: (() => void) | null = null;

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; data: T | null; response: Response }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST' && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    let response: Response;
    try {
      response = await fetch(BASE + path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'The server could not be reached', 'Check the connection and try again.');
    }
    // A 401 from login is a wrong password, and from session just "not signed in yet": both are answered where they are asked.
    if (response.status === 401 && path !== '/login' && path !== '/session') {
      this.csrfToken = null;
      this.onUnauthorized?.();
    }
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return { status: 204, data: null, response };
    return { status: response.status, data: (await response.json()) as T, response };
  }

  async login(username: string, password: string): Promise<LoginAnswer> {
    const { data } = await this.request<LoginAnswer>('POST', '/login', { username, password });
    this.csrfToken = data!.csrf_token;
    return data!;
  }

  async logout(): Promise<void> {
    try {
      await this.request('POST', '/logout');
    } finally {
      this.csrfToken = null;
    }
  }

  /** The current session, or null when there is none (a 401 here is not an error, just "log in"). */
  async session(): Promise<SessionAnswer | null> {
    try {
      const { data } = await this.request<SessionAnswer>('GET', '/session');
      this.csrfToken = data!.csrf_token;
      return data;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async queues(): Promise<Queue[]> {
    const { data } = await this.request<{ queues: Queue[] }>('GET', '/queues');
    return data!.queues;
  }

  /** Claims the next case of a queue; null when the queue is empty. */
  async next(queue: string): Promise<CaseDetail | null> {
    const { data } = await this.request<CaseDetail>('POST', `/queues/${encodeURIComponent(queue)}/next`);
    return data;
  }

  async getCase(id: number): Promise<CaseDetail> {
    const { data } = await this.request<CaseDetail>('GET', `/cases/${id}`);
    return data!;
  }

  async reveal(id: number): Promise<number> {
    const { data } = await this.request<{ exposure_today: number }>('POST', `/cases/${id}/reveal`);
    return data!.exposure_today;
  }

  async decide(id: number, verdict: string, policy: string | null, note: string): Promise<DecisionAnswer> {
    const body: { verdict: string; policy?: string; note?: string } = { verdict };
    if (policy) body.policy = policy;
    if (note.trim()) body.note = note.trim();
    const { data } = await this.request<DecisionAnswer>('POST', `/cases/${id}/decision`, body);
    return data!;
  }

  /** Takes this case (a lead may take one another reviewer holds). */
  async claim(id: number): Promise<CaseDetail> {
    const { data } = await this.request<CaseDetail>('POST', `/cases/${id}/claim`);
    return data!;
  }

  /** A lead hands the case to a reviewer who may see its queue. */
  async assign(id: number, username: string): Promise<CaseDetail> {
    const { data } = await this.request<CaseDetail>('POST', `/cases/${id}/assign`, { username });
    return data!;
  }

  async release(id: number): Promise<void> {
    await this.request('POST', `/cases/${id}/release`);
  }

  /** CyberTipline reports, newest first (leads and admins). */
  async ncmecReports(): Promise<NcmecReportSummary[]> {
    const { data } = await this.request<{ reports: NcmecReportSummary[] }>('GET', '/ncmec/reports');
    return data!.reports;
  }

  /** A lead sends a report held below the quality floor as it is. */
  async confirmNcmecReport(id: number): Promise<NcmecReportSummary> {
    const { data } = await this.request<NcmecReportSummary>('POST', `/ncmec/reports/${id}/confirm`);
    return data!;
  }

  async audit(before: number | null, limit = 50): Promise<AuditEntry[]> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== null) query.set('before', String(before));
    const { data } = await this.request<{ entries: AuditEntry[] }>('GET', `/audit?${query}`);
    return data!.entries;
  }

  /**
   * The case's blurred, greyscale preview, made by the server: all the console shows before a
   * reveal. Null when Bulwark does not hold the media (404). Never cached by the browser.
   */
  async preview(id: number): Promise<Blob | null> {
    return this.image(`/cases/${id}/preview`, 'The preview could not be loaded.');
  }

  /** The case's original media: the server gives it once per reveal (call reveal first). */
  async media(id: number): Promise<Blob | null> {
    return this.image(`/cases/${id}/media`, 'The media could not be loaded.');
  }

  private async image(path: string, failure: string): Promise<Blob | null> {
    let response: Response;
    try {
      response = await fetch(BASE + path, { credentials: 'same-origin', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'The server could not be reached', failure);
    }
    if (response.status === 404) return null;
    if (response.status === 401) {
      this.csrfToken = null;
      this.onUnauthorized?.();
    }
    if (!response.ok) throw await problemOf(response);
    return response.blob();
  }
}
