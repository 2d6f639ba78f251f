import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const API_DOCS_PREFIX = '/docs';

/**
 * The browsable API reference: Swagger UI, served from the package's own files (no CDN),
 * rendering this server's OpenAPI document. Its CSP lets the page load nothing from
 * elsewhere, so a reviewer's browser never calls out to a third party from here.
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwaggerUi, {
    routePrefix: API_DOCS_PREFIX,
    // BaseLayout: the page documents this server only, so the standalone layout's URL bar is left out.
    uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list', tryItOutEnabled: false },
    staticCSP: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'",
  });
}
