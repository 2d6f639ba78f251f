import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import type { Candidate } from '../../guardrails/recommendation-guardrail.ts';

const id = z.string().min(1).max(200);
export const MAX_CANDIDATES = 5000;

export const guardrailRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['guardrails'];

  app.post(
    '/guardrails/recommendations',
    {
      schema: {
        tags,
        summary: 'Filter the accounts or content a recommender is about to show a viewer',
        description:
          'Returns the candidates that may be shown, in the order given, and each removed candidate with every reason. ' +
          'Answers from memory; account standing is refreshed from the store in the background.',
        body: z.object({
          viewer: id,
          surface: z.string().max(64).optional(),
          candidates: z.array(z.object({ account_id: id, content_id: id.optional() })).max(MAX_CANDIDATES),
        }),
      },
    },
    async (request) => {
      const candidates: Candidate[] = request.body.candidates.map((c) => (c.content_id === undefined ? { accountId: c.account_id } : { accountId: c.account_id, contentId: c.content_id }));
      const decision = bulwark.guardrail.decide(request.body.viewer, candidates);
      const json = (c: Candidate) => (c.contentId === undefined ? { account_id: c.accountId } : { account_id: c.accountId, content_id: c.contentId });
      return {
        viewer: request.body.viewer,
        allowed: decision.allowed.map(json),
        removed: decision.removed.map((removed) => ({ ...json(removed.candidate), reasons: removed.reasons })),
      };
    },
  );

  app.post(
    '/guardrails/search',
    {
      schema: {
        tags,
        summary: 'Decide whether a search query is allowed, shown behind a help interstitial, or blocked',
        description: 'A blocked query has no "see results anyway": show_results is false and there is no override.',
        body: z.object({ query: z.string().max(1000), viewer: id.optional() }),
      },
    },
    async (request) => {
      const decision = await bulwark.searchGuardrail.decide(request.body.query);
      return { outcome: decision.outcome, show_results: decision.showResults, lists: decision.lists, ...(decision.message ? { message: decision.message } : {}) };
    },
  );
};
