import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { platformEventSchema } from '../../ingest/platform-events.ts';

export const MAX_EVENTS_PER_BATCH = 10_000;

export const eventRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Send a batch of platform events (interactions, attributes, identifiers, impressions)',
        description:
          'A batch is applied in one transaction: if any event is invalid, none is applied and every problem is listed with its index. ' +
          'An event whose event_id was seen before is counted as a duplicate and not applied again.',
        body: z.object({ events: z.array(platformEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }),
      },
    },
    async (request, reply) => {
      const result = await bulwark.platformEvents.apply(request.body.events);
      return reply.code(202).send(result);
    },
  );

  app.get(
    '/outbox',
    {
      schema: {
        tags: ['events'],
        summary: 'Read Bulwark’s own events (matches, labels, networks) after a sequence number; resume from next_after',
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
