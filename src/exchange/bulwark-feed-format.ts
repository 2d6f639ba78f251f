/**
 * The wire format of Bulwark to Bulwark sharing, read by both sides: the publisher
 * (src/exchange/publish/, GET /v1/feeds/{bank}) writes it and the subscriber
 * (src/exchange/types/bulwark.ts) checks every page it reads against it. A feed carries
 * hashes, their tags and whether they were added or removed — never media, content or
 * account ids, entry sources or who decided.
 */
import { z } from 'zod';

export const FEED_PAGE_DEFAULT = 1000;
export const FEED_PAGE_MAX = 10_000;

/** The problem type of a 410 answer: the checkpoint is older than the publisher's tombstones; read the bank again from a null checkpoint. */
export const RESNAPSHOT_PROBLEM_TYPE = 'https://bulwark.dev/problems/feed-resnapshot';

export const feedAddSchema = z.strictObject({
  op: z.literal('add'),
  signal_type: z.string().min(1).max(64),
  value: z.string().min(1),
  tags: z.array(z.string().max(64)).max(50),
});

export const feedDeleteSchema = z.strictObject({
  op: z.literal('delete'),
  signal_type: z.string().min(1).max(64),
  value: z.string().min(1),
});

export const feedItemSchema = z.discriminatedUnion('op', [feedAddSchema, feedDeleteSchema]);
export type FeedItem = z.infer<typeof feedItemSchema>;

/**
 * One page. `checkpoint` is opaque to the subscriber: it sends it back to get the next page.
 * `phase` says whether the page is part of the first full read (snapshot) or of the changes
 * after it. `history_seconds` is how long the publisher keeps removals: a subscriber that has
 * not read for longer must read the bank again from the start.
 */
export const feedPageSchema = z.object({
  bank: z.string(),
  phase: z.enum(['snapshot', 'changes']),
  items: z.array(z.unknown()),
  checkpoint: z.string().min(1).max(200),
  has_more: z.boolean(),
  history_seconds: z.number().int().positive(),
});
export type FeedPage = Omit<z.infer<typeof feedPageSchema>, 'items'> & { items: FeedItem[] };

/** What a peer says about a published entry (POST /v1/feeds/{bank}/feedback). */
export const feedFeedbackSchema = z.strictObject({
  signals: z
    .array(z.strictObject({ signal_type: z.string().min(1).max(64), value: z.string().min(1).max(16 * 1024 * 1024) }))
    .min(1)
    .max(20),
  verdict: z.enum(['seen', 'true_positive', 'false_positive']),
  reason: z.string().max(500).optional(),
  idempotency_key: z.string().min(1).max(200),
});
export type FeedFeedback = z.infer<typeof feedFeedbackSchema>;
