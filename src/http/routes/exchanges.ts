import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { exchangeItemJson, exchangeJson, fetchRunJson } from '../exchange-json.ts';

const exchangeName = z.object({ name: z.string().min(1).max(63) });
const config = z.record(z.string(), z.unknown()).describe("The type's configuration (docs/exchanges.md); never credentials, which come from the environment");

/** Signal exchanges: configure them per bank, read their fetch status, fetch now. */
export const exchangeRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['exchanges'];

  app.get('/exchanges', { schema: { tags, summary: 'List exchanges with their fetch status' } }, async () => ({
    exchanges: (await bulwark.exchanges.list()).map(exchangeJson),
  }));

  app.post(
    '/exchanges',
    {
      schema: {
        tags,
        summary: 'Add an exchange feeding a bank (created if absent); its first fetch is due at once',
        description: `type is one of the exchange types this server knows (${bulwark.exchanges.types.names.join(', ')}).`,
        body: z.strictObject({ name: z.string(), type: z.string().min(1).max(63), bank: z.string().min(1).max(63), config: config.optional(), enabled: z.boolean().optional() }),
      },
    },
    async (request, reply) => reply.code(201).send(exchangeJson(await bulwark.exchanges.add(request.body))),
  );

  app.get(
    '/exchanges/:name',
    { schema: { tags, summary: 'One exchange: last success, items fetched, checkpoint time, last error, skipped items, feedback counts', params: exchangeName } },
    async (request) => exchangeJson(await bulwark.exchanges.status(request.params.name)),
  );

  app.patch(
    '/exchanges/:name',
    {
      schema: {
        tags,
        summary: 'Switch an exchange on or off or replace its configuration; either lifts a stop and makes it due at once',
        params: exchangeName,
        body: z.strictObject({ enabled: z.boolean().optional(), config: config.optional() }),
      },
    },
    async (request) => exchangeJson(await bulwark.exchanges.update(request.params.name, request.body)),
  );

  app.delete(
    '/exchanges/:name',
    { schema: { tags, summary: 'Remove an exchange; the entries only it held leave its bank', params: exchangeName } },
    async (request) => {
      const { entriesRemoved } = await bulwark.exchanges.remove(request.params.name);
      return { removed: request.params.name, entries_removed: entriesRemoved };
    },
  );

  app.post(
    '/exchanges/:name/fetch',
    { schema: { tags, summary: 'Fetch now, whatever the schedule or a stop; answers when the run ends', params: exchangeName } },
    async (request) => fetchRunJson(await bulwark.exchanges.fetchNow(request.params.name)),
  );

  app.get(
    '/exchanges/:name/items/:key',
    {
      schema: {
        tags,
        summary: 'One item as the source last sent it, the bank entries it holds, and the feedback given on it',
        params: exchangeName.extend({ key: z.string().min(1).max(1024) }),
      },
    },
    async (request) => exchangeItemJson(await bulwark.exchanges.item(request.params.name, request.params.key)),
  );
};
