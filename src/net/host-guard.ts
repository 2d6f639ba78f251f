import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * What keeps a server that fetches URLs on someone's behalf from reaching what that someone
 * cannot (SSRF): an operator's allow-list of hosts, and a refusal of private and loopback
 * addresses checked when the socket connects, on the address it connects to, so a name that
 * resolves differently the second time gains nothing. Shared by the HMA layer's media fetcher
 * (src/http/remote-media.ts) and the exchanges' fetch (src/exchange/guarded-fetch.ts); each
 * turns a refusal into its own error through `refuse`.
 */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

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

/** A URL's host as the allow-list compares it: lower case, IPv6 without brackets. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

/**
 * Hosts that may be fetched: "media.example.org" that host only; ".example.org" or
 * "*.example.org" any host under it. A host named exactly may be private (the operator said
 * so); one allowed by a suffix may not.
 */
export class HostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(hosts: string[]) {
    for (const raw of hosts) {
      const host = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
      if (host === '') continue;
      if (host.startsWith('*.') || host.startsWith('.')) this.suffixes.push(host.slice(host.indexOf('.')));
      else this.exact.add(host);
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.suffixes.length === 0;
  }

  allows(host: string): boolean {
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }

  /** A private address is reachable only when the operator named this very host. */
  mayBePrivate(host: string): boolean {
    return this.exact.has(host);
  }
}

/** Parses a comma-separated list of hosts (an environment variable's value). */
export function hostsFromList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((host) => host.trim()).filter(Boolean);
}

/**
 * A socket lookup that refuses private and loopback addresses unless `mayBePrivate`; the error
 * `refuse` builds (`unsafe`: the address is refused, not unreachable) is what the request fails with.
 */
export function guardedLookup(mayBePrivate: boolean, resolve: Resolve, refuse: (message: string, unsafe: boolean) => Error): LookupFunction {
  return (hostname, options, callback) => {
    const literal = isIP(hostname);
    const found = literal ? Promise.resolve([{ address: hostname, family: literal }]) : resolve(hostname);
    found.then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(refuse(`cannot resolve ${hostname}`, false) as NodeJS.ErrnoException, '', 4);
          return;
        }
        const usable = addresses.filter((entry) => mayBePrivate || !isPrivateAddress(entry.address));
        if (usable.length === 0) {
          callback(refuse(`${hostname} resolves to a private or loopback address`, true) as NodeJS.ErrnoException, '', 4);
          return;
        }
        if (options.all) (callback as unknown as (error: null, all: { address: string; family: number }[]) => void)(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (error: Error) => callback(Object.assign(refuse(`cannot resolve ${hostname}`, false), { cause: error }) as NodeJS.ErrnoException, '', 4),
    );
  };
}
