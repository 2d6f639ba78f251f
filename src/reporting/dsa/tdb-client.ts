import { MULTI_STATEMENT_PATH, type TdbStatement, type ValidationErrors } from './tdb-schema.ts';

export interface TdbConfig {
  /** Base URL of the database (production or sandbox), e.g. https://transparency.dsa.ec.europa.eu */
  url: string;
  /** The API token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** How long one call may take before it counts as a timeout and is retried later (default 30 s). */
  timeoutMs?: number;
  /**
   * Where a call's deadline comes from, instead of timeoutMs: a signal that aborts (with a
   * TimeoutError) when the call has taken too long. Tests end a call this way on an event
   * rather than on the wall clock.
   */
  deadline?: () => AbortSignal;
}

/** The configuration from BULWARK_DSA_TDB_URL and BULWARK_DSA_TDB_TOKEN, or undefined when either is missing. */
export function tdbConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TdbConfig | undefined {
  return env.BULWARK_DSA_TDB_URL && env.BULWARK_DSA_TDB_TOKEN ? { url: env.BULWARK_DSA_TDB_URL, token: env.BULWARK_DSA_TDB_TOKEN } : undefined;
}

export type BatchOutcome =
  /** 201: every statement was created; uuids in order. */
  | { kind: 'created'; uuids: (string | null)[] }
  /** 422 with errors per statement ("statement_<index>"): none was created. */
  | { kind: 'rejected'; errors: Map<number, ValidationErrors>; status: number }
  /** Worth trying again later: 429, 5xx, a timeout or a network error. */
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  /** Will not succeed by repetition alone (401, 403, 404, 413, another 4xx): kept and retried slowly. */
  | { kind: 'failed'; error: string };

/** One call to the multi-statement endpoint. */
export async function postStatements(config: TdbConfig, statements: TdbStatement[]): Promise<BatchOutcome> {
  const url = new URL(MULTI_STATEMENT_PATH, config.url.endsWith('/') ? config.url : `${config.url}/`).toString();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ statements }),
      signal: config.deadline?.() ?? AbortSignal.timeout(config.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const name = (error as { name?: string }).name;
    const code = (error as { cause?: { code?: string } }).cause?.code;
    return { kind: 'retry', error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : code ?? 'network_error' };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (response.status === 201) {
    const created = (body as { statements?: { uuid?: string }[] } | undefined)?.statements ?? [];
    return { kind: 'created', uuids: statements.map((_, index) => created[index]?.uuid ?? null) };
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfter = Number(response.headers.get('retry-after'));
    return { kind: 'retry', error: String(response.status), ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  }
  if (response.status === 422) {
    const errors = new Map<number, ValidationErrors>();
    const reported = (body as { errors?: Record<string, unknown> } | undefined)?.errors ?? {};
    for (const [key, value] of Object.entries(reported)) {
      const match = /^statement_(\d+)$/.exec(key);
      if (match && typeof value === 'object' && value !== null) errors.set(Number(match[1]), value as ValidationErrors);
      // A batch-level error (e.g. a puid already used): attributed by puid where the database names them.
      else if (key === 'puid' || key === 'statements') {
        const existing = (body as { existing_puids?: string[] }).existing_puids ?? [];
        statements.forEach((statement, index) => {
          if (existing.includes(statement.puid) || key === 'statements') errors.set(index, { [key]: Array.isArray(value) ? (value as string[]) : [String(value)] });
        });
      }
    }
    return { kind: 'rejected', errors, status: 422 };
  }
  return { kind: 'failed', error: String(response.status) };
}
