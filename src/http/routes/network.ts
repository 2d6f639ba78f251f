import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoTimestamp } from '../../validation/edge.ts';
import type { Bulwark } from '../../app.ts';
import { renderAuditCsv } from '../../audit/audit-report-csv.ts';
import { renderAuditHtml } from '../../audit/audit-report-html.ts';
import { auditRecommendations } from '../../audit/recommendation-audit.ts';
import type { StoredNetwork } from '../../graph/detection-service.ts';

const runQuery = z.object({ run: z.coerce.number().int().min(1).optional().describe('Detection run id (default: the latest)') });

export const networkJson = (network: StoredNetwork) => ({
  id: network.id,
  run_id: network.runId,
  status: network.status,
  created_at: network.createdAt.toISOString(),
  summary: network.summary,
  members: network.members,
});

export const networkRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['networks'];

  app.post(
    '/detection/runs',
    {
      schema: {
        tags,
        summary: 'Run network detection now: seed expansion, networks, ban evasion',
        body: z
          .object({
            seeds: z.array(z.string().min(1).max(200)).max(10_000).optional().describe('Extra seed accounts for this run, besides labelled ones'),
            lead_limit: z.number().int().min(1).max(100_000).optional(),
            resolution: z.number().positive().max(100).optional(),
            min_network_size: z.number().int().min(2).max(10_000).optional(),
          })
          .default({}),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const summary = await bulwark.detection.run({
        seeds: body.seeds,
        leadLimit: body.lead_limit,
        resolution: body.resolution,
        minNetworkSize: body.min_network_size,
      });
      await bulwark.guardrail.refresh();
      return reply.code(201).send(summary);
    },
  );

  app.get('/detection/leads', { schema: { tags, summary: 'Ranked leads of a run, with the reasons behind each score', querystring: runQuery.extend({ limit: z.coerce.number().int().min(1).max(10_000).optional() }) } }, async (request) => {
    const { runId, calibration, leads } = await bulwark.detection.leads({ runId: request.query.run, limit: request.query.limit });
    return { run_id: runId, calibration, leads };
  });

  app.get('/detection/evasions', { schema: { tags, summary: 'Likely returns of removed accounts, with the evidence', querystring: runQuery } }, async (request) => ({
    evasions: await bulwark.detection.evasions({ runId: request.query.run }),
  }));

  app.get('/networks', { schema: { tags, summary: 'Networks found by a run, largest first', querystring: runQuery } }, async (request) => ({
    networks: (await bulwark.detection.networks({ runId: request.query.run })).map(networkJson),
  }));

  app.get('/networks/:id', { schema: { tags, summary: 'One network with its members and their roles', params: z.object({ id: z.coerce.number().int().min(1) }) } }, async (request) =>
    networkJson(await bulwark.detection.network(request.params.id)),
  );

  app.get(
    '/audit/recommendations',
    {
      schema: {
        tags: ['audit'],
        summary: 'How often the recommender linked suspects to each other and to minors, before and after the guardrail',
        querystring: z.object({ from: isoTimestamp().optional(), to: isoTimestamp().optional(), format: z.enum(['json', 'html', 'csv']).default('json') }),
      },
    },
    async (request, reply) => {
      const report = await auditRecommendations(bulwark.sql, bulwark.guardrail, {
        from: request.query.from ? new Date(request.query.from) : undefined,
        to: request.query.to ? new Date(request.query.to) : undefined,
      });
      if (request.query.format === 'html') return reply.type('text/html; charset=utf-8').send(renderAuditHtml(report));
      if (request.query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(renderAuditCsv(report));
      return report;
    },
  );
};
