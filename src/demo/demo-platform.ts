import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../actions/signature.ts';

/** What the demo shows of an action: its type, target and who decided it (never more). */
export interface ReceivedAction {
  type: string;
  target: { kind: string; id: string };
  decidedBy: string;
}

export const describeAction = (action: ReceivedAction) => `${action.type} ${action.target.kind} ${action.target.id} (decided by ${action.decidedBy})`;

/**
 * A stand-in for the platform's enforcement endpoint, so the demo shows actions arriving:
 * it checks each request's signature, hands on the action's type, target and decider, and
 * answers that it applied it.
 */
export async function startDemoPlatform(
  secret: string,
  received: (action: ReceivedAction) => void,
  log: (line: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifyWebhookSignature(secret, String(request.headers['x-bulwark-timestamp']), body, String(request.headers['x-bulwark-signature']))) {
        log('demo platform: refused a request with a bad signature');
        response.writeHead(401).end();
        return;
      }
      const action = JSON.parse(body) as { type: string; target: { kind: string; id: string }; decided_by: string };
      received({ type: action.type, target: { kind: action.target.kind, id: action.target.id }, decidedBy: action.decided_by });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/enforcement`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
