import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/actions/signature.ts';
import { DEMO_ACCOUNT_DETAILS_PATH, demoAccountDetails } from '../../src/demo/demo-platform.ts';
import type { AccountDetailsRequest } from '../../src/reporting/ncmec/account-details.ts';

/**
 * How the platform answers Bulwark's account-details callback: the demo platform's made-up
 * details, a given JSON value or raw body, an HTTP status, or no answer until released.
 */
export type AccountDetailsAnswer = { demo: true } | { json: unknown } | { raw: string } | { status: number } | { hold: true };

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
  /** Account-details requests received (signature checked), in order. */
  readonly detailsRequests: AccountDetailsRequest[] = [];
  /** The answer to the next account-details requests (default: the demo platform's). */
  detailsAnswer: AccountDetailsAnswer = { demo: true };
  private readonly heldDetails: ServerResponse[] = [];
  private heldWaiters: (() => void)[] = [];
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
      if (request.url === DEMO_ACCOUNT_DETAILS_PATH) {
        this.answerDetails(JSON.parse(body) as AccountDetailsRequest, response);
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

  /** The account-details callback's URL on this platform. */
  get accountDetailsUrl(): string {
    return new URL(DEMO_ACCOUNT_DETAILS_PATH, this.url).toString();
  }

  private answerDetails(asked: AccountDetailsRequest, response: ServerResponse): void {
    this.detailsRequests.push(asked);
    const answer = this.detailsAnswer;
    if ('hold' in answer) {
      this.heldDetails.push(response);
      for (const waiter of this.heldWaiters.splice(0)) waiter();
      return;
    }
    if ('status' in answer) {
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const body = 'raw' in answer ? answer.raw : JSON.stringify('json' in answer ? answer.json : demoAccountDetails(asked));
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  }

  /** Resolves once an account-details request is being held (on its arrival, never on a clock). */
  detailsHeld(): Promise<void> {
    if (this.heldDetails.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  /** Answers every held account-details request, late (the caller has usually given up by then); returns how many. */
  releaseHeldDetails(): number {
    const held = this.heldDetails.splice(0);
    for (const response of held) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ late: true }));
    return held.length;
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
    for (const response of this.heldDetails.splice(0)) response.destroy();
    for (const waiter of this.waiters) waiter.reject();
    this.waiters.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
