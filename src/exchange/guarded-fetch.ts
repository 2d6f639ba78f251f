import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { guardedLookup, HostAllowList, hostOf, hostsFromList, type Resolve, systemResolve } from '../net/host-guard.ts';
import { ExchangeError } from './exchange.ts';
import type { ExchangeTypeRegistry } from './types/registry.ts';

/**
 * How exchanges reach their sources: a fetch with the HMA layer's protections against SSRF
 * (src/net/host-guard.ts). An API-key holder configures an exchange's URL, so the server must
 * not fetch what they could not: only http(s), only hosts on BULWARK_EXCHANGE_ALLOWED_HOSTS or
 * a type's built-in public hosts (NCMEC's environments, api.stopncii.org, graph.facebook.com),
 * never a private or loopback address unless the operator's list names that very host, and a
 * redirect only to the same host and port. Sizes are each type's own limit on what it reads.
 * A refusal is an ExchangeError no retry fixes.
 */
export const EXCHANGE_ALLOWED_HOSTS_VARIABLE = 'BULWARK_EXCHANGE_ALLOWED_HOSTS';

export interface ExchangeNetOptions {
  /** The operator's hosts (BULWARK_EXCHANGE_ALLOWED_HOSTS): exact hosts may be private, as in the HMA list. */
  allowedHosts: string[];
  /** The types' own hosts (public addresses only). */
  builtInHosts: string[];
  resolve?: Resolve;
}

const MAX_REDIRECTS = 5;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export class ExchangeUrlPolicy {
  private readonly operator: HostAllowList;
  private readonly builtIn: HostAllowList;

  constructor(readonly options: ExchangeNetOptions) {
    this.operator = new HostAllowList(options.allowedHosts);
    this.builtIn = new HostAllowList(options.builtInHosts);
  }

  /** Why `raw` may not be fetched, or undefined when it may. */
  problem(raw: string): string | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'not a URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are fetched, not ${url.protocol.slice(0, -1)}`;
    if (url.username || url.password) return 'credentials in URLs are not accepted';
    const host = hostOf(url);
    if (!this.operator.allows(host) && !this.builtIn.allows(host)) return `host ${JSON.stringify(host)} is not on ${EXCHANGE_ALLOWED_HOSTS_VARIABLE}`;
    return undefined;
  }

  /** A fetch that keeps to this policy. */
  fetch(): typeof globalThis.fetch {
    return (input, init) => this.guardedFetch(input, init);
  }

  private async guardedFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    if (input instanceof Request) throw new TypeError('exchange fetch takes a URL and options, not a Request');
    let url = new URL(String(input));
    let method = (init.method ?? 'GET').toUpperCase();
    let body = bodyBytes(init.body);
    const headers = new Headers(init.headers);
    for (let redirects = 0; ; redirects++) {
      const problem = this.problem(url.href);
      if (problem) throw new ExchangeError(`refused to fetch ${url.host}: ${problem}`, false);
      const response = await this.request(url, method, headers, body, init.signal ?? undefined);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && response.headers.location && init.redirect !== 'manual') {
        response.resume();
        if (init.redirect === 'error') throw new ExchangeError(`${url.host} answered a redirect`, false);
        if (redirects >= MAX_REDIRECTS) throw new ExchangeError(`${url.host}: more than ${MAX_REDIRECTS} redirects`, false);
        const next = new URL(response.headers.location, url);
        // The same host and port: another port on the same machine is another service.
        if (next.host.toLowerCase() !== url.host.toLowerCase() || next.protocol !== url.protocol) {
          throw new ExchangeError(`refused to follow a redirect from ${url.host} to another host (${next.host})`, false);
        }
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        url = next;
        continue;
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
      }
      const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
      if (empty) response.resume();
      return new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), { status, statusText: response.statusMessage, headers: responseHeaders });
    }
  }

  private request(url: URL, method: string, headers: Headers, body: Buffer | undefined, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    const host = hostOf(url);
    const lookup = guardedLookup(this.operator.mayBePrivate(host), this.options.resolve ?? systemResolve, (message, unsafe) =>
      new ExchangeError(unsafe ? `refused to fetch ${url.host}: ${message}` : message, !unsafe),
    );
    const client = url.protocol === 'https:' ? https : http;
    const outgoing: Record<string, string> = Object.fromEntries(headers.entries());
    if (body) outgoing['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const request = client.request(url, { method, lookup, signal, headers: outgoing }, resolve);
      request.on('error', reject);
      request.end(body);
    });
  }
}

function bodyBytes(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('exchange fetch sends only string, URLSearchParams or byte bodies');
}

/** The operator's BULWARK_EXCHANGE_ALLOWED_HOSTS (comma-separated, as BULWARK_HMA_ALLOWED_HOSTS). */
export function exchangeAllowedHostsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return hostsFromList(env[EXCHANGE_ALLOWED_HOSTS_VARIABLE]);
}

/** The policy for every exchange of these types: the operator's hosts and the types' own. */
export function exchangeUrlPolicy(types: ExchangeTypeRegistry, env: NodeJS.ProcessEnv): ExchangeUrlPolicy {
  const builtInHosts = types.names.flatMap((name) => types.get(name).builtInHosts ?? []);
  return new ExchangeUrlPolicy({ allowedHosts: exchangeAllowedHostsFromEnv(env), builtInHosts });
}
