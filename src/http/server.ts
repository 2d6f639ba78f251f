import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Bulwark } from '../app.ts';
import type { ApiKeyInfo } from '../auth/api-keys.ts';
import { BulwarkError, RetryLaterError } from '../errors.ts';
import { assertStorable } from '../validation/edge.ts';
import { answerExpectContinue } from './expect-continue.ts';
import { problem, problemFromError, sendProblem } from './problem.ts';
import { withRequestLogSerializer } from './request-log.ts';
import { BULWARK_VERSION } from '../version.ts';
import { API_DOCS_PREFIX, registerApiDocs } from './routes/api-docs.ts';
import { landingRoutes } from './routes/landing.ts';
import { accountRoutes } from './routes/accounts.ts';
import { bankRoutes } from './routes/banks.ts';
import { contentRoutes } from './routes/content.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import type { Distributed } from '../distributed/runtime.ts';
import { healthBody } from '../distributed/worker-health.ts';
import { eventRoutes } from './routes/events.ts';
import { feedRoutes } from './routes/feeds.ts';
import { exchangeRoutes } from './routes/exchanges.ts';
import { guardrailRoutes } from './routes/guardrails.ts';
import { type HmaOptions, hmaOptionsFromEnv, hmaRoutes } from './routes/hma/index.ts';
import { indexStatusRoutes } from './routes/index-status.ts';
import { retroactiveRoutes } from './routes/retroactive.ts';
import { matchRoutes } from './routes/match.ts';
import { consoleApiRoutes, consolePages } from './routes/console.ts';
import { legalRoutes } from './routes/legal.ts';
import { noticeFormRoutes } from './routes/notice-form.ts';
import { dsaRoutes } from './routes/dsa.ts';
import { ncmecRoutes } from './routes/ncmec.ts';
import { preservationRoutes } from './routes/preservation.ts';
import { networkRoutes } from './routes/network.ts';
import { networkCandidateRoutes } from './routes/network-candidates.ts';
import { reviewRoutes } from './routes/review.ts';
import { termRoutes } from './routes/terms.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyInfo;
  }
}

export interface ServerOptions {
  /** Largest request body in bytes (uploads included). */
  bodyLimit?: number;
  logger?: boolean | object;
  /** The built review console (default console/dist). */
  consoleDir?: string;
  /**
   * Which peers' X-Forwarded-For (and -Proto, -Host) to believe for the client address that
   * logs and login lockouts use (fastify's trustProxy): false (the default) believes none, so
   * the address is the connection's; addresses or CIDR ranges of the proxies; a hop count; or
   * true for any peer, safe only when nothing but the proxy can reach the server.
   */
  trustProxy?: TrustProxy;
  /** The process's NATS link (--nats-url): its state shows in /healthz, and dead letters are read through it. */
  distributed?: Distributed;
  /** The HMA-compatible API (src/http/routes/hma/); default from BULWARK_HMA_* in the environment. */
  hma?: HmaOptions;
}

export type TrustProxy = boolean | number | string[];

const hops = (count: number) => (_address: string, hop: number) => hop < count;

/**
 * BULWARK_TRUST_PROXY: unset, empty, "false" or "0" trusts no proxy; "true" any peer; a whole
 * number that many hops; otherwise a comma-separated list of proxy addresses or CIDR ranges.
 */
