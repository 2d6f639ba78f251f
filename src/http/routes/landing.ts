import type { FastifyPluginAsync } from 'fastify';
import { BULWARK_VERSION } from '../../version.ts';
import { escapeHtml } from '../../reporting/html-text.ts';

/** Where each public page lives; the landing page links to each and the auth hook lets them through. */
export const LANDING_LINKS: { href: string; title: string; text: string }[] = [
  { href: '/console/', title: 'Review console', text: 'Reviewers sign in here to work their queues and decide cases.' },
  { href: '/notices', title: 'Report illegal content', text: 'The public notice form: anyone may send a notice, no account needed.' },
  { href: '/docs', title: 'API reference', text: 'Every endpoint with its parameters and answers, from the OpenAPI document (also at /openapi.json).' },
  { href: '/healthz', title: 'Health', text: 'Whether this instance is up, as JSON, for monitoring.' },
];

/**
 * The page a browser sees at `/`. It says what runs here and where to go, and shows no data:
 * it is answered without a key, so nothing on it may depend on what the store holds.
 */
export function landingPage(version: string = BULWARK_VERSION): string {
  const links = LANDING_LINKS.map(
    (link) => `<li><a href="${escapeHtml(link.href)}">${escapeHtml(link.title)}</a><br><span>${escapeHtml(link.text)}</span></li>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulwark</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2933; background: #f5f7fa; margin: 0; }
  main { max-width: 42rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; border: 1px solid #d9e2ec; }
  ul { list-style: none; padding: 0; }
  li { margin: 1rem 0; }
  li span { color: #52606d; }
  a { color: #1f4e8c; font-weight: 600; }
  a:focus { outline: 3px solid #f0b429; outline-offset: 2px; }
  .version { color: #52606d; font-size: 0.9rem; }
</style></head><body><main>
<h1>Bulwark</h1>
<p class="version">Version ${escapeHtml(version)}</p>
<p>This server runs Bulwark, an open-source child-safety platform: it matches uploads against hash banks of known abuse media, finds the networks that trade it, opens cases for human review, carries out the decisions and files the legal reports.</p>
<nav aria-label="Public pages"><ul>
${links}
</ul></nav>
<p>Integrations call the API under <code>/v1</code> with an API key (<code>bulwark apikey create</code>).</p>
</main></body></html>`;
}

/** The landing page and a quiet answer to browsers' favicon requests (no icon: 204, not a 401). */
export const landingRoutes = (): FastifyPluginAsync => async (app) => {
  const html = landingPage();
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'")
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .send(html),
  );
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
};
