import { createHash } from 'node:crypto';
import { normalizeCompact, normalizeHashtag } from '../terms/normalize.ts';

/**
 * How an event's shared traces become graph features. The store's ingest and the offline
 * event-stream graph both derive them here, so an account links to the same features
 * whichever way its events arrive.
 */

/** Lower-cased host without www, path without trailing slash, no query or fragment: the same page linked twice is one feature. */
export function linkFeatures(raw: string): { link: string; domain: string } | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
    if (!url.hostname) return undefined;
    const domain = url.hostname.toLowerCase().replace(/^www\./, '');
    return { link: `${domain}${url.pathname.replace(/\/+$/, '')}`, domain };
  } catch {
    return undefined;
  }
}

/** The hashtag's feature value, or '' when nothing is left after normalisation. */
export const hashtagFeature = (tag: string): string => normalizeHashtag(tag);

/** A search is kept only as a hash of its normalised text, or as the platform's own hash. */
export function searchFeature(event: { query?: string; query_hash?: string }): string {
  return event.query !== undefined ? createHash('sha256').update(normalizeCompact(event.query)).digest('hex').slice(0, 32) : event.query_hash!;
}
