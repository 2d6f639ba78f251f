import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';

export const eventRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Read the event log after a sequence number (resume from next_after)',
        querystring: z.object({
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          type: z.string().optional().describe('Comma-separated event types'),
        }),
      },
    },
    async (request) => {
      const events = await bulwark.events.read({
        afterSeq: request.query.after,
        limit: request.query.limit,
        types: request.query.type?.split(',').map((type) => type.trim()).filter(Boolean),
      });
      return {
        events: events.map((event) => ({ seq: event.seq, type: event.type, subject: event.subject, payload: event.payload, occurred_at: event.occurredAt.toISOString() })),
        next_after: events.length > 0 ? events[events.length - 1].seq : (request.query.after ?? 0),
      };
    },
  );
};
