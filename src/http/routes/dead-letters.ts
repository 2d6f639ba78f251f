import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Distributed } from '../../distributed/runtime.ts';
import type { DeadLetter, DeadLetters } from '../../distributed/dead-letters.ts';
import { conflict, RetryLaterError } from '../../errors.ts';

const NOT_CONFIGURED = 'NATS is not configured on this server (--nats-url or BULWARK_NATS_URL): platform events arrive over HTTP only, so there are no dead letters';

const letterJson = (letter: DeadLetter) => ({
  seq: letter.seq,
  subject: letter.subject,
  error: letter.error,
  problems: letter.problems,
  deliveries: letter.deliveries,
  dead_at: letter.deadAt,
  bytes: letter.bytes,
  event_ids: letter.eventIds,
});

/**
 * Platform-event messages from JetStream that no worker could apply, with the reason. A
 * retry publishes one to its original subject again (after fixing what failed, e.g. a term
 * list or the database); listings never include the events' content.
 */
export const deadLetterRoutes = (distributed: Distributed | undefined): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  // Without NATS no platform event arrives through JetStream, so none can be a dead letter:
  // that is the server's configuration, not a fault, and retrying later would not change it.
  const deadLetters = async (): Promise<DeadLetters> => {
    if (!distributed) throw conflict(NOT_CONFIGURED);
    if (!distributed.link.connected) throw new RetryLaterError(`NATS is ${distributed.link.status().state}; dead letters are readable once it is connected`, 5);
    return distributed.deadLetters;
  };

  app.get(
    '/dead-letters',
    {
      schema: {
        tags: ['events'],
        summary: 'Platform-event messages from JetStream that could not be applied, with the error',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      },
    },
    async (request) => {
      if (!distributed) return { dead_letters: [], total: 0, note: NOT_CONFIGURED };
      const { deadLetters: letters, total } = await (await deadLetters()).list(request.query.limit);
      return { dead_letters: letters.map(letterJson), total };
    },
  );

  app.post(
    '/dead-letters/retry',
    {
      schema: {
        tags: ['events'],
        summary: 'Publish dead letters to their original subject again: those named by seq, or all',
        body: z.union([z.object({ seqs: z.array(z.number().int().min(1)).min(1).max(1000) }), z.object({ all: z.literal(true) })]),
      },
    },
    async (request) => {
      const letters = await deadLetters();
      if ('all' in request.body) return { retried: await letters.retryAll() };
      const retried = [];
      for (const seq of request.body.seqs) retried.push(await letters.retry(seq));
      return { retried };
    },
  );
};
