import { z } from 'zod';
import { isoTimestamp } from '../validation/edge.ts';

/**
 * Events a platform sends about its accounts: who interacts with whom, what accounts say
 * about themselves, and what the platform's recommender showed. This is the wire format
 * (snake_case JSON) of `POST /v1/events` and of `bulwark events import`.
 *
 * Messages carry metadata only. Search queries, bios and comment text are matched
 * against the operator's term lists on arrival and never stored; identifiers are stored
 * only as keyed hashes.
 */

const accountId = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'an account id is 1-200 printable ASCII characters without spaces');
const contentId = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'a content id is 1-200 printable ASCII characters without spaces');
const timestamp = isoTimestamp().describe('ISO 8601 with a time zone, e.g. 2026-11-25T10:00:00Z');
const surface = z.string().regex(/^[a-z0-9_.:-]{1,64}$/, 'a surface is 1-64 of a-z 0-9 _ . : -');

const base = {
  /** The platform's own id of the event; a second event with the same id is ignored. */
  event_id: z.string().min(1).max(200).optional(),
  occurred_at: timestamp,
};

/** Interactions from one account towards another, aggregated into weighted graph edges. */
export const INTERACTION_TYPES = ['follow', 'message', 'comment', 'like', 'share'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** Identifiers that link accounts run by the same person; the platform hashes the private ones. */
export const IDENTIFIER_KINDS = ['device', 'email', 'phone', 'ip24', 'offsite_handle'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export const platformEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('follow'), actor: accountId, target: accountId, via: surface.optional().describe('Surface that led to the follow, e.g. recommendation:suggested, search, profile') }),
  z.strictObject({ ...base, type: z.literal('unfollow'), actor: accountId, target: accountId }),
  z.strictObject({ ...base, type: z.literal('message'), actor: accountId, target: accountId }),
  z.strictObject({ ...base, type: z.literal('comment'), actor: accountId, target: accountId, content_id: contentId.optional(), text: z.string().max(10_000).optional().describe('Matched against term lists, never stored') }),
  z.strictObject({ ...base, type: z.literal('like'), actor: accountId, target: accountId, content_id: contentId.optional() }),
  z.strictObject({ ...base, type: z.literal('share'), actor: accountId, target: accountId, content_id: contentId.optional() }),
  z.strictObject({ ...base, type: z.literal('profile_link'), actor: accountId, url: z.string().min(1).max(2048) }),
  z.strictObject({ ...base, type: z.literal('hashtag'), actor: accountId, hashtag: z.string().min(1).max(200), content_id: contentId.optional() }),
  z.strictObject({
    ...base,
    type: z.literal('search'),
    actor: accountId,
    query: z.string().max(1000).optional().describe('Normalised query text: matched against term lists, stored only as a hash'),
    query_hash: z.string().regex(/^[0-9a-f]{16,128}$/).optional().describe('The platform\'s own hash of the query, when it sends no text'),
  }).refine((event) => event.query !== undefined || event.query_hash !== undefined, { message: 'a search event needs query or query_hash' }),
  z.strictObject({ ...base, type: z.literal('recommendation_impression'), viewer: accountId, shown: accountId, surface, content_id: contentId.optional() }),
  z.strictObject({ ...base, type: z.literal('account_created'), account: accountId }),
  z.strictObject({ ...base, type: z.literal('account_deleted'), account: accountId, reason: z.enum(['self', 'enforcement', 'other']).default('other') }),
  z.strictObject({
    ...base,
    type: z.literal('account_attributes'),
    account: accountId,
    minor: z.boolean().optional(),
    minor_basis: z.enum(['declared', 'estimated']).optional(),
    verified: z.boolean().optional(),
    created_at: timestamp.optional().describe('When the account was created, if no account_created event was sent'),
    bio: z.string().max(10_000).optional().describe('Matched against term lists, never stored'),
  }),
  z.strictObject({ ...base, type: z.literal('identifier'), account: accountId, kind: z.enum(IDENTIFIER_KINDS), value: z.string().min(1).max(512) }),
]);

export type PlatformEvent = z.output<typeof platformEventSchema>;
export type PlatformEventInput = z.input<typeof platformEventSchema>;
export type PlatformEventType = PlatformEvent['type'];
