import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { publishPlatformEvents } from '../src/distributed/publish.ts';
import { type Distributed, startDistributed } from '../src/distributed/runtime.ts';
import type { NatsSettings } from '../src/distributed/settings.ts';
import { names } from '../src/distributed/subjects.ts';
import { LaneWorker, storeUnavailable } from '../src/distributed/lane-worker.ts';
import { buildServer } from '../src/http/server.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { type NatsServer, startNatsServer, testNamespace } from './helpers/nats.ts';
import { postgresAvailable, until } from './helpers/postgres-scratch.ts';
import { POSTGRES_URL } from './helpers/stores.ts';

const nats = await startNatsServer();
const enabled = nats !== undefined && (await postgresAvailable());
const AT = '2026-11-25T10:00:00Z';

/** One worker process's worth of Bulwark on a shared schema, pulling from JetStream. */
interface Worker {
  bulwark: Bulwark;
  distributed: Distributed;
}

describe('platform events on NATS JetStream', { skip: !enabled, timeout: 180_000 }, () => {
  const schemas: string[] = [];
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  before(async () => {
    nc = await connect({ servers: nats!.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await nats?.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  const settingsFor = (overrides: Partial<NatsSettings> = {}): NatsSettings => ({ url: nats!.url, namespace: testNamespace(), partitions: 4, ackWaitMs: 5000, maxDeliver: 5, pipeline: 'outbox', pipelinePartitions: 4, ...overrides });
  const newSchema = () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  const startWorker = async (schema: string, settings: NatsSettings): Promise<Worker> => {
    const bulwark = await openBulwark({ databaseUrl: POSTGRES_URL, schema, hashing: { workers: 0 }, role: 'worker' });
    const distributed = startDistributed(bulwark, settings, 'worker', (level, message) => process.env.DEBUG_NATS && process.stderr.write(`${level}: ${message}\n`));
    await distributed.deadLetters;
    return { bulwark, distributed };
  };
  const stopWorker = async (worker: Worker) => {
    await worker.distributed.close();
    await worker.bulwark.close();
  };
  const count = async (bulwark: Bulwark, query: string) => Number((await bulwark.sql.query<{ n: string }>(query)).rows[0].n ?? 0);
  /** Nothing waits in the event stream: every message was acked (after its commit) or dead-lettered. */
  const streamEmpty = async (settings: NatsSettings) => (await jsm.streams.info(names(settings).eventStream)).state.messages === 0;
  /** Every lane and the splitter have nothing left to deliver and nothing unacked. */
  const consumersSettled = async (settings: NatsSettings) => {
    const n = names(settings);
    for (const durable of [...Array.from({ length: settings.partitions }, (_, p) => n.laneConsumer(p)), n.repartitioner]) {
      const info = await jsm.consumers.info(n.eventStream, durable);
      if (info.num_pending + info.num_ack_pending > 0) return false;
    }
    return true;
  };
  const deadCount = async (settings: NatsSettings) => (await jsm.streams.info(names(settings).deadStream)).state.messages;

  it('applies each event once in effect, however often it is published, with two workers sharing the lanes', async () => {
    const settings = settingsFor();
    const schema = newSchema();
    const workers = [await startWorker(schema, settings), await startWorker(schema, settings)];
    const events: PlatformEventInput[] = Array.from({ length: 2000 }, (_, i) => ({ event_id: `m-${i}`, type: 'message', actor: `acct-${i % 97}`, target: `acct-${(i * 7) % 89}-b`, occurred_at: AT }));
    for (let i = 0; i < events.length; i += 100) await publishPlatformEvents(js, settings, 'web', events.slice(i, i + 100));
    // The same events again in other batches (other message ids, so JetStream keeps them), some unsplit.
    for (let i = 0; i < events.length; i += 37) await publishPlatformEvents(js, settings, 'web', events.slice(i, i + 37));
    for (let i = 0; i < 500; i += 50) await js.publish(`${settings.namespace}.events.web`, JSON.stringify(events.slice(i, i + 50)), { msgID: `raw-${i}` });
    await until(async () => (await streamEmpty(settings)) && (await count(workers[0].bulwark, 'SELECT count(*) AS n FROM platform_event_ids')) === 2000);
    assert.equal(await count(workers[0].bulwark, "SELECT sum(count) AS n FROM account_edges WHERE kind = 'message'"), 2000, 'every message counted once');
    assert.equal(await deadCount(settings), 0);
    for (const worker of workers) assert.equal(worker.distributed.status().consumers.length, settings.partitions + 2, 'the lanes, the splitter and the hash-job consumer');
    for (const worker of workers) await stopWorker(worker);
  });

  it("keeps one account's events in order across lanes, workers and the unsplit subject", async () => {
    const settings = settingsFor();
    const schema = newSchema();
    const workers = [await startWorker(schema, settings), await startWorker(schema, settings)];
    // Follows and unfollows at one instant: the last one applied decides the edge, so only order makes it right.
    const last = new Map<string, boolean>();
    const perAccount = (account: string, n: number) =>
      Array.from({ length: n }, (_, i): PlatformEventInput => {
        const follow = ((i * 2654435761) >>> 7) % 3 !== 0;
        last.set(account, follow);
        return { event_id: `${account}-${i}`, type: follow ? 'follow' : 'unfollow', actor: account, target: 'hub', occurred_at: AT };
      });
    const laneAccounts = Array.from({ length: 30 }, (_, a) => perAccount(`lane-${a}`, 25));
    const unsplitAccounts = Array.from({ length: 10 }, (_, a) => perAccount(`raw-${a}`, 25));
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < 25; i++) {
      // Interleaved across accounts and one event per message: the most chances to reorder.
      for (const list of laneAccounts) publishes.push(publishPlatformEvents(js, settings, 'app', [list[i]]));
      for (const list of unsplitAccounts) publishes.push(js.publish(`${settings.namespace}.events.app`, JSON.stringify(list[i]), { msgID: list[i].event_id! }));
    }
    await Promise.all(publishes);
    await until(async () => (await streamEmpty(settings)) && (await count(workers[0].bulwark, 'SELECT count(*) AS n FROM platform_event_ids')) === 1000);
    const rows = await workers[0].bulwark.sql.query<{ external_id: string; active: boolean }>(
      `SELECT a.external_id, e.active FROM account_edges e JOIN accounts a ON a.id = e.src JOIN accounts h ON h.id = e.dst WHERE h.external_id = 'hub' AND e.kind = 'follow'`,
    );
    const actual = new Map(rows.rows.map((row) => [row.external_id, row.active]));
    for (const [account, follows] of last) assert.equal(actual.get(account) ?? false, follows, `${account} ends as its last event says`);
    for (const worker of workers) await stopWorker(worker);
  });

  it('dead-letters invalid messages at once and failing ones after max_deliver, lists them over HTTP and retries them', async () => {
    const settings = settingsFor({ maxDeliver: 2 });
    const schema = newSchema();
    const worker = await startWorker(schema, settings);
    const app = await buildServer(worker.bulwark, { distributed: worker.distributed });
    const auth = { authorization: `Bearer ${(await worker.bulwark.apiKeys.create('platform')).key}` };
    const lane = `${settings.namespace}.events.app.p0`;
    await js.publish(lane, '{"type": "follow",', { msgID: 'broken-json' });
    await js.publish(lane, JSON.stringify([{ event_id: 'v1', type: 'follow', actor: 'x', target: 'y', occurred_at: AT }, { event_id: 'v2', type: 'follow', actor: 'x', occurred_at: AT }]), { msgID: 'invalid' });
    await js.publish(lane, JSON.stringify({ type: 'follow', actor: 'x', target: 'y', occurred_at: AT }), { msgID: 'no-id' });
    await until(async () => (await deadCount(settings)) === 3);
    // The database refuses the next batch until it is repaired: a failure that is no fault of the message.
    await worker.bulwark.sql.query('ALTER TABLE platform_event_ids RENAME TO platform_event_ids_away');
    await js.publish(lane, JSON.stringify([{ event_id: 'ok-1', type: 'message', actor: 'x', target: 'y', occurred_at: AT }]), { msgID: 'ok-1' });
    await until(async () => (await deadCount(settings)) === 4);
    await worker.bulwark.sql.query('ALTER TABLE platform_event_ids_away RENAME TO platform_event_ids');

    const listed = await app.inject({ url: '/v1/dead-letters', headers: auth });
    assert.equal(listed.statusCode, 200);
    const letters = listed.json().dead_letters as { seq: number; error: string; problems: { path: string }[]; event_ids: string[]; deliveries: number }[];
    assert.equal(letters.length, 4);
    assert.match(letters[0].error, /^not JSON/);
    assert.match(letters[1].error, /1 of 2 events are invalid/);
    assert.deepEqual(letters[1].problems.map((p) => p.path), ['target']);
    assert.deepEqual(letters[1].event_ids, ['v1', 'v2']);
    assert.match(letters[2].error, /no event_id/);
    assert.match(letters[3].error, /failed 2 times; last error: .*platform_event_ids/);
    assert.equal(letters[3].deliveries, 2);
    assert.doesNotMatch(listed.body, /"actor"/, 'a listing carries no event content');

    const retried = await app.inject({ method: 'POST', url: '/v1/dead-letters/retry', headers: auth, payload: { seqs: [letters[3].seq] } });
    assert.equal(retried.statusCode, 200);
    await until(async () => (await streamEmpty(settings)) && (await count(worker.bulwark, "SELECT count(*) AS n FROM platform_event_ids WHERE event_id = 'ok-1'")) === 1);
    assert.equal((await app.inject({ url: '/v1/dead-letters', headers: auth })).json().total, 3);
    assert.equal((await app.inject({ url: '/healthz' })).json().status, 'ok');
    await app.close();
    await stopWorker(worker);
  });

  it('holds a message while the store is unavailable, without spending its deliveries, and applies it once the store answers', async () => {
    // Its own stream and one lane, with a handler that meets a store refusing connections twice.
    const settings = settingsFor({ maxDeliver: 1 });
    const schema = newSchema();
    const worker = await startWorker(schema, settings);
    const n = names(settings);
    let refusals = 2;
    let applied = 0;
    let storeChecks = 0;
    const lane = new LaneWorker(
      worker.distributed.link,
      js,
      n.eventStream,
      n.laneConsumer(1),
      async () => {
        if (refusals-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        applied++;
      },
      await worker.distributed.deadLetters,
      settings,
      (level, message) => process.env.DEBUG_NATS && process.stderr.write(`${level}: ${message}\n`),
      async () => void storeChecks++,
    );
    // The worker's own puller of that lane steps aside so the test's handler gets the message.
    await worker.distributed.close();
    lane.start();
    await js.publish(`${settings.namespace}.events.app.p1`, JSON.stringify([{ event_id: 'held-1', type: 'message', actor: 'x', target: 'y', occurred_at: AT }]), { msgID: 'held-1' });
    await until(async () => applied === 1 && (await streamEmpty(settings)));
    assert.equal(storeChecks, 2, 'pulling waited for the store after each refusal');
    assert.equal(await deadCount(settings), 0, 'with max_deliver 1, a counted failure would have been dead-lettered');
    assert.ok(!storeUnavailable(Object.assign(new Error('relation "x" does not exist'), { code: '42P01' })));
    assert.ok(storeUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
    await lane.stop();
    await worker.bulwark.close();
  });

  it('loses nothing accepted when NATS goes away and comes back; the worker reconnects and /healthz says degraded meanwhile', async () => {
    const settings = settingsFor({ ackWaitMs: 2000 });
    const schema = newSchema();
    const worker = await startWorker(schema, settings);
    const app = await buildServer(worker.bulwark, { distributed: worker.distributed });
    const health = async () => (await app.inject({ url: '/healthz' })).json() as { status: string; nats: { state: string; consumers: string[] } };
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i): PlatformEventInput => ({ event_id: `f-${from + i}`, type: 'message', actor: `acct-${(from + i) % 53}`, target: 'hub', occurred_at: AT }));
    // Accepted (acked by JetStream) just before the server dies; some are still waiting in lanes then.
    for (let i = 0; i < 3000; i += 50) await publishPlatformEvents(js, settings, 'app', batch(i, 50));
    await nats!.kill();
    await until(async () => (await health()).status === 'degraded');
    assert.notEqual((await health()).nats.state, 'connected');
    await nats!.start();
    await until(async () => (await health()).status === 'ok');
    // The test's own publisher reconnects on its own schedule; a fresh connection is simply ready.
    await nc.close();
    nc = await connect({ servers: nats!.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    for (let i = 3000; i < 4000; i += 50) await publishPlatformEvents(js, settings, 'app', batch(i, 50));
    // Not an empty stream: a server killed with SIGKILL may come back with messages it had already
    // delivered and seen acked still stored, behind the consumers' ack floors, never delivered again.
    await until(async () => (await consumersSettled(settings)) && (await count(worker.bulwark, 'SELECT count(*) AS n FROM platform_event_ids')) === 4000);
    assert.equal(await count(worker.bulwark, "SELECT sum(count) AS n FROM account_edges WHERE kind = 'message'"), 4000);
    assert.equal((await health()).nats.consumers.length, settings.partitions + 2, 'the lanes, the splitter and the hash-job consumer');
    await app.close();
    await stopWorker(worker);
  });
});
