import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/actions/signature.ts';

export interface ReceivedAction {
  type: string;
  target: { kind: string; id: string };
  idempotencyKey: string;
  body: Record<string, unknown>;
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

/**
 * The platform's end of enforcement webhooks, for tests: it checks every request's
 * signature (unsigned or forged requests get 401 and are not recorded) and records the rest.
 */
export class PlatformWebhook {
  readonly received: ReceivedAction[] = [];
  readonly refused: number[] = [];
  private readonly waiters = new Set<{ matches: (action: ReceivedAction) => boolean; resolve: (action: ReceivedAction) => void; reject: () => void }>();
  private server: Server | undefined;
  url = '';

  constructor(readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const verified = verifyWebhookSignature(this.secret, String(request.headers['x-bulwark-timestamp']), body, String(request.headers['x-bulwark-signature']));
      if (!verified) {
        this.refused.push(Date.now());
        response.writeHead(401).end();
        return;
      }
      const parsed = JSON.parse(body) as Record<string, unknown> & { type: string; target: { kind: string; id: string } };
      const action: ReceivedAction = { type: parsed.type, target: parsed.target, idempotencyKey: String(request.headers['idempotency-key']), body: parsed };
      this.received.push(action);
      for (const waiter of this.waiters) {
        if (!waiter.matches(action)) continue;
        this.waiters.delete(waiter);
        waiter.resolve(action);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/actions`;
    return this;
  }

  /**
   * Waits until an action of the type for the target has arrived, however long the machine
   * takes: it resolves on the request's arrival, never on a clock. It rejects only when the
   * platform stops first, naming what did arrive (the test runner's own limit guards a hang).
   */
  waitFor(type: string, targetId: string): Promise<ReceivedAction> {
    const matches = (action: ReceivedAction) => action.type === type && action.target.id === targetId;
    const found = this.received.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      this.waiters.add({ matches, resolve, reject: () => reject(new Error(`the platform stopped before it received ${type} for ${targetId}; it received ${JSON.stringify(this.received.map((a) => [a.type, a.target.id]))}`)) });
    });
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.reject();
    this.waiters.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
