import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { appealInputSchema } from '../../legal/appeals.ts';
import { authorityOrderSchema } from '../../legal/authority-orders.ts';
import { noticeInputSchema } from '../../legal/notices.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const page = z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;
const tags = ['dsa'];

/**
 * The platform's side of the DSA duties: it relays notices and appeals it receives, registers
 * trusted flaggers and records authorities' orders. Notifiers without an account use the
 * public form at /notices instead.
 */
export const legalRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/notices',
    {
      schema: {
        tags,
        summary: 'A notice of illegal content (DSA Art. 16); an incomplete one is refused with every missing element named',
        // Completeness is checked by the service, so that all missing elements are named together.
        body: z.record(z.string(), z.unknown()).describe(`Fields: ${Object.keys(noticeInputSchema.shape).join(', ')}`),
      },
    },
    async (request, reply) => {
      const { notice, acknowledgement } = await bulwark.notices.submit(request.body, 'api');
      return reply.code(201).send({ ...notice, acknowledgement });
    },
  );

  app.get('/notices', { schema: { tags, summary: 'Notices, oldest first; unresolved=true for those waiting for a subject', querystring: page.extend({ unresolved: z.enum(['true', 'false']).optional() }) } }, async (request) => ({
    notices: await bulwark.notices.list({ unresolved: request.query.unresolved === 'true', afterId: request.query.after, limit: request.query.limit }),
  }));

  app.get('/notices/:id', { schema: { tags, summary: 'A notice with its case and decision', params: idParams } }, async (request) => bulwark.notices.get(request.params.id));

  app.post(
    '/notices/:id/subject',
    { schema: { tags, summary: 'Say what an unresolved notice points at; its case opens', params: idParams, body: z.strictObject({ kind: z.enum(['content', 'account']), id: z.string().min(1).max(200) }) } },
    async (request) => bulwark.notices.resolve(request.params.id, request.body, actor(request)),
  );

  app.get('/trusted-flaggers', { schema: { tags, summary: 'Registered trusted flaggers (DSA Art. 22)' } }, async () => ({
    trusted_flaggers: (await bulwark.trustedFlaggers.list()).map((f) => ({ name: f.name, awarded_by: f.awardedBy, reference: f.reference, created_at: f.createdAt.toISOString(), revoked_at: f.revokedAt?.toISOString() ?? null })),
  }));

  app.post(
    '/trusted-flaggers',
    { schema: { tags, summary: 'Register a trusted flagger', body: z.strictObject({ name: z.string().min(1).max(64), awarded_by: z.string().min(1).max(200), reference: z.string().max(500).optional() }) } },
    async (request, reply) => {
      const flagger = await bulwark.trustedFlaggers.register({ name: request.body.name, awardedBy: request.body.awarded_by, reference: request.body.reference }, actor(request));
      return reply.code(201).send({ name: flagger.name, awarded_by: flagger.awardedBy, reference: flagger.reference, created_at: flagger.createdAt.toISOString() });
    },
  );

  app.delete('/trusted-flaggers/:name', { schema: { tags, summary: 'Revoke a trusted flagger’s status', params: z.object({ name: z.string().min(1).max(64) }) } }, async (request, reply) => {
    await bulwark.trustedFlaggers.revoke(request.params.name, actor(request));
    return reply.code(204).send();
  });

  app.post('/appeals', { schema: { tags, summary: 'An appeal against a decision by the user it restricted, within six months (DSA Art. 20)', body: appealInputSchema } }, async (request, reply) =>
    reply.code(201).send(await bulwark.appeals.submit(request.body)),
  );

  app.get('/appeals', { schema: { tags, summary: 'Appeals, oldest first', querystring: page.extend({ status: z.enum(['pending', 'upheld', 'reversed']).optional() }) } }, async (request) => ({
    appeals: await bulwark.appeals.list({ status: request.query.status, afterId: request.query.after, limit: request.query.limit }),
  }));

  app.get('/appeals/:id', { schema: { tags, summary: 'An appeal and its outcome', params: idParams } }, async (request) => bulwark.appeals.get(request.params.id));

  app.post('/authority-orders', { schema: { tags, summary: 'Record an order from a judicial or administrative authority (DSA Art. 9, 10)', body: authorityOrderSchema } }, async (request, reply) =>
    reply.code(201).send(await bulwark.authorityOrders.record(request.body, actor(request))),
  );

  app.get('/authority-orders', { schema: { tags, summary: 'Authority orders, oldest first', querystring: page } }, async (request) => ({
    authority_orders: await bulwark.authorityOrders.list({ afterId: request.query.after, limit: request.query.limit }),
  }));

  app.post('/authority-orders/:id/effect', { schema: { tags, summary: 'Record that an order was given effect', params: idParams } }, async (request) =>
    bulwark.authorityOrders.giveEffect(request.params.id, actor(request)),
  );
};
