import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import type { Distributed } from '../../distributed/runtime.ts';
import { platformEventSchema } from '../../ingest/platform-events.ts';
import { invalid } from '../../errors.ts';
import { formatPosition, OUTBOX_START, type OutboxPosition, parsePosition } from '../../events/event-log.ts';

export const MAX_EVENTS_PER_BATCH = 10_000;

export const eventRoutes = (bulwark: Bulwark, distributed?: Distributed): FastifyPluginAsync => async (plugin) => {
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
        summary: 'Read Bulwark’s own events (matches, labels, networks) in outbox order; resume from next_after',
        description:
          'Events come in the order no later commit can fill in behind a reader: by writing transaction, then sequence. ' +
          '`after` is the `next_after` (or an event’s `position`) of an earlier page; a plain sequence number resumes after that event.',
        querystring: z.object({
          after: z
            .string()
            .regex(/^\d{1,16}$|^\d{1,20}-\d{1,16}$/, 'a position such as 1234-56 (next_after of an earlier page) or an event’s seq')
            .optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          type: z.string().optional().describe('Comma-separated event types'),
        }),
      },
    },
    async (request) => {
      const after = await outboxPosition(bulwark, request.query.after);
      const page = await bulwark.events.readPage({
        after,
        limit: request.query.limit,
        types: request.query.type?.split(',').map((type) => type.trim()).filter(Boolean),
      });
      return {
        events: page.events.map((event) => ({
          seq: event.seq,
          position: formatPosition(event.position!),
          type: event.type,
          subject: event.subject,
          payload: event.payload,
          occurred_at: event.occurredAt.toISOString(),
        })),
        next_after: formatPosition(page.next),
      };
    },
  );

  app.get(
    '/outbox/status',
    {
      schema: {
        tags: ['events'],
        summary:
          'Each pipeline stage reading the outbox in this process: its position and how many events it has not handled yet. With the pipeline on JetStream, `queued` is the messages (each of one or more events) waiting for the stage in its work queue, added to `behind`.',
      },
    },
    async () => {
      const consumers: { name: string; position: string; behind: number; queued?: number }[] = (await bulwark.events.status()).map((consumer) => ({
        name: consumer.name,
        position: formatPosition(consumer.position),
        behind: consumer.behind,
      }));
      const queued = await distributed?.pipelineBacklog().catch(() => undefined);
      if (queued) {
        for (const consumer of consumers) {
          const waiting = queued.get(consumer.name);
          if (waiting === undefined) continue;
          // The relay moves a stage's position as it hands events over: what the stage has not handled is both.
          consumer.queued = waiting;
          consumer.behind += waiting;
        }
        for (const [name, waiting] of queued) if (!consumers.some((consumer) => consumer.name === name)) consumers.push({ name, position: '', behind: waiting, queued: waiting });
      }
      return { consumers };
    },
  );
};

/** A cursor from the query: a position as next_after gives it, or a plain seq (the event's own position). */
async function outboxPosition(bulwark: Bulwark, after: string | undefined): Promise<OutboxPosition> {
  if (!after) return OUTBOX_START;
  const parsed = parsePosition(after);
  if (parsed) return parsed;
  const seq = Number(after);
  if (seq === 0) return OUTBOX_START;
  const position = await bulwark.events.positionOf(seq);
  if (!position) throw invalid(`no event has seq ${seq}; resume from the next_after of an earlier page`);
  return position;
}
