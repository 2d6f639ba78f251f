import type { FastifyRequest } from 'fastify';

/** Query parameters whose values never reach the request log (they may say why someone opened evidence, or about whom). */
const UNLOGGED_QUERY_PARAMETERS = ['purpose'];

/** The request's URL as the log shows it: the values of UNLOGGED_QUERY_PARAMETERS replaced by [redacted]. */
export function loggableUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const pairs = url.slice(query + 1).split('&').map((pair) => {
    const name = pair.split('=')[0];
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed name is logged as sent; only the names above are redacted.
    }
    return UNLOGGED_QUERY_PARAMETERS.includes(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
  });
  return `${url.slice(0, query)}?${pairs.join('&')}`;
}

/**
 * What the request log records of a request: fastify's usual fields, with the URL passed
 * through loggableUrl. Bodies and headers are never logged.
 */
export function requestLogValue(request: FastifyRequest) {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket ? request.socket.remotePort : undefined,
  };
}

/** The logger option for Fastify: as given, with the request serializer above unless the caller set one. */
export function withRequestLogSerializer(logger: boolean | object | undefined): false | object {
  if (!logger) return false;
  const options = logger === true ? {} : (logger as { serializers?: Record<string, unknown> });
  return { ...options, serializers: { req: requestLogValue, ...(options.serializers ?? {}) } };
}
