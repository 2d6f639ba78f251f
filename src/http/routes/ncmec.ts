import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NCMEC_REPORT_STATUSES, type NcmecReportService } from '../../reporting/ncmec/report-service.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;

/**
 * CyberTipline reports: file one from a decided case, follow its delivery, send it again.
 * Register under /v1 with the service on the Bulwark object: `ncmecRoutes(bulwark.ncmec)`.
 */
export const ncmecRoutes = (ncmec: NcmecReportService): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/ncmec/reports',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'Build a CyberTipline report from a decided case; an invalid one is recorded with its reasons and never sent. 201 when created, 200 when the case already has one',
        body: z.strictObject({ case_id: z.number().int().positive(), draft: z.boolean().optional() }),
      },
    },
    async (request, reply) => {
      const { report, created } = await ncmec.createFromCase(request.body.case_id, actor(request), { draft: request.body.draft });
      return reply.code(created ? 201 : 200).send(report);
    },
  );

  app.get(
    '/ncmec/reports',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'CyberTipline reports, oldest first, paged by after',
        querystring: z.object({
          status: z.enum(NCMEC_REPORT_STATUSES).optional(),
          case: z.coerce.number().int().positive().optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => ({ reports: await ncmec.list({ status: request.query.status, caseId: request.query.case, afterId: request.query.after, limit: request.query.limit }) }),
  );

  app.get(
    '/ncmec/reports/:id',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'A report: status, NCMEC report id, attempts, last error; the XML only with ?include=xml',
        params: idParams,
        querystring: z.object({ include: z.enum(['xml']).optional() }),
      },
    },
    async (request) => ncmec.get(request.params.id, { includeXml: request.query.include === 'xml' }),
  );

  app.get(
    '/ncmec/reports/:id/history',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'What happened to a report, oldest first: created, schema failures, the platform’s account details supplied or not (counts only), submitted',
        params: idParams,
      },
    },
    async (request) => ({ history: await ncmec.history(request.params.id) }),
  );

  app.post(
    '/ncmec/reports/:id/retry',
    { schema: { tags: ['ncmec'], summary: 'Send a report again now (an invalid one is rebuilt from its case first)', params: idParams } },
    async (request) => ncmec.retry(request.params.id, actor(request)),
  );
};
