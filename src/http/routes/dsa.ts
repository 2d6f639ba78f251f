import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STATEMENT_STATUSES, type StatementService } from '../../reporting/dsa/statement-service.ts';
import { invalid } from '../../errors.ts';
import { parseBound } from '../../reporting/dsa/transparency-report.ts';
import { TEMPLATE_PART_NUMBERS } from '../../reporting/dsa/transparency-template-parts.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });

/** Statements of reasons (DSA Art. 17) and the transparency report (Art. 15 / 24). */
export const dsaRoutes = (statements: StatementService): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/dsa/statements',
    {
      schema: {
        tags: ['dsa'],
        summary: 'Statements of reasons, oldest first, paged by after',
        querystring: z.object({
          status: z.enum(STATEMENT_STATUSES).optional(),
          decision_id: z.coerce.number().int().positive().optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      return { statements: await statements.list({ status: q.status, decisionId: q.decision_id, afterId: q.after, limit: q.limit }) };
    },
  );

  app.get('/dsa/statements/:id', { schema: { tags: ['dsa'], summary: 'A statement with exactly what is sent to the database', params: idParams } }, async (request) =>
    statements.get(request.params.id),
  );

  app.post('/dsa/statements/:id/retry', { schema: { tags: ['dsa'], summary: 'Check again and send a statement at the next submission', params: idParams } }, async (request) => {
    const statement = await statements.retry(request.params.id);
    void statements.submitDue().catch(() => undefined);
    return statement;
  });

  app.get(
    '/dsa/transparency-report',
    {
      schema: {
        tags: ['dsa'],
        summary: 'Transparency report for [from, to): ISO 8601 times with an offset; format=template with part=N gives part N of the Annex I template as the Commission\'s CSV',
        querystring: z.object({
          from: z.string().min(1).max(40),
          to: z.string().min(1).max(40),
          format: z.enum(['json', 'csv', 'html', 'template']).default('json'),
          part: z.coerce.number().int().optional(),
        }),
      },
    },
    async (request, reply) => {
      const { format, part } = request.query;
      if (format === 'template' && !TEMPLATE_PART_NUMBERS.some((number) => number === part)) {
        throw invalid(`format=template needs part=N, one of ${TEMPLATE_PART_NUMBERS.join(', ')} (parts 2 and 11 are the provider's own text)`, { part });
      }
      const report = await statements.transparencyReport({ from: parseBound(request.query.from, 'from'), to: parseBound(request.query.to, 'to') });
      if (format === 'template') {
        const file = report.template.find((candidate) => candidate.number === part)!;
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file.file_name}"`).send(file.csv);
      }
      if (request.query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(report.csv);
      if (request.query.format === 'html') return reply.type('text/html; charset=utf-8').send(report.html);
      return report.figures;
    },
  );
};
