import { z } from 'zod';
import { BulwarkError } from '../errors.ts';

/**
 * Validation at the edge: what every text and time must satisfy before it may reach the store.
 *
 * PostgreSQL (and PGlite, the same server compiled to WebAssembly) cannot store:
 * - U+0000 (NUL) in text ("invalid byte sequence for encoding UTF8: 0x00") nor in jsonb
 *   ("unsupported Unicode escape sequence");
 * - a lone UTF-16 surrogate (U+D800-U+DFFF without its partner) in jsonb ("invalid input
 *   syntax for type json"); in text it is silently replaced by U+FFFD, so what was stored is
 *   not what was sent. JSON allows both as \u escapes, so a client can send them.
 * Other control characters (U+0001-U+001F, U+007F, C1) are stored and read back unchanged by
 * both, so they are not refused here: tabs and newlines are ordinary in text and hash lists.
 *
 * Timestamps are refused outside years 1970 to 2200 (UTC): PGlite refuses year 0 and year
 * 10000, and no event, order or content this platform handles lies outside that range.
 */

/** Earliest accepted instant: 1970-01-01T00:00:00Z. */
export const EARLIEST_TIMESTAMP = new Date(Date.UTC(1970, 0, 1));
/** First refused instant after the range: 2201-01-01T00:00:00Z (the year 2200 is accepted whole). */
export const END_OF_TIMESTAMPS = new Date(Date.UTC(2201, 0, 1));
export const TIMESTAMP_RANGE_MESSAGE = 'must be a time from 1970-01-01 to 2200-12-31 (UTC)';

/** The first character of text that cannot be stored (its UTF-16 index) and why, or undefined. */
export function unstorableAt(text: string): { index: number; reason: string } | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return { index: i, reason: 'contains a NUL character (U+0000), which cannot be stored' };
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, reason: 'contains a lone UTF-16 surrogate (not a Unicode character), which cannot be stored' };
    }
  }
  return undefined;
}

/** Why a text cannot be stored, or undefined when it can. */
export const unstorableText = (text: string): string | undefined => unstorableAt(text)?.reason;

export interface UnstorableValue {
  /** Where in the value: path segments from its root (object keys and array indexes). */
  path: (string | number)[];
  reason: string;
}

interface Visit {
  value: unknown;
  key?: string | number;
  parent?: Visit;
}

const pathOf = (visit: Visit, last?: string): (string | number)[] => {
  const path: (string | number)[] = last === undefined ? [] : [last];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.unshift(at.key!);
  return path;
};

/**
 * Walks a parsed JSON value (objects, arrays, strings; object keys included) and returns the
 * first string that cannot be stored. Iterative, and paths are built only for the string
 * found, so a deeply nested body costs time in proportion to its size and cannot overflow
 * the stack.
 */
export function findUnstorable(value: unknown): UnstorableValue | undefined {
  const stack: Visit[] = [{ value }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const current = visit.value;
    if (typeof current === 'string') {
      const reason = unstorableText(current);
      if (reason) return { path: pathOf(visit), reason };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], key: i, parent: visit });
    } else if (typeof current === 'object' && current !== null) {
      // Only plain parsed data is walked (objects from JSON, forms and query strings, whose
      // prototype is Object's, null, or a null-prototype object); buffers, streams and other
      // class instances are not request text.
      const proto = Object.getPrototypeOf(current);
      if (proto !== null && proto.constructor !== undefined && proto.constructor !== Object) continue;
      const entries = Object.entries(current as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const keyReason = unstorableText(key);
        if (keyReason) return { path: pathOf(visit, key), reason: `key ${keyReason}` };
        stack.push({ value: child, key, parent: visit });
      }
    }
  }
  return undefined;
}

/**
 * Refused input, naming where it was (`body/events/0/event_id`, `query/source`,
 * `line 3: source`). An `invalid` error: 400 over HTTP, a usage error in the CLI.
 */
export class UnstorableInputError extends BulwarkError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super('invalid', `${location}: ${reason}`, { location, reason });
    this.name = 'UnstorableInputError';
  }
}

/** Joins a path the way request validation errors name their fields: `body/events/0/event_id`. */
export const formatLocation = (root: string, path: readonly (string | number)[]) => [root, ...path.map(String)].join('/');

/** Throws UnstorableInputError for the first string in value that cannot be stored. */
export function assertStorable(value: unknown, root: string): void {
  const found = findUnstorable(value);
  if (found) throw new UnstorableInputError(formatLocation(root, found.path), found.reason);
}

export const timestampInRange = (date: Date) => {
  const time = date.getTime();
  return !Number.isNaN(time) && time >= EARLIEST_TIMESTAMP.getTime() && time < END_OF_TIMESTAMPS.getTime();
};

/** Throws UnstorableInputError when date is invalid or outside 1970 to 2200; returns it otherwise. */
export function assertTimestamp(date: Date, location: string): Date {
  if (Number.isNaN(date.getTime())) throw new UnstorableInputError(location, 'is not a valid time');
  if (!timestampInRange(date)) throw new UnstorableInputError(location, TIMESTAMP_RANGE_MESSAGE);
  return date;
}

/**
 * An ISO 8601 time with an offset (Z or ±hh:mm), from 1970 to 2200: the one schema for
 * every timestamp a route or an import takes.
 */
export const isoTimestamp = () =>
  z.iso.datetime({ offset: true }).refine((text) => timestampInRange(new Date(text)), { message: TIMESTAMP_RANGE_MESSAGE });
