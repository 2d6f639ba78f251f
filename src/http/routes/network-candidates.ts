import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { SEVERITIES } from '../../cases/types.ts';
import { DISCOVERY_DEFAULTS } from '../../graph/seedless/discovery-options.ts';
import type { StoredCandidate } from '../../graph/seedless/discovery-service.ts';

export const candidateJson = (candidate: Omit<StoredCandidate, 'members'> & { members?: StoredCandidate['members'] }) => ({
  id: candidate.id,
  run_id: candidate.runId,
  status: candidate.status,
  score: candidate.score,
  created_at: candidate.createdAt.toISOString(),
  summary: candidate.summary,
  ...(candidate.members ? { members: candidate.members } : {}),
});

const idParams = z.object({ id: z.coerce.number().int().min(1) });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;

/** Seedless discovery over HTTP: run it, read its candidates, and open a review case for one. */
export const networkCandidateRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['networks'];

  app.post(
    '/discovery/runs',
    {
      schema: {
        tags,
        summary: 'Run seedless discovery now: candidate networks no one has confirmed, with their evidence (labels nobody)',
        body: z
          .strictObject({
            member_threshold: z.number().positive().max(100).optional().describe(`Evidence units an account needs to be a member on its own (default ${DISCOVERY_DEFAULTS.memberThreshold})`),
            min_candidate_size: z.number().int().min(2).max(100_000).optional().describe(`Smallest candidate reported (default ${DISCOVERY_DEFAULTS.minCandidateSize})`),
            candidate_limit: z.number().int().min(1).max(10_000).optional().describe(`Most candidates kept (default ${DISCOVERY_DEFAULTS.candidateLimit})`),
            max_feature_accounts: z.number().int().min(2).optional().describe('Features used by more accounts link nothing (default max(500, 2% of accounts))'),
          })
          .default({}),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const summary = await bulwark.discovery.run({
        memberThreshold: body.member_threshold,
        minCandidateSize: body.min_candidate_size,
        candidateLimit: body.candidate_limit,
        maxFeatureAccounts: body.max_feature_accounts,
      });
      return reply.code(201).send(summary);
    },
  );

  app.get(
    '/networks/candidates',
    {
      schema: {
        tags,
        summary: 'Candidate networks of a discovery run (default the latest), best-evidenced first; candidates, not confirmed networks',
        querystring: z.object({
          run: z.coerce.number().int().min(1).optional(),
          status: z.enum(['candidate', 'suspected', 'dismissed']).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const { runId, candidates } = await bulwark.discovery.candidates({ runId: request.query.run, status: request.query.status, limit: request.query.limit });
      return { run_id: runId, candidates: candidates.map(candidateJson) };
    },
  );

  app.get('/networks/candidates/:id', { schema: { tags, summary: 'One candidate network with each member’s evidence', params: idParams } }, async (request) =>
    candidateJson(await bulwark.discovery.candidate(request.params.id)),
  );

  app.post(
    '/networks/candidates/:id/cases',
    {
      schema: {
        tags,
        summary: 'Open a review case for a candidate network (or add a reason to its open case in that queue)',
        params: idParams,
        body: z.strictObject({
          queue: z.string().min(1).max(64),
          severity: z.enum(SEVERITIES).optional(),
          priority: z.number().int().min(0).max(100).optional(),
        }),
      },
    },
    async (request, reply) => {
      const candidate = await bulwark.discovery.candidate(request.params.id);
      const opened = await bulwark.cases.open(
        {
          queue: request.body.queue,
          subject: { kind: 'network_candidate', id: String(candidate.id) },
          severity: request.body.severity,
          priority: request.body.priority,
          networkSize: candidate.members.length,
          minorInvolved: (candidate.summary.minorContacts ?? 0) > 0,
          reason: { rule: actor(request), summary: candidate.summary.text.slice(0, 1000) },
        },
        actor(request),
      );
      return reply.code(201).send(opened);
    },
  );
};
