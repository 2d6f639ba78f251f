import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import type { TermListSummary } from '../../terms/term-lists.ts';

const listParams = z.object({ name: z.string().min(1).max(64) });
const termListJson = (list: TermListSummary) => ({ name: list.name, action: list.action, term_count: list.termCount, revision: list.revision, updated_at: list.updatedAt.toISOString() });

export const termRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['terms'];

  app.get('/term-lists', { schema: { tags, summary: 'List the operator’s term lists (names, actions and sizes; terms are not listed)' } }, async () => ({
    term_lists: (await bulwark.terms.list()).map(termListJson),
  }));

  app.put(
    '/term-lists/:name',
    {
      schema: {
        tags,
        summary: 'Create a term list or replace all its terms',
        params: listParams,
        body: z.object({
          action: z.enum(['block', 'interstitial', 'signal']).describe('What a search for one of its terms gets; every match also becomes an account signal'),
          terms: z.array(z.object({ id: z.string().min(1).max(100), term: z.string().min(1).max(500), mode: z.enum(['word', 'substring']).optional() })).max(100_000),
        }),
      },
    },
    async (request) => termListJson(await bulwark.terms.replace(request.params.name, request.body.action, request.body.terms)),
  );

  app.delete('/term-lists/:name', { schema: { tags, summary: 'Delete a term list', params: listParams } }, async (request, reply) => {
    await bulwark.terms.remove(request.params.name);
    return reply.code(204).send();
  });
};
