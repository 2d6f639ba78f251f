import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import type { RetroactiveBankStatus } from '../../match/retroactive/retroactive-matcher.ts';

const bankStatus = z.object({
  bank: z.string(),
  enabled: z.boolean().describe('Disabled banks wait: their new entries are matched once the bank is enabled again'),
  store_revision: z.number().int().describe("The bank's revision in the store"),
  revision: z.number().int().nullable().describe('Every revision up to this one has been matched against stored content; null before the stage first looked at the bank'),
  revisions_behind: z.number().int(),
  entries_behind: z.number().int().describe('Entries added or removed by the revisions not yet matched'),
  job: z
    .object({
      to_revision: z.number().int(),
      window_start: z.string().describe('Content received before this is not matched'),
      phase: z.string().describe("'exact' (exact entries looked up by index) or 'scan:<signal type>' (stored signals streamed through an index of the new entries)"),
      position: z.number().int().describe('Exact phase: entry ids up to this are done; scan phase: stored signal ids up to this are done'),
      entries: z.number().int().describe('New entries the job matches'),
    })
    .nullable(),
  entries_done: z.number().int().describe('Entries matched against stored content so far'),
  content_scanned: z.number().int().describe('Stored content signals compared so far'),
  matches: z.number().int().describe('Matches emitted as content.matched with retroactive: true'),
});

const statusJson = (status: RetroactiveBankStatus): z.infer<typeof bankStatus> => ({
  bank: status.bank,
  enabled: status.enabled,
  store_revision: status.storeRevision,
  revision: status.revision,
  revisions_behind: status.revisionsBehind,
  entries_behind: status.entriesBehind,
  job: status.job && { to_revision: status.job.to, window_start: status.job.cutoff.toISOString(), phase: status.job.phase, position: status.job.after, entries: status.job.entries },
  entries_done: status.entriesDone,
  content_scanned: status.contentScanned,
  matches: status.matches,
});

export const retroactiveRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/retroactive/status',
    {
      schema: {
        tags: ['match'],
        summary: "Retroactive matching: how far each bank's new entries have been matched against stored content",
        description: 'New bank entries are matched in the background against content received in the window (BULWARK_RETROACTIVE_DAYS, default 90); see docs/retroactive.md.',
        response: {
          200: z.object({ window_days: z.number(), last_error: z.string().optional(), banks: z.array(bankStatus) }),
        },
      },
    },
    async () => ({
      window_days: bulwark.retroactive.windowDays,
      ...(bulwark.retroactive.lastError ? { last_error: bulwark.retroactive.lastError } : {}),
      banks: (await bulwark.retroactive.status()).map(statusJson),
    }),
  );
};
