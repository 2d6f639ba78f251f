import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  ACTION_DEAD_EVENT,
  ACTION_PARTIAL_EVENT,
  ACTION_REQUESTED_EVENT,
  ACTION_REQUEUED_EVENT,
  ACTION_SUCCEEDED_EVENT,
  ActionService,
  type ActionServiceOptions,
} from '../src/actions/action-service.ts';
import { defaultIdempotencyKey } from '../src/actions/request.ts';
import { signWebhook, verifyWebhookSignature } from '../src/actions/signature.ts';
import { ActionTargetRegistry, actionTargetsFromConfig, webhookConfigFromEnv } from '../src/actions/targets.ts';
import type { ActionRecord, ActionRequest, ActionTarget } from '../src/actions/types.ts';
import { WebhookTarget, parseRetryAfter } from '../src/actions/webhook-target.ts';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { BulwarkError } from '../src/errors.ts';
import type { StoreLocation } from '../src/store/sql.ts';
import { storeTargets } from './helpers/stores.ts';
import { EventDeadlines } from './helpers/event-deadlines.ts';

const targets = await storeTargets();
const SECRET = 'test-secret-0123456789abcdef';
const repoRoot = resolve(import.meta.dirname, '..');

// ---- a platform that receives webhooks ----

interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  signatureValid: boolean;
}

type Reply = 'hang' | { status: number; headers?: Record<string, string>; body?: unknown };

/**
 * The platform's side, on a real local HTTP server: checks every signature with the helper
 * platforms use, records what arrived, and answers as the test tells it to.
 */
