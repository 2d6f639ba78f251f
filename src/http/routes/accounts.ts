import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { ACCOUNT_LABELS, type AccountView } from '../../graph/accounts.ts';

const accountParams = z.object({ id: z.string().min(1).max(200) });

export function accountJson(account: AccountView) {
  return {
    id: account.id,
    created_at: account.createdAt?.toISOString() ?? null,
    deleted_at: account.deletedAt?.toISOString() ?? null,
    deletion_reason: account.deletionReason,
    minor: account.minor,
    minor_basis: account.minorBasis,
    verified: account.verified,
    label: account.label,
    label_source: account.labelSource,
    network_id: account.networkId,
    risk: account.risk,
    evasion_of: account.evasionOf,
    first_seen: account.firstSeen.toISOString(),
    interactions: account.interactions,
    features: account.features,
  };
}

export const accountRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['accounts'];

  app.get('/accounts/:id', { schema: { tags, summary: 'What Bulwark knows of an account: attributes, label, network, risk', params: accountParams } }, async (request) =>
    accountJson(await bulwark.accounts.get(request.params.id)),
  );

  app.post(
    '/accounts/:id/labels',
    {
      schema: {
        tags,
        summary: 'Label an account confirmed, suspected or cleared (a reviewer’s or operator’s finding); seeds network detection',
        params: accountParams,
        body: z.object({
          label: z.enum(ACCOUNT_LABELS as [string, ...string[]]),
          source: z.string().regex(/^[a-z0-9_.:-]{1,64}$/).default('operator'),
          note: z.string().max(2000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { label, source, note } = request.body;
      await bulwark.accounts.label(request.params.id, label as (typeof ACCOUNT_LABELS)[number], source, note ? { note, api_key: request.apiKey?.name } : { api_key: request.apiKey?.name });
      await bulwark.guardrail.refresh();
      return reply.code(201).send(accountJson(await bulwark.accounts.get(request.params.id)));
    },
  );
};
