import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { verifyWebhookSignature } from '../src/actions/signature.ts';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { BlobCheckpointSink, WebhookCheckpointSink } from '../src/audit/checkpoint-sinks.ts';
import { auditConfigFromEnv } from '../src/audit/config.ts';
import { buildServer } from '../src/http/server.ts';
import { S3BlobStore } from '../src/preservation/s3-blob-store.ts';
import { LocalHttpServer, readBody } from './helpers/local-http-server.ts';
import { S3TestServer } from './helpers/s3-server.ts';

const BUCKET = 'audit-checkpoints-test';

/** A receiver that keeps what it is sent, checking the signature as a partner would. */
class CheckpointReceiver {
  readonly received: { body: Record<string, unknown>; idempotencyKey: string }[] = [];
  readonly refused: number[] = [];
  private readonly server = new LocalHttpServer((request, response) => {
    void readBody(request).then((bytes) => {
      const body = bytes.toString('utf8');
      if (!verifyWebhookSignature(this.secret, String(request.headers['x-bulwark-timestamp']), body, String(request.headers['x-bulwark-signature']))) {
        this.refused.push(this.refused.length);
        response.writeHead(401).end();
        return;
      }
      this.received.push({ body: JSON.parse(body) as Record<string, unknown>, idempotencyKey: String(request.headers['idempotency-key']) });
      response.writeHead(204).end();
    });
  });
  url = '';

  constructor(readonly secret: string) {}

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await this.server.listen()}/checkpoints`;
    return this;
  }

  stop(): Promise<void> {
    return this.server.close();
  }
}

describe('audit checkpoints outside the database: S3-compatible blob store and webhook; GET /v1/audit/verify compares with them', () => {
  const s3 = new S3TestServer();
  const receiver = new CheckpointReceiver('checkpoint-secret-0123456789');
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    await s3.start();
    await s3.createBucket(BUCKET);
    await receiver.start();
    const signingKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const audit = await auditConfigFromEnv({
      BULWARK_AUDIT_KEY: randomBytes(32).toString('hex'),
      BULWARK_AUDIT_SIGNING_KEY: signingKey,
      BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL: receiver.url,
      BULWARK_AUDIT_CHECKPOINT_WEBHOOK_SECRET: receiver.secret,
    });
    // The blob store as BULWARK_AUDIT_CHECKPOINT_STORE=preservation builds it, pointed at the stand-in S3.
    audit.checkpointBlobStore = new S3BlobStore({ endpoint: s3.endpoint, bucket: BUCKET, region: s3.region, credentials: s3.credentials, prefix: 'bulwark' });
    bulwark = await openBulwark({ bankRefreshMs: 0, audit });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('auditor')).key}` };
  });
  after(async () => {
    await app?.close();
    await bulwark?.close();
    await receiver.stop();
    await s3.stop();
  });

  it('reads the environment: `preservation` is the only store name, and a webhook needs its secret', async () => {
    await assert.rejects(auditConfigFromEnv({ BULWARK_AUDIT_CHECKPOINT_STORE: 's3' }), /BULWARK_AUDIT_CHECKPOINT_STORE is `preservation`/);
    await assert.rejects(auditConfigFromEnv({ BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL: 'http://127.0.0.1:1/x' }), /BULWARK_AUDIT_CHECKPOINT_WEBHOOK_SECRET is needed/);
    const config = await auditConfigFromEnv({ BULWARK_AUDIT_CHECKPOINT_STORE: 'preservation', BULWARK_PRESERVATION_DIR: '/nonexistent/for-test' });
    assert.equal(config.checkpointBlobStore?.kind, 'filesystem');
  });

  it('writes each checkpoint to the bucket and the webhook, and finds the newest entries cut off afterwards', async () => {
    const sinks = bulwark.auditCheckpoints.sinks;
    assert.ok(sinks.some((sink) => sink instanceof BlobCheckpointSink) && sinks.some((sink) => sink instanceof WebhookCheckpointSink));
    for (let i = 0; i < 5; i++) await bulwark.sql.transaction((tx) => bulwark.audit.append(tx, { actor: 'lead-one', action: 'case.decided', subject: `case:${i + 1}`, detail: {} }));
    const written = await bulwark.auditCheckpoints.checkpoint();
    const count = written.checkpoint!.count;
    assert.ok(count >= 5);

    const keys = await s3.keys(BUCKET, 'bulwark/audit-checkpoints/');
    assert.deepEqual(keys.sort(), [`bulwark/audit-checkpoints/${String(count).padStart(15, '0')}.json`, 'bulwark/audit-checkpoints/latest.json']);
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0].body.count, count);
    assert.equal(receiver.refused.length, 0);

    const intact = (await app.inject({ url: '/v1/audit/verify', headers: auth })).json();
    assert.equal(intact.intact, true, JSON.stringify(intact));
    assert.equal(intact.checkpoints.checked, 1);
    assert.equal(intact.checkpoints.newest.count, count);
    assert.match(intact.checkpoints.newest.source, /blob store .*latest\.json/);

    // The database's owner cuts the newest two entries: the chain alone still links up…
    await bulwark.sql.transaction(async (tx) => {
      await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      await tx.query('DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log)');
      await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
    });
    const chainOnly = (await app.inject({ url: '/v1/audit/verify?checkpoint=none', headers: auth })).json();
    assert.equal(chainOnly.intact, true);
    assert.equal(chainOnly.checkpoints.checked, 0);
    // …but not against the checkpoint in the bucket, which names the first missing entry.
    const cut = (await app.inject({ url: '/v1/audit/verify', headers: auth })).json();
    assert.equal(cut.intact, false);
    assert.equal(cut.failure.position, count - 1);
    assert.equal(cut.failure.seq, null);
    assert.match(cut.failure.reason, new RegExp(`had ${count} entries`));
  });

  it('refuses an unknown checkpoint mode with a 400', async () => {
    const response = await app.inject({ url: '/v1/audit/verify?checkpoint=yesterday', headers: auth });
    assert.equal(response.statusCode, 400);
  });
});
