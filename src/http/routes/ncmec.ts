import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BulwarkError } from '../../errors.ts';
import { parseBound } from '../../reporting/dsa/transparency-report.ts';
import { NCMEC_REPORT_STATUSES, type NcmecReportService } from '../../reporting/ncmec/report-service.ts';
import type { Reviewer } from '../../reviewers/reviewer-service.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;

const DAY_MS = 86_400_000;

/**
 * CyberTipline reports: file one from a decided case, follow its delivery and quality, have a
 * lead confirm one held below the quality floor, send it again, and the figures per period.
 * Register under /v1: `ncmecRoutes(bulwark.ncmec, (name) => bulwark.reviewers.get(name))`.
 */
export const ncmecRoutes = (ncmec: NcmecReportService, reviewer: (username: string) => Promise<Reviewer>): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/ncmec/reports',
    {
      schema: {
        tags: ['ncmec'],
        summary:
          'File a decided case: its material joins the reported account\'s unsent report or opens one (a network case: one per member, all in `reports`). An invalid one is recorded with its reasons and never sent. 201 when a report was created, 200 otherwise',
        body: z.strictObject({ case_id: z.number().int().positive(), draft: z.boolean().optional() }),
      },
    },
    async (request, reply) => {
      const { report, created, reports } = await ncmec.createFromCase(request.body.case_id, actor(request), { draft: request.body.draft });
      return reply.code(created ? 201 : 200).send({ ...report, reports });
    },
  );

  app.get(
    '/ncmec/reports',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'CyberTipline reports, oldest first, paged by after; each with its completeness and what it lacks',
        querystring: z.object({
          status: z.enum(NCMEC_REPORT_STATUSES).optional(),
          case: z.coerce.number().int().positive().optional(),
          account: z.string().min(1).max(200).optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => ({ reports: await ncmec.list({ status: request.query.status, caseId: request.query.case, accountId: request.query.account, afterId: request.query.after, limit: request.query.limit }) }),
  );

  app.get(
    '/ncmec/reports/:id',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'A report: status, completeness and what is missing, history, NCMEC report id, attempts, last error; the XML only with ?include=xml',
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

  app.post(
    '/ncmec/reports/:id/confirm',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'A lead confirms that a report held below the quality floor may be sent as it is (403 unless confirmed_by names an active lead or admin)',
        params: idParams,
        body: z.strictObject({ confirmed_by: z.string().min(1).max(100) }),
      },
    },
    async (request) => {
      const lead = await reviewer(request.body.confirmed_by);
      if (lead.disabledAt) throw new BulwarkError('forbidden', `reviewer ${lead.username} is disabled`);
      return ncmec.confirm(request.params.id, { username: lead.username, role: lead.role });
    },
  );

  app.get(
    '/ncmec/stats',
    {
      schema: {
        tags: ['ncmec'],
        summary: 'For [from, to) (ISO 8601 with an offset; default the 30 days before now): reports sent, their median completeness, median time from decision to submission, retractions',
        querystring: z.object({ from: z.string().min(1).max(40).optional(), to: z.string().min(1).max(40).optional() }),
      },
    },
    async (request) => {
      const to = request.query.to ? parseBound(request.query.to, 'to') : new Date();
      const from = request.query.from ? parseBound(request.query.from, 'from') : new Date(to.getTime() - 30 * DAY_MS);
      return ncmec.figures(from, to);
    },
  );
};
