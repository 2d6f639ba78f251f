import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import type { BankIndexStatus } from '../../match/bank-sync.ts';

const bankIndexStatus = z.object({
  bank: z.string(),
  enabled: z.boolean(),
  revision: z.number().int().nullable().describe('The bank revision the in-memory indexes reflect; null until the first load completes'),
  store_revision: z.number().int().describe("The bank's revision in the store, as read for this answer"),
  revisions_behind: z.number().int().describe('store_revision minus revision'),
  entries_behind: z.number().int().nullable().describe('Entries added or removed by the revisions not yet applied; null when the change log cannot say'),
  catching_up: z.boolean().describe('Changes are being read from the store and prepared; queries meanwhile use the last complete index'),
  rebuilding: z.boolean().describe('A new copy of the bank is loading, or an index is merging its pieces, in the background'),
  error: z.string().optional().describe('Why the last catch-up or upkeep failed; it is retried on the next change or look'),
  indexes: z.array(z.object({ signal_type: z.string(), size: z.number().int(), rebuilding: z.boolean() })),
});

const statusJson = (bank: BankIndexStatus): z.infer<typeof bankIndexStatus> => ({
  bank: bank.bank,
  enabled: bank.enabled,
  revision: bank.revision,
  store_revision: bank.storeRevision,
  revisions_behind: bank.revisionsBehind,
  entries_behind: bank.entriesBehind,
  catching_up: bank.catchingUp,
  rebuilding: bank.rebuilding,
  ...(bank.error ? { error: bank.error } : {}),
  indexes: bank.indexes.map((index) => ({ signal_type: index.signalType, size: index.size, rebuilding: index.rebuilding })),
});

export const indexStatusRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/index/status',
    {
      schema: {
        tags: ['match'],
        summary: "Each bank's in-memory index: size, revision applied and lag behind the store",
        description:
          'Reads the banks’ revisions from the store for this answer (and starts catching up any bank behind, without waiting for it). ' +
          'Queries never wait for an index to change: they use the last complete index while changes are applied in the background.',
        response: { 200: z.object({ banks: z.array(bankIndexStatus) }) },
      },
    },
    async () => {
      await bulwark.matcher.checkStore();
      return { banks: bulwark.matcher.status().map(statusJson) };
    },
  );
};
