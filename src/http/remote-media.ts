import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { BulwarkError, invalid } from '../errors.ts';
import { spoolUpload, type SpooledUpload } from './uploads.ts';

/**
 * Fetches media named by URL for hashing, for operators who allow it, without letting a caller
 * reach what the server can reach and they cannot (SSRF): only http(s), only hosts on the
 * operator's allow-list, never a private or loopback address unless the list names that host
 * itself, no redirect to another host, a size limit checked on Content-Length and while
 * reading, and a timeout. The address is checked when the socket connects, on the address it
 * connects to, so a name that resolves differently the second time gains nothing.
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
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
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

/** Addresses no outside caller should reach through this server. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) PRIVATE.addSubnet(network, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

const refused = (message: string) => invalid(message);

export class RemoteMediaFetcher {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly resolve: NonNullable<RemoteMediaOptions['resolve']>;
  private readonly deadline: () => AbortSignal;

  constructor(options: RemoteMediaOptions) {
    for (const raw of options.allowedHosts) {
      const host = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
      if (host === '') continue;
      if (host.startsWith('*.') || host.startsWith('.')) this.suffixes.push(host.slice(host.indexOf('.')));
      else this.exact.add(host);
    }
    this.maxBytes = options.maxBytes ?? DEFAULT_REMOTE_MAX_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.resolve = options.resolve ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
    this.deadline = options.deadline ?? (() => AbortSignal.timeout(this.timeoutMs));
  }

  get enabled(): boolean {
    return this.exact.size > 0 || this.suffixes.length > 0;
  }

  private allowed(host: string): boolean {
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
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
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (!this.allowed(host)) throw refused(`Invalid or unsafe URL provided: host ${JSON.stringify(host)} is not on the allow-list`);
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
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    // A private address is reachable only when the operator named this very host.
    const mayBePrivate = this.exact.has(host);
    const lookup: LookupFunction = (hostname, options, callback) => {
      const literal = isIP(hostname);
      const found = literal ? Promise.resolve([{ address: hostname, family: literal }]) : this.resolve(hostname);
      found.then(
        (addresses) => {
          if (addresses.length === 0) {
            callback(refused(`Failed to fetch URL: cannot resolve ${hostname}`) as NodeJS.ErrnoException, '', 4);
            return;
          }
          const usable = addresses.filter((entry) => mayBePrivate || !isPrivateAddress(entry.address));
          if (usable.length === 0) {
            callback(refused(`Invalid or unsafe URL provided: ${hostname} resolves to a private or loopback address`) as NodeJS.ErrnoException, '', 4);
            return;
          }
          if (options.all) (callback as unknown as (error: null, all: { address: string; family: number }[]) => void)(null, usable);
          else callback(null, usable[0].address, usable[0].family);
        },
        (error: Error) => callback(Object.assign(refused(`Failed to fetch URL: cannot resolve ${hostname}`), { cause: error }) as NodeJS.ErrnoException, '', 4),
      );
    };
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
    allowedHosts: (env.BULWARK_HMA_ALLOWED_HOSTS ?? '').split(',').map((host) => host.trim()).filter(Boolean),
    maxBytes: number('BULWARK_HMA_MAX_REMOTE_BYTES'),
    timeoutMs: number('BULWARK_HMA_FETCH_TIMEOUT_MS'),
  };
}
