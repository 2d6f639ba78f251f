import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ACTION_DELIVERY_CONCURRENCY } from '../src/actions/action-service.ts';
import { HASH_MATCH_LABELLER } from '../src/app.ts';
import { pipelineNames } from '../src/distributed/pipeline-streams.ts';
import { DEFAULT_NATS } from '../src/distributed/settings.ts';
import { NOTICE_TRACKER } from '../src/legal/notices.ts';
import { RULE_RUNNER } from '../src/rules/active-rules.ts';
import type { BulwarkProcess } from './helpers/bulwark-process.ts';
import { Cluster } from './helpers/cluster.ts';
import { type NatsServer, startNatsServer } from './helpers/nats.ts';
import { postgresAvailable, until } from './helpers/postgres-scratch.ts';

const UPLOADS = Number(process.env.BULWARK_PIPELINE_UPLOADS ?? 300);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const nats: NatsServer | undefined = await startNatsServer();
const enabled = nats !== undefined && (await postgresAvailable());

describe('the pipeline’s own events through JetStream work queues (one api, two workers)', { skip: !enabled, timeout: 600_000 }, () => {
  const cluster = new Cluster(nats!, 'pipe', { bankSize: 40, env: { BULWARK_NATS_MAX_DELIVER: '2' } });
  const { bankHashes, platform } = cluster;
  const headers = { authorization: `Bearer ${cluster.apiKey}`, 'content-type': 'application/json' };
  const n = pipelineNames(DEFAULT_NATS);
  before(() => cluster.setUp());
  after(() => cluster.tearDown());
  const count = (query: string, params: unknown[] = []) => cluster.count(query, params);
  const start = (role: 'api' | 'worker') => cluster.start(role);
  /** A worker is ready once /healthz says every consumer it pulls is running. */
  const ready = (worker: BulwarkProcess) =>
    until(async () => ((await (await fetch(`${worker.url}/healthz`)).json()) as { status: string }).status === 'ok');
  const outboxStatus = async (api: BulwarkProcess) =>
    ((await (await fetch(`${api.url}/v1/outbox/status`, { headers })).json()) as { consumers: { name: string; behind: number; queued?: number }[] }).consumers;

  it('hands each stage’s events to both workers, each with its effect once across a kill -9, and dead-letters a poison message', async () => {
    const api = await start('api');
    const first = await start('worker');
    const second = await start('worker');
    await ready(first);
    await ready(second);

    let matched = 0;
    const upload = async (i: number) => {
      const matches = i % 2 === 0;
      const response = await fetch(`${api.url}/v1/content`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ content_id: `pipe-${i}`, account_id: `uploader-${i}`, signals: [{ signal_type: 'pdq', value: matches ? bankHashes[i % bankHashes.length] : hex(32), quality: 90 }] }),
      });
      assert.equal(response.status, 201, await response.text());
      if (matches) matched++;
    };
    const uploads = (async () => {
      for (let i = 0; i < UPLOADS; i += 6) await Promise.all(Array.from({ length: Math.min(6, UPLOADS - i) }, (_, k) => upload(i + k)));
    })();

    // Mid-stream: some matches have been through the rules stage, most not yet uploaded.
    await until(async () => (await count('SELECT count(*) AS n FROM pipeline_deliveries WHERE stage = $1', [RULE_RUNNER])) >= 10);
    await first.crash();
    await start('worker');
    await uploads;

    // Everything handed over and handled: the work queue is empty and no stage is behind.
    await until(async () => (await outboxStatus(api)).every((consumer) => consumer.behind === 0) && (await count("SELECT count(*) AS n FROM cases WHERE subject_kind = 'content'")) === matched);
    const status = await outboxStatus(api);
    assert.ok(status.some((consumer) => consumer.name === RULE_RUNNER && consumer.queued === 0), JSON.stringify(status));
    await until(async () => (await jetstreamManager(cluster.nc).then((jsm) => jsm.streams.info(n.stream))).state.messages === 0);

    // Each effect once, though a worker died with messages in hand and they were delivered again.
    const contentMatched = await count("SELECT count(*) AS n FROM events WHERE type = 'content.matched'");
    assert.equal(contentMatched, matched);
    assert.equal(await count('SELECT count(*) AS n FROM pipeline_deliveries WHERE stage = $1', [RULE_RUNNER]), matched, 'the rules stage took each match once');
    assert.equal(await count("SELECT count(*) AS n FROM decisions WHERE automated"), matched, 'one automated decision per match');
    assert.equal(await count("SELECT count(*) AS n FROM cases WHERE subject_kind = 'content'"), matched, 'one case per match');
    assert.equal(await count("SELECT count(*) AS n FROM account_labels WHERE source = 'hash_match'"), matched, 'one hash-match label per match');
    assert.equal(await count('SELECT count(*) AS n FROM pipeline_deliveries WHERE stage = $1', [HASH_MATCH_LABELLER]), matched);
    const decided = await count("SELECT count(*) AS n FROM events WHERE type = 'case.decided'");
    assert.equal(await count('SELECT count(*) AS n FROM pipeline_deliveries WHERE stage = $1', [NOTICE_TRACKER]), decided, 'the notice tracker took each decision once');
    // Both workers did the work (the killed one and the survivor, and the one started after).
    assert.ok((await count('SELECT count(DISTINCT worker) AS n FROM pipeline_deliveries')) >= 2, 'stages ran in more than one worker');

    // Every removal delivered, one idempotency key per match; repeats only from the killed worker's in-flight deliveries.
    await until(async () => (await count("SELECT count(*) AS n FROM actions WHERE status <> 'succeeded'")) === 0);
    assert.equal(await count("SELECT count(*) AS n FROM actions WHERE type = 'remove_content'"), matched);
    const removals = platform.received.filter((action) => action.type === 'remove_content');
    assert.equal(new Set(removals.map((action) => action.idempotencyKey)).size, matched);
    assert.ok(removals.length - matched <= ACTION_DELIVERY_CONCURRENCY, `${removals.length - matched} repeated deliveries`);

    // A message delivered again for an event its stage handled already is acked with no effect.
    const handled = (await cluster.client.query("SELECT seq, tx_id::text AS tx_id, type, subject, payload, occurred_at FROM events WHERE type = 'content.matched' ORDER BY seq LIMIT 1")).rows[0];
    const again = { event_id: `outbox-${handled.seq}`, seq: Number(handled.seq), tx_id: handled.tx_id, type: handled.type, subject: handled.subject, payload: handled.payload, occurred_at: handled.occurred_at.toISOString() };
    const js = jetstream(cluster.nc);
    await js.publish(n.subject(RULE_RUNNER, 3), JSON.stringify(again), { msgID: 'replayed-by-test' });
    await until(async () => (await jetstreamManager(cluster.nc).then((jsm) => jsm.streams.info(n.stream))).state.messages === 0);
    assert.equal(await count('SELECT count(*) AS n FROM decisions WHERE automated'), matched, 'the replayed match decided nothing');

    // Poison: a message that is not an event, and one whose handling fails every time.
    await js.publish(n.subject(RULE_RUNNER, 0), 'not json');
    const bogus = { event_id: 'outbox-900000000001', seq: 900_000_000_001, tx_id: '1', type: 'content.matched', subject: 'content:bogus', payload: {}, occurred_at: new Date(0).toISOString() };
    await js.publish(n.subject(HASH_MATCH_LABELLER, 1), JSON.stringify(bogus));
    type Letters = { dead_letters: { seq: number; subject: string; error: string; event_ids: string[] }[] };
    const letters = async () => ((await (await fetch(`${api.url}/v1/dead-letters`, { headers })).json()) as Letters).dead_letters;
    await until(async () => (await letters()).length === 2);
    const [unusable, failing] = (await letters()).sort((a, b) => a.seq - b.seq);
    assert.equal(unusable.subject, n.subject(RULE_RUNNER, 0));
    assert.match(unusable.error, /not JSON/);
    assert.equal(failing.subject, n.subject(HASH_MATCH_LABELLER, 1));
    assert.match(failing.error, /failed 2 times/);
    assert.deepEqual(failing.event_ids, ['outbox-900000000001']);
    assert.equal(await count('SELECT count(*) AS n FROM pipeline_deliveries WHERE event_seq = $1', [bogus.seq]), 0, 'a failed handling leaves no trace');
    // The partitions behind them moved on: a new match after the poison is handled.
    await upload(UPLOADS);
    await until(async () => (await count("SELECT count(*) AS n FROM cases WHERE subject_kind = 'content'")) === matched);
  });
});
