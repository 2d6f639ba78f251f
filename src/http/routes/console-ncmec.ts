import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { BulwarkError } from '../../errors.ts';
import { NCMEC_REPORT_STATUSES, type NcmecReportView } from '../../reporting/ncmec/report-service.ts';

/** What the console shows of a report: its state and quality; never the document itself. */
const summary = (report: NcmecReportView) => ({
  id: report.id,
  account_id: report.account_id,
  case_ids: report.case_ids,
  status: report.status,
  files: report.files.length,
  files_viewed: report.files.filter((file) => file.viewed_by_esp).length,
  quality: { score: report.quality.score, floor: report.quality.floor, missing: report.quality.missing },
  needs_confirmation: report.needs_confirmation,
  confirmed_by: report.confirmed_by,
  hold_until: report.hold_until,
  ncmec_report_id: report.ncmec_report_id,
  created_at: report.created_at,
});

/**
 * CyberTipline reports in the review console, for leads: each report's completeness and what
 * it lacks, and the confirmation that sends one held below the quality floor. Registered inside
 * the console API, so its session and CSRF checks apply.
 */
export const consoleNcmecRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const schema = { hide: true };
  const lead = (request: FastifyRequest) => {
    const reviewer = request.session!.reviewer;
    if (reviewer.role === 'reviewer') throw new BulwarkError('forbidden', 'reports to NCMEC are for leads and admins');
    return reviewer;
  };

  app.get(
    '/ncmec/reports',
    { schema: { ...schema, querystring: z.object({ status: z.enum(NCMEC_REPORT_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) } },
    async (request) => {
      lead(request);
      // Newest first: the page shows what needs attention now.
      const reports = await bulwark.ncmec.list({ status: request.query.status, limit: request.query.limit, newestFirst: true });
      return { reports: reports.map(summary) };
    },
  );

  app.post('/ncmec/reports/:id/confirm', { schema: { ...schema, params: z.object({ id: z.coerce.number().int().positive() }) } }, async (request) => {
    const reviewer = lead(request);
    return summary(await bulwark.ncmec.confirm(request.params.id, { username: reviewer.username, role: reviewer.role }));
  });
};
