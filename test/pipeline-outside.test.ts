import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { handOverToJetStream } from '../src/distributed/pipeline-outside.ts';
import { PIPELINE_RELAY } from '../src/distributed/pipeline-relay.ts';
import { ensurePipelineStream } from '../src/distributed/pipeline-streams.ts';
import { DEFAULT_NATS, type NatsSettings } from '../src/distributed/settings.ts';
import { type NatsServer, startNatsServer, testNamespace } from './helpers/nats.ts';
import { postgresAvailable, scratchDatabase } from './helpers/postgres-scratch.ts';

const nats: NatsServer | undefined = await startNatsServer();
const enabled = nats !== undefined && (await postgresAvailable());

describe('a command on a deployment whose stages run on JetStream', { skip: !enabled }, () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  let bulwark: Bulwark;
  before(async () => {
    db = await scratchDatabase();
    bulwark = await openBulwark({ databaseUrl: db.url, hashing: { workers: 0 }, dispatchActions: false });
  });
  after(async () => {
    await bulwark?.close();
    await db?.drop();
    await nats?.close();
  });

  it('keeps reading stages from the outbox while no relay ever ran', async () => {
    assert.equal(await handOverToJetStream(bulwark, undefined), undefined);
  });

  it('hands its stages over once a relay has a position, and settles the statement stage only by asking NATS', async () => {
    await bulwark.sql.query('INSERT INTO consumer_offsets (consumer) VALUES ($1)', [PIPELINE_RELAY]);
    const settings: NatsSettings = { ...DEFAULT_NATS, url: nats!.url, namespace: testNamespace() };
    assert.equal(await handOverToJetStream(bulwark, { ...settings, pipeline: 'outbox' }), undefined, 'a deployment switched back to the outbox');

    const blind = await handOverToJetStream(bulwark, undefined);
    assert.ok(blind);
    assert.equal(await bulwark.dsa.consumer.drain(), 0, 'a handed-over stage reads nothing itself');
    await assert.rejects(bulwark.dsa.consumer.settled(0), /cannot be read from this process/, 'without NATS settings: refused, not half the figures');
    await blind.close();

    const nc = await connect({ servers: nats!.url });
    await ensurePipelineStream(await jetstreamManager(nc), settings, bulwark.pipelineStages.map((stage) => stage.name));
    await nc.close();
    const seeing = await handOverToJetStream(bulwark, settings);
    // Nothing was decided, nothing is queued: the stage is settled at once.
    await bulwark.dsa.consumer.settled(0);
    await seeing!.close();
  });
});
