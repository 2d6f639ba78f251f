import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { BulwarkError } from '../../errors.ts';
import type { Session } from '../../reviewers/reviewer-service.ts';
import { problem, sendProblem } from '../problem.ts';
import { consoleNcmecRoutes } from './console-ncmec.ts';

export const SESSION_COOKIE = 'bulwark_session';
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

const caseParams = z.object({ id: z.coerce.number().int().positive() });
const queueParams = z.object({ name: z.string().min(1).max(64) });

const reviewerJson = (session: Session) => ({ username: session.reviewer.username, role: session.reviewer.role, teams: session.reviewer.teams });

/** State-changing requests must come from the console itself: same origin and the session's CSRF token. */
function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new BulwarkError('forbidden', 'the request came from another origin');
  }
  if (host !== request.headers.host) throw new BulwarkError('forbidden', 'the request came from another origin');
}

/**
 * The review console's API. Reviewers authenticate with a session cookie (HttpOnly, Secure,
 * SameSite=Strict) and every POST carries the session's CSRF token; see docs/console-api.md.
 */
export const consoleApiRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  await plugin.register(fastifyCookie);
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const schema = { hide: true };

  const setSessionCookie = (reply: FastifyReply, token: string, expires: Date) =>
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', expires });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const path = request.url.split('?')[0];
    if (path.endsWith('/login')) {
      assertSameOrigin(request);
      return;
    }
    request.session = await bulwark.reviewers.session(request.cookies[SESSION_COOKIE]);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      assertSameOrigin(request);
      const presented = request.headers['x-csrf-token'];
      if (typeof presented !== 'string' || presented !== request.session.csrfToken) {
        throw new BulwarkError('forbidden', 'missing or wrong CSRF token (send X-CSRF-Token from the session)');
      }
    }
  });

  const session = (request: FastifyRequest) => request.session!;
  const reviewer = (request: FastifyRequest) => request.session!.reviewer;

  app.post('/login', { schema: { ...schema, body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }) } }, async (request, reply) => {
    const { token, session: opened } = await bulwark.reviewers.login(request.body.username, request.body.password, { address: request.ip });
    setSessionCookie(reply, token, opened.expiresAt);
    return { reviewer: reviewerJson(opened), csrf_token: opened.csrfToken };
  });

  app.post('/logout', { schema }, async (request, reply) => {
    await bulwark.reviewers.logout(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/session', { schema }, async (request) => ({
    reviewer: reviewerJson(session(request)),
    csrf_token: session(request).csrfToken,
    exposure_today: await bulwark.reviewers.exposureToday(reviewer(request).id),
  }));

  app.get('/queues', { schema }, async (request) => ({
    queues: (await bulwark.cases.queues(reviewer(request))).map(({ roles: _roles, ...queue }) => queue),
  }));

  app.post('/queues/:name/next', { schema: { ...schema, params: queueParams } }, async (request, reply) => {
    const next = await bulwark.cases.claimNext(reviewer(request), request.params.name);
    if (!next) return reply.code(204).send();
    return next;
  });

  app.get('/cases/:id', { schema: { ...schema, params: caseParams } }, async (request) => bulwark.cases.detail(request.params.id, reviewer(request)));

  app.post('/cases/:id/claim', { schema: { ...schema, params: caseParams } }, async (request) => bulwark.cases.claim(request.params.id, reviewer(request)));

  app.post('/cases/:id/assign', { schema: { ...schema, params: caseParams, body: z.object({ username: z.string().min(1).max(64) }) } }, async (request) =>
    bulwark.cases.assign(request.params.id, reviewer(request), request.body.username),
  );

  app.post('/cases/:id/reveal', { schema: { ...schema, params: caseParams } }, async (request) => {
    const { exposureToday } = await bulwark.cases.reveal(request.params.id, reviewer(request));
    return { exposure_today: exposureToday };
  });

  // Before a reveal the console shows only this: blurred and grey, made on the server.
  app.get('/cases/:id/preview', { schema: { ...schema, params: caseParams } }, async (request, reply) => {
    return sendMedia(reply, await bulwark.cases.preview(request.params.id, reviewer(request)));
  });

  // The original, once per reveal (POST /cases/:id/reveal first).
  app.get('/cases/:id/media', { schema: { ...schema, params: caseParams } }, async (request, reply) => {
    return sendMedia(reply, await bulwark.cases.media(request.params.id, reviewer(request)));
  });

  app.post(
    '/cases/:id/decision',
    { schema: { ...schema, params: caseParams, body: z.object({ verdict: z.string().min(1).max(64), policy: z.string().max(64).optional(), note: z.string().max(4000).optional() }) } },
    async (request) => {
      const result = await bulwark.cases.decide(request.params.id, reviewer(request), request.body);
      return { decision: result.decision, case: result.case, escalated_to: result.escalatedTo ?? null };
    },
  );

  app.post('/cases/:id/release', { schema: { ...schema, params: caseParams } }, async (request, reply) => {
    await bulwark.cases.release(request.params.id, reviewer(request));
    return reply.code(204).send();
  });

  await plugin.register(consoleNcmecRoutes(bulwark));

  app.get('/audit', { schema: { ...schema, querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.coerce.number().int().positive().optional() }) } }, async (request) => {
    if (reviewer(request).role === 'reviewer') throw new BulwarkError('forbidden', 'the audit log is for leads and admins');
    const entries = await bulwark.audit.list({ limit: request.query.limit, before: request.query.before });
    return { entries: entries.map((entry) => ({ seq: entry.seq, at: entry.at.toISOString(), actor: entry.actor, action: entry.action, subject: entry.subject, detail: entry.detail })) };
  });
};

/** The built console (console/dist), served at /console/ with a strict content security policy. */
export const consolePages = (distDir = CONSOLE_DIST): FastifyPluginAsync => async (app) => {
  const built = existsSync(`${distDir}/index.html`);
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/console/api/')) return payload;
    reply.header('content-security-policy', "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  if (!built) {
    app.get('/console/*', { schema: { hide: true } }, async (_request, reply) => sendProblem(reply, problem(503, 'the review console is not built: run `npm run build:console`')));
    app.get('/console', { schema: { hide: true } }, async (_request, reply) => sendProblem(reply, problem(503, 'the review console is not built: run `npm run build:console`')));
    return;
  }
  // Files are looked up on each request, so a rebuilt console is served without a restart;
  // the console routes by URL fragment, so /console/ is the only page.
  await app.register(fastifyStatic, { root: distDir, prefix: '/console/', index: 'index.html', wildcard: true });
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
};

/** Case media (preview or original) as an inline image that no other site may embed or sniff as something else. */
function sendMedia(reply: FastifyReply, { mediaType, media }: { mediaType: string; media: Buffer }): FastifyReply {
  return reply
    .header('content-type', mediaType)
    .header('content-disposition', 'inline')
    .header('x-content-type-options', 'nosniff')
    .header('cross-origin-resource-policy', 'same-origin')
    .send(media);
}
