import { createHash, createHmac } from 'node:crypto';

/**
 * How one audit entry is bound to the entry before it. Two forms exist:
 *
 * - unkeyed (`key_id` NULL): SHA-256 over the entry and the previous hash. This is how every
 *   entry was written before the audit key existed, and how entries are still written when no
 *   key is configured. Anyone who can write the table can recompute it.
 * - keyed (`key_id` set): HMAC-SHA256 under the audit key named by `key_id`, over the entry,
 *   its sequence number and the previous value. Without the key it cannot be recomputed.
 *
 * Both are stored in the `hash` column; `prev_hash` holds the previous entry's value.
 */
export interface ChainedFields {
  seq: number;
  /** The time as text with microseconds in UTC, exactly as the database returns it. */
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prev: string;
}

/** Keys sorted at every level, so the same entry always hashes the same whatever built it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The unkeyed (legacy) link: unchanged from the first version, so old rows still verify. */
export function unkeyedHash(fields: ChainedFields): string {
  const { prev, at, actor, action, subject, detail } = fields;
  return createHash('sha256').update(canonicalJson({ prev, at, actor, action, subject, detail })).digest('hex');
}

/** The keyed link. The key id and the sequence number are inside, so neither can be moved. */
export function keyedMac(key: Buffer, keyId: string, fields: ChainedFields): string {
  const { seq, prev, at, actor, action, subject, detail } = fields;
  return createHmac('sha256', key)
    .update(canonicalJson({ v: 1, key_id: keyId, seq, prev, at, actor, action, subject, detail }))
    .digest('hex');
}

/** The SQL expression that renders `at` as the text both links cover. */
export const AT_TEXT = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
export const NOW_TEXT = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The action of the entry that starts the keyed chain after unkeyed entries. */
export const CHAIN_KEYED_ACTION = 'audit.chain_keyed';
