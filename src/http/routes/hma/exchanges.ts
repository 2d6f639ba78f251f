import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BulwarkError, invalid, notFound } from '../../../errors.ts';
import { bulwarkBankName, hmaBankName } from './shapes.ts';

/**
 * What HMA's exchange routes use of Bulwark's exchange stage (ExchangeService,
 * src/exchange/exchange-service.ts), written as the shape it has so that these routes build
 * before that stage is merged and use it as is once it is.
 */
export interface HmaExchangeStatus {
  name: string;
  type: string;
  bank: string;
  enabled: boolean;
  config: Record<string, unknown>;
  lastSuccessAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  checkpointTime: Date | null;
  fullReadUnderway: boolean;
  itemsFetched: number;
  credentials: { variables: string[]; problem: string | null };
}

export interface HmaExchangeBackend {
  readonly types: { readonly names: string[]; get(name: string): { credentialVariables(exchangeName: string): string[] } };
  add(input: { name: string; type: string; bank: string; config?: Record<string, unknown>; enabled?: boolean }): Promise<HmaExchangeStatus>;
  list(): Promise<HmaExchangeStatus[]>;
  status(name: string): Promise<HmaExchangeStatus>;
  update(name: string, changes: { enabled?: boolean }): Promise<HmaExchangeStatus>;
  remove(name: string): Promise<{ entriesRemoved: number }>;
}

/** python-threatexchange's API names (SignalExchangeAPI.get_name) for the Bulwark types that have a counterpart. */
const HMA_API_NAMES: Record<string, string> = { threatexchange: 'fb_threatexchange', stopncii: 'stop_ncii' };
const hmaApiName = (type: string) => HMA_API_NAMES[type] ?? type;
const bulwarkType = (api: string) => Object.entries(HMA_API_NAMES).find(([, name]) => name === api)?.[0] ?? api;
const unix = (date: Date | null) => (date === null ? null : Math.floor(date.getTime() / 1000));

/** HMA's exchange config (a CollaborationConfigBase dumped as JSON): name, api, enabled and the type's own fields. */
const configJson = (exchange: HmaExchangeStatus) => ({ ...exchange.config, name: hmaBankName(exchange.name), api: hmaApiName(exchange.type), enabled: exchange.enabled });

const exchangeParams = z.object({ exchange_name: z.string().max(255) });
const apiParams = z.object({ api_name: z.string().max(100) });

