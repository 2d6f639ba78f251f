import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bulwark } from '../app.ts';
import type { Distributed } from './runtime.ts';

/** What GET /healthz says about a process's NATS link: degraded while it is away or a consumer is not running. */
export function healthBody(bulwark: Bulwark, distributed: Distributed | undefined, extra: Record<string, unknown> = {}) {
  const nats = distributed?.status();
  return { status: nats?.degraded ? 'degraded' : 'ok', role: bulwark.config.role ?? 'all', ...extra, ...(nats ? { nats } : {}) };
}

/**
 * A worker has no HTTP API; with --health-port it answers GET /healthz (for a load balancer
 * or orchestrator) and nothing else. Stops the worker cleanly on SIGINT and SIGTERM.
 */
export async function serveWorkerHealth(bulwark: Bulwark, distributed: Distributed | undefined, port: number | undefined, host: string): Promise<string> {
  const server =
    port === undefined
      ? undefined
      : createServer((request, response) => {
          const ok = request.method === 'GET' && request.url?.split('?')[0] === '/healthz';
          response.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
          response.end(JSON.stringify(ok ? healthBody(bulwark, distributed) : { status: 404, title: 'only GET /healthz is served by a worker' }));
        });
  let address = '';
  if (server) {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen({ port, host }, done);
    });
    const bound = server.address() as AddressInfo;
    address = `http://${bound.address}:${bound.port}`;
  }
  const stop = async () => {
    server?.close();
    await distributed?.close();
    await bulwark.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return address;
}