export function trustProxyFromEnv(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false' || text === '0') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const list = text.split(',').map((entry) => entry.trim());
  const address = /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/;
  const bad = list.find((entry) => !address.test(entry));
  if (bad !== undefined) throw new Error(`BULWARK_TRUST_PROXY: ${JSON.stringify(bad)} is not an IP address or CIDR range (or use true, false or a hop count)`);
  return list;
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

// The notice form is public by law (DSA Art. 16): anyone may send a notice without an account.
// The landing page and the API reference show no data, so a browser reaches them without a key.
const PUBLIC_PATHS = new Set(['/', '/favicon.ico', '/healthz', '/openapi.json', '/notices']);
const isApiDocsPath = (path: string) => path === API_DOCS_PREFIX || path.startsWith(`${API_DOCS_PREFIX}/`);

export type App = FastifyInstance;

const isFeedPath = (path: string) => path === '/v1/feeds' || path.startsWith('/v1/feeds/');

export async function buildServer(bulwark: Bulwark, options: ServerOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    bodyLimit,
    // The client address (logs, login lockouts) comes from X-Forwarded-For only from trusted proxies.
    // A hop count is given as the function fastify makes of one: trust the nearest n hops.
    trustProxy: typeof options.trustProxy === 'number' ? hops(options.trustProxy) : (options.trustProxy ?? false),
    // Request logs leave out the values of sensitive query parameters (request-log.ts).
    logger: withRequestLogSerializer(options.logger),
    // Request ids let operators correlate logs without logging what was sent.
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { coerceTypes: 'array' } },
  });
  answerExpectContinue(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Uploads arrive as raw bytes; the hashers decide whether they are an image they can read.
  const rawBytes = (_request: unknown, body: string | Buffer, done: (error: null, body: Buffer | string) => void) => done(null, body);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit }, rawBytes);
  app.addContentTypeParser(/^image\/.+/, { parseAs: 'buffer', bodyLimit }, rawBytes);
  // Videos are not buffered: the routes stream them to a temporary file under the video size
  // limit (uploads.ts), so the body limit above does not apply to them.
  app.addContentTypeParser(/^video\/.+/, (_request, payload, done) => done(null, payload));
  // Hash lists for import arrive as text.
  app.addContentTypeParser(['text/csv', 'text/tab-separated-values', 'text/plain', 'application/x-ndjson', 'application/jsonl'], { parseAs: 'string', bodyLimit }, rawBytes);

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof RetryLaterError) reply.header('retry-after', String(error.retryAfterSeconds));
    return sendProblem(reply, problemFromError(error, request));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, `no route for ${request.method} ${request.url.split('?')[0]}`)));

  // Requests in flight make the pipeline's background stages give way (src/events/foreground-load.ts).
  // Monitoring (health, outbox and index status) is not work the pipeline should wait for.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (path === '/healthz' || (request.method === 'GET' && path.endsWith('/status'))) return;
    reply.raw.once('close', bulwark.events.foreground.enter());
  });

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    // The console and its API authenticate reviewers with sessions, not API keys.
    if (PUBLIC_PATHS.has(path) || isApiDocsPath(path) || path === '/console' || path.startsWith('/console/')) return;
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : (request.headers['x-api-key'] as string | undefined);
    request.apiKey = await bulwark.apiKeys.verify(presented);
    // A peer platform's key reads the feeds this instance publishes, and nothing else.
    if (request.apiKey.scope === 'feed' && !isFeedPath(path)) throw new BulwarkError('forbidden', 'this is a feed key: it may only read published bank feeds (/v1/feeds/…)');
  });

  // Before any route's own validation: a text PostgreSQL cannot store (NUL, a lone surrogate)
  // anywhere in the path parameters, query string or parsed body is refused with a 400 that
  // names its place. Raw bodies (media, hash lists) are left to their own parsers.
  app.addHook('preValidation', async (request) => {
    assertStorable(request.params, 'params');
    assertStorable(request.query, 'querystring');
    if (typeof request.body === 'object' && request.body !== null) assertStorable(request.body, 'body');
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Bulwark API',
        description: 'Known-media detection, hash banks and content matching for child-safety teams.',
        version: BULWARK_VERSION,
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key created with `bulwark apikey create`' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  // Answered from memory on the event loop, which hashing never occupies: it stays quick
  // however busy the hashing workers are, and says how busy they are.
  typed.get('/healthz', { schema: { hide: true } }, async () => healthBody(bulwark, options.distributed, { banks: bulwark.matcher.stats(), hashing: bulwark.hashing.stats() }));
  typed.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(landingRoutes());
  await registerApiDocs(app);
  await app.register(bankRoutes(bulwark), { prefix: '/v1' });
  await app.register(matchRoutes(bulwark), { prefix: '/v1' });
  await app.register(indexStatusRoutes(bulwark), { prefix: '/v1' });
  await app.register(retroactiveRoutes(bulwark), { prefix: '/v1' });
  await app.register(contentRoutes(bulwark), { prefix: '/v1' });
  await app.register(eventRoutes(bulwark, options.distributed), { prefix: '/v1' });
  await app.register(deadLetterRoutes(options.distributed), { prefix: '/v1' });
  await app.register(accountRoutes(bulwark), { prefix: '/v1' });
  await app.register(termRoutes(bulwark), { prefix: '/v1' });
  await app.register(guardrailRoutes(bulwark), { prefix: '/v1' });
  await app.register(networkRoutes(bulwark), { prefix: '/v1' });
  await app.register(networkCandidateRoutes(bulwark), { prefix: '/v1' });
  await app.register(reviewRoutes(bulwark), { prefix: '/v1' });
  await app.register(legalRoutes(bulwark), { prefix: '/v1' });
  await app.register(noticeFormRoutes(bulwark));
  await app.register(preservationRoutes(bulwark.preservation), { prefix: '/v1' });
  await app.register(dsaRoutes(bulwark.dsa), { prefix: '/v1' });
  await app.register(ncmecRoutes(bulwark.ncmec, (username) => bulwark.reviewers.get(username)), { prefix: '/v1' });
  await app.register(feedRoutes(bulwark), { prefix: '/v1' });
  await app.register(exchangeRoutes(bulwark), { prefix: '/v1' });
  await app.register(hmaRoutes(bulwark, options.hma ?? hmaOptionsFromEnv(process.env, bodyLimit)));
  await app.register(consoleApiRoutes(bulwark), { prefix: '/console/api' });
  await app.register(consolePages(options.consoleDir));
  await app.ready();
  return app;
}
