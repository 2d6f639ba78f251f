import http from 'node:http';
import https from 'node:https';
import { BulwarkError, invalid } from '../errors.ts';
import { guardedLookup, HostAllowList, hostOf, hostsFromList, type Resolve, systemResolve } from '../net/host-guard.ts';
import { spoolUpload, type SpooledUpload } from './uploads.ts';

/**
 * Fetches media named by URL for hashing, for operators who allow it, without letting a caller
 * reach what the server can reach and they cannot (SSRF): only http(s), only hosts on the
 * operator's allow-list, never a private or loopback address unless the list names that host
 * itself (src/net/host-guard.ts), no redirect to another host, a size limit checked on
 * Content-Length and while reading, and a timeout.
 */
export interface RemoteMediaOptions {
  /**
   * Hosts that may be fetched: "media.example.org" that host only; ".example.org" or
   * "*.example.org" any host under it. Empty: URL fetching is refused.
   */
  allowedHosts: string[];
  /** Largest body in bytes (default 100 MB, as HMA's MAX_REMOTE_FILE_SIZE). */
  maxBytes?: number;
  /** Milliseconds for the whole fetch, connection to last byte (default 30 s, as HMA). */
  timeoutMs?: number;
  /** Name resolution (tests give a fixed table); default the system resolver. */
  resolve?: Resolve;
  /** The signal that ends a fetch (tests pass one that fires on an event); default a timer of timeoutMs. */
  deadline?: () => AbortSignal;
}

export const DEFAULT_REMOTE_MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

export interface RemoteMedia {
  upload: SpooledUpload;
  /** The response's Content-Type, lower case without parameters ('' when absent). */
  contentType: string;
}

const refused = (message: string) => invalid(message);

export class RemoteMediaFetcher {
  private readonly hosts: HostAllowList;
  readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly resolve: NonNullable<RemoteMediaOptions['resolve']>;
  private readonly deadline: () => AbortSignal;

  constructor(options: RemoteMediaOptions) {
    this.hosts = new HostAllowList(options.allowedHosts);
    this.maxBytes = options.maxBytes ?? DEFAULT_REMOTE_MAX_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.resolve = options.resolve ?? systemResolve;
    this.deadline = options.deadline ?? (() => AbortSignal.timeout(this.timeoutMs));
  }

  get enabled(): boolean {
    return !this.hosts.empty;
  }

  /** Checks a URL against the scheme and the allow-list; throws a named 'invalid' error. */
  check(raw: string): URL {
    if (!this.enabled) throw refused('fetching media by URL is not enabled on this server (BULWARK_HMA_ALLOWED_HOSTS is empty)');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refused('Invalid or unsafe URL provided: not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`Invalid or unsafe URL provided: only http and https URLs are fetched, not ${url.protocol.slice(0, -1)}`);
    if (url.username || url.password) throw refused('Invalid or unsafe URL provided: credentials in URLs are not accepted');
    const host = hostOf(url);
    if (!this.hosts.allows(host)) throw refused(`Invalid or unsafe URL provided: host ${JSON.stringify(host)} is not on the allow-list`);
    return url;
  }

  /** Downloads the URL to a private temporary file (the caller removes it). */
  async fetch(raw: string): Promise<RemoteMedia> {
    let url = this.check(raw);
    const deadline = this.deadline();
    for (let redirects = 0; ; redirects++) {
      const response = await this.request(url, deadline);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) throw refused(`Failed to fetch URL: more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(response.headers.location, url);
        // The same host and port: another port on the same machine is another service.
        if (next.host.toLowerCase() !== url.host.toLowerCase()) throw refused(`Failed to fetch URL: redirect to another host (${next.host}) refused`);
        url = this.check(next.href);
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw refused(`Failed to fetch URL: the server answered ${status}`);
      }
      const upload = await spoolUpload(response, this.maxBytes, response.headers['content-length']).catch((error: unknown) => {
        response.destroy();
        if (error instanceof BulwarkError && error.kind === 'too_large') throw new BulwarkError('too_large', 'Content too large', { max_bytes: this.maxBytes });
        if (deadline.aborted) throw refused(`Failed to fetch URL: no complete answer within ${this.timeoutMs} ms`);
        throw error;
      });
      return { upload, contentType: (response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() };
    }
  }

  private request(url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
    const unsafe = (message: string, refusedAddress: boolean) => refused(`${refusedAddress ? 'Invalid or unsafe URL provided' : 'Failed to fetch URL'}: ${message}`);
    const lookup = guardedLookup(this.hosts.mayBePrivate(hostOf(url)), this.resolve, unsafe);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.get(url, { lookup, signal, headers: { 'user-agent': 'Bulwark-HMA-compat', accept: 'image/*, video/*, */*;q=0.1' } }, resolve);
      request.on('error', (error) => {
        if (error instanceof BulwarkError) reject(error);
        else if (signal.aborted) reject(refused(`Failed to fetch URL: no answer within ${this.timeoutMs} ms`));
        else reject(refused(`Failed to fetch URL: ${error.message}`));
      });
    });
  }
}

/** BULWARK_HMA_ALLOWED_HOSTS (comma-separated), BULWARK_HMA_MAX_REMOTE_BYTES, BULWARK_HMA_FETCH_TIMEOUT_MS. */
export function remoteMediaOptionsFromEnv(env: NodeJS.ProcessEnv): RemoteMediaOptions {
  const number = (name: string): number | undefined => {
    const text = env[name]?.trim();
    if (!text) return undefined;
    if (!/^\d+$/.test(text) || Number(text) <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  return {
    allowedHosts: hostsFromList(env.BULWARK_HMA_ALLOWED_HOSTS),
    maxBytes: number('BULWARK_HMA_MAX_REMOTE_BYTES'),
    timeoutMs: number('BULWARK_HMA_FETCH_TIMEOUT_MS'),
  };
}
