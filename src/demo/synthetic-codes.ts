/** The synthetic platform's shared constants: time units, random streams, account kinds and the compact event codes. */
import type { PlatformEventInput } from '../ingest/platform-events.ts';

export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const NEVER = 0x7fffffff;

// Random streams: every consumer reseeds from (seed, stream, index), so the event stream can
// be regenerated hour by hour without replaying the construction.
export const STREAM_PLAN = 1;
export const STREAM_SLOTS = 2;
export const STREAM_SIM = 3;
export const STREAM_TICK = 4;
export const STREAM_COUNTS = 5;
export const STREAM_SHAPES = 6;

export const KIND_ORDINARY = 0;
export const KIND_MEMBER = 1;
export const KIND_RETURNED = 2;
export const KIND_DECOY = 3;
export const KIND_CELEBRITY = 4;

export const ROLE_NONE = 0;
export const ROLE_BUYER = 1;
export const ROLE_SELLER = 2;

export const FLAG_MINOR = 1;
export const FLAG_ESTIMATED = 2;
export const FLAG_VERIFIED = 4;
export const FLAG_PHONE = 8;
export const FLAG_LINK = 16;

export const VIA_NONE = 0;
export const VIA_RECOMMENDATION = 1;
export const VIA_SEARCH = 2;
export const VIA_PROFILE = 3;
export const VIA_NAMES = [undefined, 'recommendation:suggested', 'search', 'profile'] as const;
export const SURFACES = ['recommendation:suggested', 'search'] as const;

// Internal event codes; hashtags, searches and links carry their text either as a small
// numeric code or as an index into the model's string table.
export const E_CREATED = 0;
export const E_ATTRIBUTES = 1;
export const E_DEVICE = 2;
export const E_EMAIL = 3;
export const E_PHONE = 4;
export const E_IP24 = 5;
export const E_HANDLE = 6;
export const E_LINK_ACCOUNT = 7;
export const E_LINK_STRING = 8;
export const E_FOLLOW = 9;
export const E_MESSAGE = 10;
export const E_LIKE = 11;
export const E_COMMENT = 12;
export const E_SHARE = 13;
export const E_TAG = 14;
export const E_TAG_STRING = 15;
export const E_SEARCH = 16;
export const E_SEARCH_STRING = 17;
export const E_IMPRESSION = 18;
export const E_DELETED = 19;

export const EVENT_TYPE: Record<number, PlatformEventInput['type']> = {
  [E_CREATED]: 'account_created',
  [E_ATTRIBUTES]: 'account_attributes',
  [E_DEVICE]: 'identifier',
  [E_EMAIL]: 'identifier',
  [E_PHONE]: 'identifier',
  [E_IP24]: 'identifier',
  [E_HANDLE]: 'identifier',
  [E_LINK_ACCOUNT]: 'profile_link',
  [E_LINK_STRING]: 'profile_link',
  [E_FOLLOW]: 'follow',
  [E_MESSAGE]: 'message',
  [E_LIKE]: 'like',
  [E_COMMENT]: 'comment',
  [E_SHARE]: 'share',
  [E_TAG]: 'hashtag',
  [E_TAG_STRING]: 'hashtag',
  [E_SEARCH]: 'search',
  [E_SEARCH_STRING]: 'search',
  [E_IMPRESSION]: 'recommendation_impression',
  [E_DELETED]: 'account_deleted',
};

export const ALL_TYPES: PlatformEventInput['type'][] = [
  'follow', 'unfollow', 'message', 'comment', 'like', 'share', 'profile_link', 'hashtag', 'search',
  'recommendation_impression', 'account_created', 'account_deleted', 'account_attributes', 'identifier',
];

// Activity rates per follow edge and per account over the whole period.
export const RANDOM_INTERACTIONS = [
  { code: E_LIKE, perFollow: 0.18 },
  { code: E_COMMENT, perFollow: 0.06 },
  { code: E_MESSAGE, perFollow: 0.06 },
  { code: E_SHARE, perFollow: 0.03 },
] as const;
export const HASHTAGS_PER_ACCOUNT = 2;
export const SEARCHES_PER_ACCOUNT = 0.5;
export const COMMUNITY_TAGS = 12;
export const GLOBAL_TAGS = 20;
export const PLAIN_QUERIES = 500;
export const TERMS = ['term-alpha', 'term-bravo'] as const;

export const FOLLOWER_OVERLAP = 0.45;

export const RANDOM_KINDS = RANDOM_INTERACTIONS.length + 2;

/** Account ids follow creation order: `acct-000123`. */
export const accountId = (i: number) => `acct-${String(i).padStart(6, '0')}`;
