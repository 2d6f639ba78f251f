import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Bulwark-Signature';
export const TIMESTAMP_HEADER = 'X-Bulwark-Timestamp';
export const ACTION_HEADER = 'X-Bulwark-Action';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; the timestamp in the signed text stops replays of old requests. */
export function signWebhook(secret: string, timestamp: number | string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** Unix seconds; defaults to the current time. */
  nowSeconds?: number;
}

/**
 * Checks a request's signature as a platform receiving Bulwark's webhooks should: the
 * timestamp is recent, and one of the header's `v1=` signatures matches the exact body
 * bytes. Compares in constant time so the check leaks nothing about the expected value.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string | Buffer,
  header: string | null | undefined,
  options: VerifyOptions = {},
): boolean {
  if (!secret || timestamp === null || timestamp === undefined || !header) return false;
  const stamp = String(timestamp);
  if (!/^\d{1,12}$/.test(stamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(stamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${stamp}.`).update(body).digest();
  let matched = false;
  for (const part of header.split(',')) {
    const [scheme, value] = part.trim().split('=', 2);
    if (scheme !== 'v1' || !value || !/^[0-9a-f]{64}$/i.test(value)) continue;
    // No early exit: every candidate is compared, so timing does not tell which one matched.
    if (timingSafeEqual(Buffer.from(value, 'hex'), expected)) matched = true;
  }
  return matched;
}