export const hmaExchangeRoutes = (exchanges: HmaExchangeBackend): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['hma'];

  /** The exchange HMA names; HMA names an exchange after its bank. */
  const existing = async (hmaName: string): Promise<HmaExchangeStatus> => {
    try {
      return await exchanges.status(bulwarkBankName(hmaName));
    } catch (error) {
      if (error instanceof BulwarkError && (error.kind === 'not_found' || error.kind === 'invalid')) throw notFound(`Exchange '${hmaName}' not found`);
      throw error;
    }
  };
  const knownApi = (api: string): string => {
    const type = bulwarkType(api);
    if (!exchanges.types.names.includes(type)) throw invalid(`no such Exchange API '${api}'`);
    return type;
  };

  app.get('/c/exchanges/apis', { schema: { tags, summary: 'HMA: the exchange types this server can fetch from' } }, async () => exchanges.types.names.map(hmaApiName));

  const authStatus = async (api: string) => {
    const type = knownApi(api);
    const ofType = (await exchanges.list()).filter((exchange) => exchange.type === type);
    return {
      supports_authentification: exchanges.types.get(type).credentialVariables('EXCHANGE').length > 0,
      // Credentials are per exchange in Bulwark: set when every exchange of the type finds its own.
      has_set_authentification: ofType.length > 0 && ofType.every((exchange) => exchange.credentials.problem === null),
    };
  };
  app.get('/c/exchanges/api/:api_name', { schema: { tags, summary: 'HMA: whether the exchange type takes credentials and has them', params: apiParams } }, async (request) =>
    authStatus(request.params.api_name),
  );
  app.post('/c/exchanges/api/:api_name', { schema: { tags, summary: 'HMA: set credentials (refused: Bulwark reads them from the environment)', params: apiParams } }, async (request) => {
    const type = knownApi(request.params.api_name);
    const variables = exchanges.types.get(type).credentialVariables('NAME');
    throw invalid(
      `Bulwark reads exchange credentials only from the environment, never from a request: set ${variables.join(', ') || 'the variables of docs/hma.md'} (NAME is the exchange's name) and restart`,
    );
  });

  app.post(
    '/c/exchanges',
    {
      schema: {
        tags,
        summary: 'HMA: create an exchange feeding the bank of the same name',
        body: z.object({ bank: z.string().max(255).optional(), api: z.string().max(100).optional(), api_json: z.unknown().optional() }),
      },
    },
    async (request, reply) => {
      const { bank, api, api_json: apiJson = {} } = request.body;
      if (bank === undefined) throw invalid('bank is required');
      if (!/^[A-Z0-9_]+$/.test(bank)) throw invalid('Field `bank` must match /^[A-Z0-9_]+$/');
      if (typeof apiJson !== 'object' || apiJson === null || Array.isArray(apiJson)) throw invalid('Field `api_json` must be object');
      if (api === undefined) throw invalid('Field `api_type` is required');
      const type = bulwarkType(api);
      if (!exchanges.types.names.includes(type)) throw invalid(`No such exchange type '${api}'`);
      const { name: _name, api: _api, enabled, ...config } = apiJson as Record<string, unknown>;
      if (enabled !== undefined && typeof enabled !== 'boolean') throw invalid('Failed to parse `api_json` - enabled must be true or false');
      const name = bulwarkBankName(bank, { creating: true });
      try {
        await exchanges.add({ name, type, bank: name, config, ...(enabled !== undefined ? { enabled } : {}) });
      } catch (error) {
        if (error instanceof BulwarkError && error.kind === 'invalid') throw invalid(`Failed to parse \`api_json\` - ${error.message}`);
        throw error;
      }
      return reply.code(201).send({ message: 'Created successfully' });
    },
  );

  app.get('/c/exchanges', { schema: { tags, summary: 'HMA: the names of the configured exchanges' } }, async () => (await exchanges.list()).map((exchange) => hmaBankName(exchange.name)));

  app.get('/c/exchange/:exchange_name', { schema: { tags, summary: 'HMA: one exchange’s configuration', params: exchangeParams } }, async (request) =>
    configJson(await existing(request.params.exchange_name)),
  );

  app.get('/c/exchange/:exchange_name/status', { schema: { tags, summary: 'HMA: how fetching goes (FetchStatus)', params: exchangeParams } }, async (request) => {
    const exchange = await existing(request.params.exchange_name);
    return {
      checkpoint_ts: unix(exchange.checkpointTime),
      running_fetch_start_ts: null,
      last_fetch_complete_ts: unix(exchange.lastAttemptAt),
      last_fetch_succeeded: exchange.lastAttemptAt === null ? null : exchange.lastError === null,
      up_to_date: exchange.lastSuccessAt !== null && exchange.lastError === null && !exchange.fullReadUnderway,
      fetched_items: exchange.itemsFetched,
    };
  });

  app.put(
    '/c/exchange/:exchange_name',
    { schema: { tags, summary: 'HMA: switch fetching on or off', params: exchangeParams, body: z.object({ enabled: z.boolean().nullish() }) } },
    async (request) => {
      const exchange = await existing(request.params.exchange_name);
      const enabled = request.body.enabled;
      return configJson(enabled === undefined || enabled === null ? exchange : await exchanges.update(exchange.name, { enabled }));
    },
  );

  app.delete('/c/exchange/:exchange_name', { schema: { tags, summary: 'HMA: remove an exchange (and the entries only it brought)', params: exchangeParams } }, async (request) => {
    const exchange = await existing(request.params.exchange_name);
    await exchanges.remove(exchange.name);
    return { message: 'Exchange deleted' };
  });
};
