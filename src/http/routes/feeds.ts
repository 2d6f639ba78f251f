import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { FEED_PAGE_DEFAULT, FEED_PAGE_MAX, RESNAPSHOT_PROBLEM_TYPE, feedFeedbackSchema } from '../../exchange/bulwark-feed-format.ts';
import { ResnapshotRequired } from '../../exchange/publish/bank-feed.ts';
import { problem, sendProblem } from '../problem.ts';

const bankName = z.object({ bank: z.string().min(1).max(63) });

/**
 * Bulwark to Bulwark sharing, the publishing side: peers read the banks this instance
 * publishes (`bulwark bank update NAME --publish`) with a feed key (`bulwark apikey create
 * PEER --feed`), and tell it what they made of the entries.
 */
export const feedRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['feeds'];

  app.get('/feeds', { schema: { tags, summary: 'The published banks this key may read' } }, async (request) => ({
    feeds: await bulwark.feeds.listPublished(request.apiKey!),
  }));

  app.get(
    '/feeds/:bank',
    {
      schema: {
        tags,
        summary: 'One page of a published bank’s feed: its entries, then its additions and removals',
        description:
          'Without a checkpoint, the first page of the whole bank; pass each page’s checkpoint to get the next, while has_more is true, ' +
          'and keep the last one to ask for what changed since. Items are {op:"add", signal_type, value, tags} or {op:"delete", signal_type, value}. ' +
          `A checkpoint older than the removals kept (history_seconds) is answered 410 with type ${RESNAPSHOT_PROBLEM_TYPE}: read the bank again without a checkpoint.`,
        params: bankName,
        querystring: z.object({
          checkpoint: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(FEED_PAGE_MAX).optional().describe(`Items per page (default ${FEED_PAGE_DEFAULT})`),
        }),
      },
    },
    async (request, reply) => {
      try {
        return await bulwark.feeds.readPage(request.params.bank, request.apiKey!, request.query.checkpoint, request.query.limit);
      } catch (error) {
        if (!(error instanceof ResnapshotRequired)) throw error;
        return sendProblem(reply, { ...problem(410, error.message), type: RESNAPSHOT_PROBLEM_TYPE, resnapshot: true });
      }
    },
  );

  app.post(
    '/feeds/:bank/feedback',
    {
      schema: {
        tags,
        summary: 'Tell the publisher what a reviewer made of content that matched its entries: seen, true_positive or false_positive',
        params: bankName,
        body: feedFeedbackSchema,
      },
    },
    async (request) => {
      const { signals, verdict, reason, idempotency_key } = request.body;
      return bulwark.feeds.recordFeedback(request.params.bank, request.apiKey!, {
        signals: signals.map((signal) => ({ signalType: signal.signal_type, value: signal.value })),
        verdict,
        reason,
        idempotencyKey: idempotency_key,
      });
    },
  );

  // Under /banks, so a feed key cannot read what other peers said.
  app.get(
    '/banks/:bank/feed-feedback',
    {
      schema: {
        tags,
        summary: 'What peers said about this published bank’s entries, newest first',
        params: bankName,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional() }),
      },
    },
    async (request) => {
      await bulwark.banks.get(request.params.bank);
      const feedback = await bulwark.feeds.listFeedback(request.params.bank, { limit: request.query.limit });
      return {
        feedback: feedback.map((entry) => ({
          peer: { key_id: entry.peer.keyId, name: entry.peer.name },
          signal_type: entry.signalType,
          value: entry.value,
          verdict: entry.verdict,
          reason: entry.reason,
          received_at: entry.receivedAt.toISOString(),
        })),
      };
    },
  );
};
