import { isIPv4, isIPv6 } from 'node:net';
import type { SqlClient } from '../store/sql.ts';

export interface LockoutPolicy {
  /** Failed logins on one account within windowMs that lock it for lockMs. */
  maxAccountFailures: number;
  /** Failed logins from one source address (an IPv6 address counts by its /64) within windowMs that lock it for lockMs. */
  maxAddressFailures: number;
  windowMs: number;
  lockMs: number;
  /**
   * At most this many source addresses are counted at a time. When that many are being
   * counted, a new address is not counted until older rows expire: a flood of addresses
   * cannot push out a live lock, and accounts stay protected by their own count.
   */
  maxTrackedAddresses: number;
}

export type LockScope = 'account' | 'address';

interface FailureRow {
  window_started_at: Date;
  failures: number;
  locked_until: Date | null;
}

/** Expands an IPv6 address to its eight 16-bit groups (zone id dropped). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0].toLowerCase();
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, -v4[1].length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const front = parse(head);
  const back = [...parse(rest ?? ''), ...tail];
  if (rest === undefined) return [...front, ...back];
  return [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
}

/**
 * What a source address is counted as: an IPv4 address itself (also when written as
 * ::ffff:a.b.c.d), an IPv6 address by its /64, since one subscriber commonly holds a whole
 * /64 and could otherwise try from a new address each time.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address.split('%')[0])) {
    const groups = ipv6Groups(address);
    return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
  }
  return address.slice(0, 100);
}

/**
 * Failed console logins, counted in the store (table login_failures) per reviewer account
 * and per source address, so a lockout holds on every server sharing the store and
 * survives restarts. Only accounts that exist are counted, so failures on invented names
 * add no rows; addresses are capped (maxTrackedAddresses) and rows are removed only after
 * they expire. The clock is injected so tests can move time by hand.
 */
export class LoginThrottle {
  constructor(
    private readonly sql: SqlClient,
    private readonly policy: LockoutPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Which lock, if any, refuses a login on this account (undefined: unknown name) from this address. */
  async locked(accountId: number | undefined, address: string | undefined): Promise<LockScope | undefined> {
    const keys = this.keys(accountId, address);
    if (keys.length === 0) return undefined;
    const result = await this.sql.query<{ scope: LockScope }>(
      `SELECT scope FROM login_failures WHERE locked_until > $1 AND (scope, key) IN (${keys.map((_, i) => `($${2 * i + 2}::text, $${2 * i + 3}::text)`).join(', ')})
       ORDER BY scope`,
      [this.now(), ...keys.flat()],
    );
    return result.rows[0]?.scope;
  }

  /** Counts one failed login against the account (when it exists) and the address. */
  async recordFailure(accountId: number | undefined, address: string | undefined): Promise<void> {
    const now = this.now();
    await this.sql.transaction(async (tx) => {
      // Only rows whose window and lock have both passed go; a live lock is never removed.
      await tx.query('DELETE FROM login_failures WHERE expires_at <= $1', [now]);
      for (const [scope, key] of this.keys(accountId, address)) await this.count(tx, scope, key, now);
    });
  }

  /** A successful login clears the account's count; the address keeps its own, so one good account cannot reset guessing at others. */
  async clearAccount(accountId: number): Promise<void> {
    await this.sql.query(`DELETE FROM login_failures WHERE scope = 'account' AND key = $1`, [String(accountId)]);
  }

  private keys(accountId: number | undefined, address: string | undefined): [LockScope, string][] {
    const keys: [LockScope, string][] = [];
    if (accountId !== undefined) keys.push(['account', String(accountId)]);
    if (address) keys.push(['address', addressKey(address)]);
    return keys;
  }

  private async count(tx: SqlClient, scope: LockScope, key: string, now: Date): Promise<void> {
    const windowEnd = new Date(now.getTime() + this.policy.windowMs);
    if (scope === 'address') {
      await tx.query(
        `INSERT INTO login_failures (scope, key, window_started_at, failures, expires_at)
         SELECT 'address', $1, $2, 0, $3 WHERE (SELECT count(*) FROM login_failures WHERE scope = 'address') < $4
         ON CONFLICT (scope, key) DO NOTHING`,
        [key, now, windowEnd, this.policy.maxTrackedAddresses],
      );
    } else {
      await tx.query(
        `INSERT INTO login_failures (scope, key, window_started_at, failures, expires_at) VALUES ('account', $1, $2, 0, $3) ON CONFLICT (scope, key) DO NOTHING`,
        [key, now, windowEnd],
      );
    }
    const found = await tx.query<FailureRow>('SELECT window_started_at, failures, locked_until FROM login_failures WHERE scope = $1 AND key = $2 FOR UPDATE', [scope, key]);
    const row = found.rows[0];
    if (!row) return; // an address not counted because the table is at its cap
    const windowOver = row.window_started_at.getTime() + this.policy.windowMs <= now.getTime();
    const windowStart = windowOver ? now : row.window_started_at;
    const failures = (windowOver ? 0 : row.failures) + 1;
    const max = scope === 'account' ? this.policy.maxAccountFailures : this.policy.maxAddressFailures;
    const stillLocked = row.locked_until !== null && row.locked_until.getTime() > now.getTime();
    const lockedUntil = failures >= max && !stillLocked ? new Date(now.getTime() + this.policy.lockMs) : row.locked_until;
    const expiresAt = Math.max(windowStart.getTime() + this.policy.windowMs, lockedUntil?.getTime() ?? 0);
    await tx.query('UPDATE login_failures SET window_started_at = $3, failures = $4, locked_until = $5, expires_at = $6 WHERE scope = $1 AND key = $2', [
      scope,
      key,
      windowStart,
      failures,
      lockedUntil,
      new Date(expiresAt),
    ]);
  }
}