class FakePlatform {
  readonly requests: ReceivedRequest[] = [];
  reply: (request: ReceivedRequest) => Reply = (request) => ({ status: 200, body: { applied: true, id: request.body.id } });
  private server: Server | undefined;
  private readonly hanging: ServerResponse[] = [];
  private readonly deadlines = new EventDeadlines('the platform will not answer this request');
  private waiters: { count: number; resolve: () => void }[] = [];
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/bulwark`;
  }

  async start(port = this.port): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const request: ReceivedRequest = {
          headers: req.headers,
          raw,
          body: JSON.parse(raw),
          signatureValid: verifyWebhookSignature(SECRET, req.headers['x-bulwark-timestamp'] as string, raw, req.headers['x-bulwark-signature'] as string, { toleranceSeconds: 300 }),
        };
        this.requests.push(request);
        this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));
        const reply = request.signatureValid ? this.reply(request) : { status: 401 };
        if (reply === 'hang') {
          this.hanging.push(res);
          this.deadlines.pass(); // never answers; the sender's deadline passes now
          return;
        }
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The deadline to hand the client under test: it passes when this stand-in holds a call it will never answer. */
  readonly deadline = this.deadlines.next;

  /** Closes the port: connections are refused until start() again. */
  async stop(): Promise<void> {
    if (!this.server) return;
    for (const res of this.hanging.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Resolves once at least `count` requests have arrived. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  idsReceived(): number[] {
    return this.requests.map((r) => Number(r.body.id));
  }
}

// ---- helpers ----

/** A clock the tests move by hand, so retries fall due without sleeping. */
function testClock() {
  let now = Date.now();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const request = (overrides: Partial<ActionRequest> = {}): ActionRequest => ({
  type: 'remove_content',
  target: { kind: 'content', id: 'content-7' },
  decidedBy: 'reviewer-1',
  automated: false,
  caseId: 11,
  decisionId: 21,
  reason: { policy: 'policy-alpha', verdict: 'confirm', legal_ground: 'ground-alpha' },
  ...overrides,
});

/** Deliveries to the platform end by its event (deadline), never by the wall clock. */
const registryFor = (platform: FakePlatform) => new ActionTargetRegistry({ fallback: new WebhookTarget({ url: platform.url, secret: SECRET, deadline: platform.deadline }) });

async function enqueue(bulwark: Bulwark, service: ActionService, req: ActionRequest): Promise<ActionRecord> {
  return bulwark.sql.transaction((tx) => service.enqueue(tx, req));
}

async function rejects(promise: Promise<unknown>, kind: string): Promise<BulwarkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BulwarkError, String(error));
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  assert.fail(`expected a ${kind} error`);
}

// ---- no store needed ----

describe('webhook signatures', () => {
  const body = '{"id":1}';
  const now = 1_780_000_000;
  const header = signWebhook(SECRET, now, body);

  it('verifies what was signed and nothing else', () => {
    assert.match(header, /^v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, header, { nowSeconds: now }), true);
    assert.equal(verifyWebhookSignature(SECRET, String(now), Buffer.from(body), header, { nowSeconds: now }), true);
    assert.equal(verifyWebhookSignature(SECRET, String(now), '{"id":2}', header, { nowSeconds: now }), false, 'changed body');
    assert.equal(verifyWebhookSignature('another-secret-0123456789', String(now), body, header, { nowSeconds: now }), false, 'wrong secret');
    assert.equal(verifyWebhookSignature(SECRET, String(now + 1), body, header, { nowSeconds: now }), false, 'changed timestamp');
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, 'v1=zz', { nowSeconds: now }), false, 'malformed');
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, undefined, { nowSeconds: now }), false, 'missing');
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, `v1=${'0'.repeat(64)}, ${header}`, { nowSeconds: now }), true, 'any listed signature may match');
  });

  it('refuses a timestamp outside the tolerance, either way', () => {
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, header, { nowSeconds: now + 301, toleranceSeconds: 300 }), false);
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, header, { nowSeconds: now - 301, toleranceSeconds: 300 }), false);
    assert.equal(verifyWebhookSignature(SECRET, String(now), body, header, { nowSeconds: now + 299, toleranceSeconds: 300 }), true);
  });
});

describe('action configuration and requests', () => {
  it('needs a long enough secret once a URL is configured, and sends each type to its own URL', () => {
    assert.equal(actionTargetsFromConfig({}).targetFor('remove_content'), undefined);
    assert.throws(() => actionTargetsFromConfig({ webhookUrl: 'http://127.0.0.1:9/x' }), /secret/);
    assert.throws(() => actionTargetsFromConfig({ webhookUrl: 'http://127.0.0.1:9/x', secret: 'short' }), /at least 16/);
    assert.throws(() => actionTargetsFromConfig({ webhookUrl: 'ftp://127.0.0.1/x', secret: SECRET }), /http/);
    const registry = actionTargetsFromConfig({ webhookUrl: 'http://127.0.0.1:9/all', webhooks: { remove_content: 'http://127.0.0.1:9/content' }, secret: SECRET });
    assert.equal((registry.targetFor('remove_content') as WebhookTarget).url, 'http://127.0.0.1:9/content');
    assert.equal((registry.targetFor('suspend_account') as WebhookTarget).url, 'http://127.0.0.1:9/all');
    const onlyOne = actionTargetsFromConfig({ webhooks: { block_identifier: 'http://127.0.0.1:9/block' }, secret: SECRET });
    assert.equal(onlyOne.targetFor('remove_content'), undefined);
    assert.deepEqual(
      webhookConfigFromEnv({ BULWARK_WEBHOOK_URL: 'http://a.example/x', BULWARK_WEBHOOK_URL_SUSPEND_ACCOUNT: 'http://b.example/y', BULWARK_WEBHOOK_SECRET: SECRET }),
      { webhookUrl: 'http://a.example/x', webhooks: { suspend_account: 'http://b.example/y' }, secret: SECRET },
    );
  });

  it('never shows the secret when a target is printed or serialised', () => {
    const target = new WebhookTarget({ url: 'http://127.0.0.1:9/x', secret: SECRET });
    assert.doesNotMatch(inspect(target, { depth: 5 }), /test-secret/);
    assert.doesNotMatch(JSON.stringify(target), /test-secret/);
  });

  it('derives idempotency keys from the decision or the rule and event', () => {
    assert.equal(defaultIdempotencyKey(request()), 'decision:21:remove_content:content:content-7');
    assert.equal(
      defaultIdempotencyKey(request({ decisionId: undefined, ruleId: 'rule-alpha', eventSeq: 5, automated: true })),
      'rule:rule-alpha:event:5:remove_content:content:content-7',
    );
    assert.throws(() => defaultIdempotencyKey(request({ decisionId: undefined })), /idempotency key/);
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Mon, 01 Jun 2026 00:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});

// ---- against each store ----

for (const target of targets) {
  describe(`enforcement actions on ${target.name}`, () => {
    let platform: FakePlatform;
    let shared: Bulwark;
    const open: Bulwark[] = [];
    const scratch: string[] = [];

    before(async () => {
      platform = await new FakePlatform().start();
      shared = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000 });
      open.push(shared);
    });
    after(async () => {
      await platform.stop();
      for (const bulwark of open) await bulwark.close().catch(() => undefined);
      for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
      await target.cleanup();
    });

    /**
     * An empty action table, a fresh platform log and a service with an injected clock. The
     * store is shared (opening one per test is slow on PGlite); events are read from the
     * sequence number returned here.
     */
    async function setup(options: ActionServiceOptions & { registry?: ActionTargetRegistry; location?: StoreLocation } = {}) {
      platform.requests.length = 0;
      platform.reply = (req) => ({ status: 200, body: { applied: true, id: req.body.id } });
      let bulwark = shared;
      if (options.location) {
        bulwark = await openBulwark({ ...options.location, guardrailRefreshMs: 60_000 });
        open.push(bulwark);
      } else {
        await bulwark.sql.exec('TRUNCATE action_attempts, actions');
      }
      const from = await bulwark.events.end();
      const clock = testClock();
      const registry = options.registry ?? registryFor(platform);
      const service = new ActionService(bulwark.sql, bulwark.events, registry, { baseDelayMs: 1000, now: clock.now, deadline: platform.deadline, ...options });
      const eventsOf = (...types: string[]) => bulwark.events.read({ after: from, types, limit: 1000 });
      return { bulwark, service, clock, registry, eventsOf };
    }

    it('delivers an action and keeps what the platform answered', async () => {
      const { bulwark, service } = await setup();
      const action = await enqueue(bulwark, service, request());
      assert.equal(action.status, 'pending');
      assert.equal(action.idempotencyKey, 'decision:21:remove_content:content:content-7');
      assert.equal(await service.dispatchDue(), 1);
      const done = await service.get(action.id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.result, { applied: true, id: action.id });
      assert.equal(done.attempts, 1);
      assert.equal(done.lastError, null);
      assert.ok(done.completedAt);
      assert.equal(done.nextAttemptAt, null);
      assert.deepEqual(done.attemptLog!.map((a) => [a.attempt, a.outcome, a.statusCode, a.errorCode]), [[1, 'succeeded', 200, null]]);
      assert.equal(platform.requests.length, 1);
      assert.equal(await service.dispatchDue(), 0, 'nothing is due any more');
      assert.equal(platform.requests.length, 1);
    });

    it('signs each request and sends the documented headers and body', async () => {
      const { bulwark, service } = await setup();
      const action = await enqueue(
        bulwark,
        service,
        request({
          type: 'block_identifier',
          target: { kind: 'account', id: 'acct-1' },
          identifiers: [{ kind: 'identifier:device', hash: '0123456789abcdef0123456789abcdef' }],
        }),
      );
      await service.dispatchDue();
      const [received] = platform.requests;
      assert.equal(received.signatureValid, true);
      assert.equal(received.headers['idempotency-key'], action.idempotencyKey);
      assert.equal(received.headers['x-bulwark-action'], 'block_identifier');
      assert.equal(received.headers['content-type'], 'application/json');
      const timestamp = Number(received.headers['x-bulwark-timestamp']);
      assert.ok(Math.abs(timestamp - Date.now() / 1000) < 300);
      assert.equal(received.headers['x-bulwark-signature'], signWebhook(SECRET, timestamp, received.raw));
      assert.deepEqual(Object.keys(received.body), ['id', 'type', 'target', 'idempotency_key', 'decided_by', 'automated', 'reason', 'identifiers', 'attempt', 'sent_at']);
      assert.deepEqual(received.body.target, { kind: 'account', id: 'acct-1' });
      assert.deepEqual(received.body.identifiers, [{ kind: 'identifier:device', hash: '0123456789abcdef0123456789abcdef' }]);
      assert.equal(received.body.decided_by, 'reviewer-1');
      assert.equal(received.body.attempt, 1);
      assert.deepEqual(received.body.reason, { policy: 'policy-alpha', verdict: 'confirm', legal_ground: 'ground-alpha' });
      // Nothing stored anywhere holds the secret.
      const stored = await bulwark.sql.query(
        `SELECT (SELECT json_agg(a) FROM actions a)::text AS a, (SELECT json_agg(t) FROM action_attempts t)::text AS t, (SELECT json_agg(e) FROM events e)::text AS e`,
      );
      assert.doesNotMatch(JSON.stringify(stored.rows), /test-secret/);
    });

    it('retries after a 500 with growing delays, records every attempt, and never keeps the error body', async () => {
      const { bulwark, service, clock } = await setup();
      let failures = 2;
      platform.reply = (req) => (failures-- > 0 ? { status: 500, body: { detail: 'internal-detail-xyz' } } : { status: 200, body: { applied: true, id: req.body.id } });
      const action = await enqueue(bulwark, service, request());

      const t0 = clock.now().getTime();
      assert.equal(await service.dispatchDue(), 1);
      const first = await service.get(action.id);
      assert.equal(first.status, 'retrying');
      assert.equal(first.lastError, '500');
      const firstDelay = first.nextAttemptAt!.getTime() - t0;
      assert.ok(firstDelay >= 500 && firstDelay <= 1000, `first delay ${firstDelay}`);
      assert.equal(await service.dispatchDue(), 0, 'not due before its time');

      clock.advance(firstDelay);
      const t1 = clock.now().getTime();
      assert.equal(await service.dispatchDue(), 1);
      const second = await service.get(action.id);
      assert.equal(second.status, 'retrying');
      const secondDelay = second.nextAttemptAt!.getTime() - t1;
      assert.ok(secondDelay > firstDelay, `backoff grows: ${firstDelay} then ${secondDelay}`);

      clock.advance(secondDelay);
      assert.equal(await service.dispatchDue(), 1);
      const done = await service.get(action.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.attempts, 3);
      assert.deepEqual(done.attemptLog!.map((a) => [a.attempt, a.outcome, a.statusCode]), [[1, 'retry', 500], [2, 'retry', 500], [3, 'succeeded', 200]]);
      assert.ok(done.attemptLog!.every((a) => typeof a.durationMs === 'number' && a.durationMs >= 0));
      assert.deepEqual(platform.requests.map((r) => r.body.attempt), [1, 2, 3]);
      assert.equal(new Set(platform.requests.map((r) => r.headers['idempotency-key'])).size, 1, 'one key for every attempt');
      const stored = await bulwark.sql.query(`SELECT (SELECT json_agg(a) FROM actions a)::text AS a, (SELECT json_agg(t) FROM action_attempts t)::text AS t`);
      assert.doesNotMatch(JSON.stringify(stored.rows), /internal-detail-xyz/);
    });

    it('retries a request that timed out', async () => {
      const { bulwark, service, clock } = await setup();
      let hang = true;
      platform.reply = (req) => (hang ? ((hang = false), 'hang') : { status: 200, body: { id: req.body.id } });
      const action = await enqueue(bulwark, service, request());
      assert.equal(await service.dispatchDue(), 1);
      const waiting = await service.get(action.id);
      assert.equal(waiting.status, 'retrying');
      assert.equal(waiting.lastError, 'timeout');
      assert.equal(waiting.attemptLog![0].errorCode, 'timeout');
      clock.advance(60_000);
      assert.equal(await service.dispatchDue(), 1);
      assert.equal((await service.get(action.id)).status, 'succeeded');
      assert.equal(platform.requests.length, 2);
    });

    it('keeps an action while the platform is down and delivers it when it is back', async () => {
      const { bulwark, service, clock } = await setup();
      await platform.stop();
      try {
        const action = await enqueue(bulwark, service, request());
        assert.equal(await service.dispatchDue(), 1);
        const waiting = await service.get(action.id);
        assert.equal(waiting.status, 'retrying');
        // A kept-alive connection from earlier tests may first fail as closed by the other side.
        assert.match(waiting.lastError!, /^(ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET)$/);
        clock.advance(60_000);
        assert.equal(await service.dispatchDue(), 1);
        const stillDown = await service.get(action.id);
        assert.equal(stillDown.status, 'retrying', 'still down: still queued, not dropped');
        assert.equal(stillDown.lastError, 'ECONNREFUSED');
        await platform.start();
        clock.advance(60_000);
        assert.equal(await service.dispatchDue(), 1);
        const done = await service.get(action.id);
        assert.equal(done.status, 'succeeded');
        assert.deepEqual(done.attemptLog!.map((a) => a.outcome), ['retry', 'retry', 'succeeded']);
        assert.equal(platform.requests.length, 1);
      } finally {
        await platform.stop();
        await platform.start();
      }
    });

    it('declares an action dead at once on a permanent refusal, and reports it', async () => {
      const { bulwark, service, clock, eventsOf } = await setup();
      platform.reply = () => ({ status: 400, body: { error: 'unknown content' } });
      const action = await enqueue(bulwark, service, request());
      assert.equal(await service.dispatchDue(), 1);
      const dead = await service.get(action.id);
      assert.equal(dead.status, 'dead');
      assert.equal(dead.lastError, '400');
      assert.equal(dead.result, null);
      assert.deepEqual(dead.attemptLog!.map((a) => [a.outcome, a.statusCode]), [['permanent', 400]]);
      clock.advance(3_600_000);
      assert.equal(await service.dispatchDue(), 0);
      const events = await eventsOf(ACTION_DEAD_EVENT);
      assert.deepEqual(
        events.map((e) => e.payload),
        [{ action_id: action.id, parent_id: null, type: 'remove_content', target: { kind: 'content', id: 'content-7' }, case_id: 11, decision_id: 21, status: 'dead', attempts: 1 }],
      );
      assert.deepEqual(await service.list({ status: 'dead' }).then((l) => l.map((a) => a.id)), [action.id]);
    });

    it('gives up after maxAttempts, and an operator retry delivers it', async () => {
      const { bulwark, service, clock, eventsOf } = await setup({ maxAttempts: 3 });
      platform.reply = () => ({ status: 503 });
      const action = await enqueue(bulwark, service, request());
      for (let i = 0; i < 3; i++) {
        assert.equal(await service.dispatchDue(), 1);
        clock.advance(3_600_000);
      }
      const dead = await service.get(action.id);
      assert.equal(dead.status, 'dead');
      assert.equal(dead.lastError, '503');
      assert.equal(dead.attempts, 3);
      assert.equal(await service.dispatchDue(), 0);

      await rejects(service.retry(action.id + 1000), 'not_found');
      platform.reply = (req) => ({ status: 201, body: { id: req.body.id } });
      const requeued = await service.retry(action.id, 'operator-1');
      assert.equal(requeued.status, 'pending');
      assert.equal(requeued.requeues, 1);
      assert.equal(await service.dispatchDue(), 1);
      const done = await service.get(action.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.attempts, 4);
      assert.deepEqual(done.attemptLog!.map((a) => a.statusCode), [503, 503, 503, 201]);
      await rejects(service.retry(action.id), 'conflict');
      const requeuedEvents = await eventsOf(ACTION_REQUEUED_EVENT);
      assert.equal(requeuedEvents.length, 1);
      assert.equal((requeuedEvents[0].payload as { requested_by: string }).requested_by, 'operator-1');
      const finished = await eventsOf(ACTION_DEAD_EVENT, ACTION_SUCCEEDED_EVENT);
      assert.deepEqual(finished.map((e) => e.type), [ACTION_DEAD_EVENT, ACTION_SUCCEEDED_EVENT]);
    });

    it('treats 409 naming its key as already applied, respects Retry-After on 429, and caps it', async () => {
      const { bulwark, service, clock } = await setup({ maxDelayMs: 600_000 });
      const replies: Record<string, (req: ReceivedRequest) => Reply> = {
        'content-1': (req) => ({ status: 409, headers: { 'idempotency-key': String(req.headers['idempotency-key']) }, body: { already: true } }),
        'content-2': () => ({ status: 409, body: { error: 'other conflict' } }),
        'content-3': () => ({ status: 429, headers: { 'retry-after': '120' } }),
        'content-4': () => ({ status: 429, headers: { 'retry-after': '86400' } }),
      };
      platform.reply = (req) => replies[(req.body.target as { id: string }).id](req);
      const applied = await enqueue(bulwark, service, request({ target: { kind: 'content', id: 'content-1' } }));
      const conflicting = await enqueue(bulwark, service, request({ target: { kind: 'content', id: 'content-2' } }));
      const limited = await enqueue(bulwark, service, request({ target: { kind: 'content', id: 'content-3' } }));
      const limitedLong = await enqueue(bulwark, service, request({ target: { kind: 'content', id: 'content-4' } }));
      const t0 = clock.now().getTime();
      assert.equal(await service.dispatchDue(), 4);
      const a = await service.get(applied.id);
      assert.equal(a.status, 'succeeded');
      assert.deepEqual(a.result, { already: true });
      assert.equal(a.attemptLog![0].outcome, 'already_applied');
      const c = await service.get(conflicting.id);
      assert.equal(c.status, 'dead', 'a 409 about something else is not success');
      assert.equal(c.lastError, '409');
      const l = await service.get(limited.id);
      assert.equal(l.status, 'retrying');
      assert.equal(l.lastError, '429');
      assert.equal(l.nextAttemptAt!.getTime() - t0, 120_000);
      assert.equal((await service.get(limitedLong.id)).nextAttemptAt!.getTime() - t0, 600_000, 'capped at maxDelayMs');
    });

    it('records an action once per idempotency key, and only if the decision commits', async () => {
      const { bulwark, service, eventsOf } = await setup();
      const first = await enqueue(bulwark, service, request());
      const again = await enqueue(bulwark, service, request({ reason: { note: 'asked twice' } }));
      assert.equal(again.id, first.id);
      const custom = await enqueue(bulwark, service, request({ idempotencyKey: 'caller-key-1', decisionId: undefined }));
      assert.equal((await enqueue(bulwark, service, request({ idempotencyKey: 'caller-key-1', decisionId: undefined }))).id, custom.id);
      await rejects(enqueue(bulwark, service, request({ idempotencyKey: 'caller-key-1', type: 'suspend_account', target: { kind: 'account', id: 'acct-1' } })), 'conflict');

      await assert.rejects(
        bulwark.sql.transaction(async (tx) => {
          await service.enqueue(tx, request({ decisionId: 99 }));
          throw new Error('decision failed');
        }),
        /decision failed/,
      );
      const all = await service.list({});
      assert.deepEqual(all.map((a) => a.id), [first.id, custom.id], 'the rolled-back one is gone, the repeats added nothing');
      assert.equal(await service.dispatchDue(), 2);
      assert.equal(platform.requests.length, 2);
      assert.equal((await eventsOf(ACTION_REQUESTED_EVENT)).length, 2);
    });

    it('refuses malformed requests', async () => {
      const { bulwark, service } = await setup();
      await rejects(enqueue(bulwark, service, request({ target: { kind: 'account', id: 'acct-1' } })), 'invalid');
      await rejects(enqueue(bulwark, service, request({ target: { kind: 'content', id: 'has space' } })), 'invalid');
      await rejects(enqueue(bulwark, service, request({ decisionId: undefined })), 'invalid');
      await rejects(enqueue(bulwark, service, request({ type: 'takedown_network', target: { kind: 'network', id: '4' }, members: [] })), 'invalid');
      await rejects(
        enqueue(bulwark, service, request({ type: 'block_identifier', target: { kind: 'account', id: 'acct-1' }, identifiers: [{ kind: 'email', hash: 'person@example.com' }] })),
        'invalid',
      );
      await rejects(enqueue(bulwark, service, request({ members: ['acct-1'] })), 'invalid');
      assert.deepEqual(await service.list({}), []);
    });

    it('delivers each action exactly once with two dispatchers on one store', async () => {
      const { bulwark, service } = await setup({ concurrency: 4 });
      let second: ActionService;
      if (target.name === 'postgres') {
        // Another process: its own connection pool on the same schema.
        const other = await openBulwark({ ...bulwark.config, guardrailRefreshMs: 60_000 });
        open.push(other);
        second = new ActionService(other.sql, other.events, registryFor(platform), { concurrency: 4, now: () => new Date(), deadline: platform.deadline });
      } else {
        second = new ActionService(bulwark.sql, bulwark.events, registryFor(platform), { concurrency: 4, now: () => new Date(), deadline: platform.deadline });
      }
      platform.reply = (req) => ({ status: 200, body: { id: req.body.id } });
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) ids.push((await enqueue(bulwark, service, request({ target: { kind: 'content', id: `content-${i}` } }))).id);
      const [a, b] = await Promise.all([service.dispatchDue(), second.dispatchDue()]);
      assert.equal(a + b, 40);
      if (target.name === 'postgres') assert.ok(a > 0 && b > 0, `both dispatchers worked (${a}, ${b})`);
      assert.deepEqual([...platform.idsReceived()].sort((x, y) => x - y), ids, 'every action once, none twice');
      const listed = await service.list({ limit: 100 });
      assert.ok(listed.every((action) => action.status === 'succeeded' && action.attempts === 1));
    });

    it('takes a network down member by member and reports a partial result', async () => {
      const { bulwark, service, eventsOf } = await setup();
      platform.reply = (req) =>
        (req.body.target as { id: string }).id === 'acct-3' ? { status: 400, body: { error: 'x' } } : { status: 200, body: { suspended: (req.body.target as { id: string }).id } };
      const members = ['acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5'];
      const parent = await enqueue(bulwark, service, request({ type: 'takedown_network', target: { kind: 'network', id: '4' }, members: [...members, 'acct-1'] }));
      assert.equal(parent.status, 'pending');
      assert.equal(parent.children!.length, 5, 'one child per distinct member');
      assert.ok(parent.children!.every((c) => c.type === 'suspend_account' && c.parentId === parent.id && c.status === 'pending'));

      assert.equal(await service.dispatchDue(), 5);
      const done = await service.get(parent.id);
      assert.equal(done.status, 'partial');
      assert.equal(done.lastError, '1 of 5 members failed');
      assert.deepEqual(done.memberStatus, { succeeded: 4, dead: 1 });
      assert.equal(done.attempts, 5);
      assert.deepEqual(
        done.children!.map((c) => [c.target.id, c.status, c.lastError, c.result]),
        members.map((m) => (m === 'acct-3' ? [m, 'dead', '400', null] : [m, 'succeeded', null, { suspended: m }])),
      );
      assert.deepEqual(new Set(platform.requests.map((r) => r.body.parent_id)), new Set([parent.id]));
      assert.deepEqual(new Set(platform.requests.map((r) => r.headers['x-bulwark-action'])), new Set(['suspend_account']));
      const listed = await service.list({ caseId: 11 });
      assert.deepEqual(listed.map((a) => a.id), [parent.id], 'members are listed under their takedown');
      assert.deepEqual(listed[0].memberStatus, { succeeded: 4, dead: 1 });
      const partial = await eventsOf(ACTION_PARTIAL_EVENT);
      assert.deepEqual(partial.map((e) => (e.payload as { action_id: number }).action_id), [parent.id]);
      assert.equal((await eventsOf(ACTION_SUCCEEDED_EVENT)).length, 4);

      // The operator re-queues the takedown: its dead member is tried again, and the whole succeeds.
      platform.reply = (req) => ({ status: 200, body: { suspended: (req.body.target as { id: string }).id } });
      await service.retry(parent.id);
      assert.equal((await service.get(parent.id)).status, 'pending');
      assert.equal(await service.dispatchDue(), 1);
      const whole = await service.get(parent.id);
      assert.equal(whole.status, 'succeeded');
      assert.deepEqual(whole.memberStatus, { succeeded: 5 });
    });

    it('keeps an action with no target configured, and delivers it once one is', async () => {
      const registry = new ActionTargetRegistry();
      const { bulwark, service } = await setup({ registry });
      const action = await enqueue(bulwark, service, request());
      assert.equal(action.status, 'pending');
      assert.equal(action.lastError, 'no target configured for remove_content');
      assert.equal(await service.dispatchDue(), 0);
      assert.equal((await service.get(action.id)).status, 'pending');
      assert.equal((await service.get(action.id)).attempts, 0, 'waiting for configuration uses no attempts');
      registry.set('remove_content', new WebhookTarget({ url: platform.url, secret: SECRET, deadline: platform.deadline }));
      assert.equal(await service.dispatchDue(), 1);
      assert.equal((await service.get(action.id)).status, 'succeeded');
    });

    it('still delivers what was pending after a restart', async () => {
      let location: StoreLocation;
      if (target.name === 'pglite') {
        const dir = mkdtempSync(join(tmpdir(), 'bulwark-actions-'));
        scratch.push(dir);
        location = { dataDir: join(dir, 'data') };
      } else {
        location = target.location();
      }
      const before = await setup({ location, registry: new ActionTargetRegistry() });
      const action = await enqueue(before.bulwark, before.service, request());
      await before.bulwark.close();

      const reopened = await openBulwark({ ...location, guardrailRefreshMs: 60_000 });
      open.push(reopened);
      const service = new ActionService(reopened.sql, reopened.events, registryFor(platform), { deadline: platform.deadline });
      assert.equal((await service.get(action.id)).status, 'pending');
      assert.equal(await service.dispatchDue(), 1);
      assert.equal((await service.get(action.id)).status, 'succeeded');
      assert.deepEqual(platform.idsReceived(), [action.id]);
    });

    it('takes over an attempt whose dispatcher vanished once its lease runs out', async () => {
      const { bulwark, service, clock } = await setup();
      const action = await enqueue(bulwark, service, request());
      // What a dispatcher that crashed mid-delivery leaves behind: a claimed row and an open attempt.
      const leaseUntil = new Date(clock.now().getTime() + 60_000);
      await bulwark.sql.query(`UPDATE actions SET attempts = 1, lease_owner = 'gone', lease_until = $2 WHERE id = $1`, [action.id, leaseUntil]);
      await bulwark.sql.query(`INSERT INTO action_attempts (action_id, attempt, started_at, outcome) VALUES ($1, 1, $2, 'in_flight')`, [action.id, clock.now()]);
      assert.equal(await service.dispatchDue(), 0, 'not while the lease holds');
      clock.advance(60_000);
      assert.equal(await service.dispatchDue(), 1);
      const done = await service.get(action.id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.attemptLog!.map((a) => [a.attempt, a.outcome]), [[1, 'lease_expired'], [2, 'succeeded']]);
    });

    it('hands targets a deadline even when they ignore it', async () => {
      // The deadline passes once the target has the delivery (an event, not a timer); the target never settles.
      const deadline = new AbortController();
      let handed: AbortSignal | undefined;
      const stuck: ActionTarget = {
        deliver: (_delivery, signal) => {
          handed = signal;
          queueMicrotask(() => deadline.abort(new DOMException('deadline passed', 'TimeoutError')));
          return new Promise(() => undefined);
        },
      };
      const { bulwark, service } = await setup({ registry: new ActionTargetRegistry({ fallback: stuck }), deadline: () => deadline.signal });
      const action = await enqueue(bulwark, service, request());
      assert.equal(await service.dispatchDue(), 1);
      const waiting = await service.get(action.id);
      assert.equal(waiting.status, 'retrying');
      assert.equal(waiting.lastError, 'timeout');
      assert.equal(handed?.aborted, true, 'the target was handed the deadline');
    });

    it('appends finished events in the status change’s transaction and publishes them after commit', async () => {
      const { bulwark, service, eventsOf } = await setup();
      const heard: string[] = [];
      const unsubscribe = bulwark.events.subscribe((event) => heard.push(event.type));
      const action = await enqueue(bulwark, service, request({ type: 'suspend_account', target: { kind: 'account', id: 'acct-9' } }));
      await service.dispatchDue();
      unsubscribe();
      assert.deepEqual(heard, [ACTION_SUCCEEDED_EVENT], 'enqueue leaves publishing its event to the caller');
      const events = await eventsOf(ACTION_REQUESTED_EVENT, ACTION_SUCCEEDED_EVENT);
      assert.deepEqual(events.map((e) => [e.type, e.subject]), [[ACTION_REQUESTED_EVENT, `action:${action.id}`], [ACTION_SUCCEEDED_EVENT, `action:${action.id}`]]);
      assert.deepEqual(events[1].payload, {
        action_id: action.id,
        parent_id: null,
        type: 'suspend_account',
        target: { kind: 'account', id: 'acct-9' },
        case_id: 11,
        decision_id: 21,
        status: 'succeeded',
        attempts: 1,
      });
    });

    it('once started, delivers right after the enqueueing transaction commits', async () => {
      const { bulwark, service } = await setup();
      // The timer's next turn is an hour away: only the commit can have started the delivery,
      // and idle() waits for the pass it started (no clock decides the outcome).
      const stop = service.start(3_600_000);
      try {
        const action = await enqueue(bulwark, service, request());
        await service.idle();
        assert.deepEqual(platform.idsReceived(), [action.id]);
      } finally {
        stop();
        await service.idle();
      }
    });

    it('pages and filters the list', async () => {
      const { bulwark, service } = await setup();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await enqueue(bulwark, service, request({ caseId: i % 2 ? 7 : 8, decisionId: 100 + i }))).id);
      assert.deepEqual((await service.list({ caseId: 7 })).map((a) => a.id), [ids[1], ids[3]]);
      assert.deepEqual((await service.list({ decisionId: 102 })).map((a) => a.id), [ids[2]]);
      assert.deepEqual((await service.list({ limit: 2, afterId: ids[1] })).map((a) => a.id), [ids[2], ids[3]]);
      assert.deepEqual((await service.list({ status: 'succeeded' })).map((a) => a.id), []);
      await rejects(service.get(ids[4] + 1), 'not_found');
    });
  });
}

describe('bulwark actions (command line)', () => {
  let dir: string;
  let platform: FakePlatform;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-actions-'));
    platform = await new FakePlatform().start();
  });
  after(async () => {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Spawned without blocking: the platform answering the CLI's webhooks lives in this process.
  const run = (env: Record<string, string>, ...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), ...args], {
        cwd: dir,
        env: { ...process.env, BULWARK_WEBHOOK_URL: '', BULWARK_WEBHOOK_SECRET: '', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    });

  it('lists, dispatches, shows and refuses to retry what is not dead', async () => {
    const bulwark = await openBulwark({ dataDir: join(dir, 'data'), guardrailRefreshMs: 60_000 });
    const service = new ActionService(bulwark.sql, bulwark.events, new ActionTargetRegistry());
    const network = await bulwark.sql.transaction((tx) =>
      service.enqueue(tx, request({ type: 'takedown_network', target: { kind: 'network', id: '3' }, members: ['acct-1', 'acct-2'], caseId: 5 })),
    );
    await bulwark.close();

    const pending = await run({}, '--json', 'actions', 'list', '--case', '5');
    assert.equal(pending.code, 0, pending.stderr);
    assert.deepEqual(JSON.parse(pending.stdout).map((a: { id: number; status: string }) => [a.id, a.status]), [[network.id, 'pending']]);

    const unconfigured = await run({}, 'actions', 'dispatch');
    assert.equal(unconfigured.code, 0, unconfigured.stderr);
    assert.match(unconfigured.stderr, /no webhook configured/);
    assert.equal(platform.requests.length, 0);

    const dispatched = await run({ BULWARK_WEBHOOK_URL: platform.url, BULWARK_WEBHOOK_SECRET: SECRET }, '--json', 'actions', 'dispatch');
    assert.equal(dispatched.code, 0, dispatched.stderr);
    assert.deepEqual(JSON.parse(dispatched.stdout), { attempted: 2, waiting: 0, dead: 0 });
    assert.match(dispatched.stderr, /attempt 1: succeeded 200 -> succeeded/);
    assert.doesNotMatch(dispatched.stderr + dispatched.stdout, /test-secret/);
    assert.equal(platform.requests.length, 2);
    assert.ok(platform.requests.every((r) => r.signatureValid));

    const shown = await run({}, '--json', 'actions', 'show', String(network.id));
    assert.equal(shown.code, 0, shown.stderr);
    const view = JSON.parse(shown.stdout);
    assert.equal(view.status, 'succeeded');
    assert.deepEqual(view.member_status, { succeeded: 2 });
    assert.deepEqual(view.children.map((c: { target: { id: string }; status: string; attempt_log: { status_code: number }[] }) => [c.target.id, c.status, c.attempt_log.map((a) => a.status_code)]), [
      ['acct-1', 'succeeded', [200]],
      ['acct-2', 'succeeded', [200]],
    ]);
    const text = await run({}, 'actions', 'show', String(network.id));
    assert.match(text.stdout, /members\n/);

    assert.equal((await run({}, 'actions', 'retry', String(network.id))).code, 4, 'not dead: a conflict');
    assert.equal((await run({}, 'actions', 'show', '999')).code, 3);
    assert.equal((await run({}, 'actions', 'list', '--status', 'lost')).code, 2);
  });
});
