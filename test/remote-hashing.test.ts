import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import sharp from 'sharp';
import { openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { JetStreamHashing } from '../src/distributed/hash-jobs/remote-hashing.ts';
import { DEFAULT_REMOTE_HASHING, type RemoteHashingSettings } from '../src/distributed/hash-jobs/settings.ts';
import { hashJobNames } from '../src/distributed/hash-jobs/streams.ts';
import { DEFAULT_NATS, type NatsSettings } from '../src/distributed/settings.ts';
import { BulwarkError, RetryLaterError } from '../src/errors.ts';
import { buildServer } from '../src/http/server.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { InlineHashing } from '../src/signals/hashing/inline.ts';
import type { MediaHashing } from '../src/signals/hashing/media-hashing.ts';
import { HashingBusyError, WorkerPoolHashing } from '../src/signals/hashing/worker-pool.ts';
import { hashJobWorkerHere, hashJobWorkerProcess } from './helpers/hash-job-workers.ts';
import { type NatsServer, startNatsServer, testNamespace } from './helpers/nats.ts';
import { expectProblem } from './helpers/problems.ts';
import { makeVideo, videoTestsSkipReason } from './helpers/video.ts';
import { startBulwarkProcess } from './helpers/bulwark-process.ts';
import { postgresAvailable, scratchDatabase } from './helpers/postgres-scratch.ts';

/** Resolves once `check` holds, looking again after each short turn of the timers. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const server: NatsServer | undefined = await startNatsServer();
const local = new InlineHashing(defaultSignalRegistry());
const postgresReachable = await postgresAvailable();

/**
 * Settings of a namespace of the test's own. ack_wait is short so a killed worker's job comes
 * back soon, yet long beside the keep-alive a live worker sends every third of it, so a worker
 * slowed by a busy machine keeps its job.
 */
function natsSettings(overrides: Partial<NatsSettings> = {}): NatsSettings {
  return { ...DEFAULT_NATS, url: server!.url, namespace: testNamespace(), ackWaitMs: 3000, maxDeliver: 2, ...overrides };
}

/** An api-side hashing that never gives up on the workers unless told (no answer is awaited by the clock). */
async function remoteHashing(nats: NatsSettings, overrides: Partial<RemoteHashingSettings> = {}): Promise<JetStreamHashing> {
  const hashing = new JetStreamHashing(local, { ...DEFAULT_REMOTE_HASHING, nats, answerTimeoutMs: 3_600_000, fallback: 'refuse', ...overrides });
  await until(() => hashing.stats().jetstream!.ready || hashing.stats().jetstream!.link === 'closed');
  return hashing;
}

describe('hashing jobs over JetStream', { skip: server ? false : 'nats-server not installed' }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-remote-hash-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await local.close();
    await server?.close();
  });

  it('gives exactly the hashes local hashing gives, for images and a video, with the options sent along', async () => {
    const nats = natsSettings();
    const worker = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 2 }));
    const api = await remoteHashing(nats);
    try {
      const images = [await encodeImage(shapesImage(11, 640, 480), 'jpeg'), await encodeImage(shapesImage(12, 900, 700), 'png')];
      for (const bytes of images) {
        assert.deepEqual(await api.hash('photo', bytes, { variants: true }), await local.hash('photo', bytes, { variants: true }));
        assert.deepEqual(await api.hash('photo', bytes), await local.hash('photo', bytes));
      }
      await assert.rejects(api.hash('photo', Buffer.from('plain text, not a picture')), (error: unknown) => error instanceof BulwarkError && error.kind === 'unsupported_media');
      if (!videoTestsSkipReason()) {
        const video = makeVideo(join(dir, 'clip.mp4'), ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=3', '-pix_fmt', 'yuv420p']);
        for (const secondsPerHash of [0.5, 1]) {
          const options = { video: { secondsPerHash } };
          const remote = await api.hash('video', { path: video }, options);
          assert.deepEqual(remote, await local.hash('video', { path: video }, options));
          assert.equal(remote.find((signal) => signal.signalType === 'vpdq')?.frameCount, 3 / secondsPerHash, 'the frame rate option reached the worker');
        }
      }
      const stats = api.stats();
      assert.equal(stats.mode, 'jetstream');
      assert.equal(stats.jetstream!.fallbacks, 0);
      assert.equal(stats.jetstream!.answered, videoTestsSkipReason() ? 5 : 7);
      assert.equal(stats.jetstream!.inFlight, 0);
      assert.equal(worker.worker.counts.hashed, stats.jetstream!.answered);
    } finally {
      await api.close();
      await worker.close();
    }
  });

  it('sends media larger than a NATS message through the object store, and deletes it when answered', async () => {
    const nats = natsSettings();
    const worker = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 1 }));
    const api = await remoteHashing(nats);
    const nc = await connect({ servers: server!.url });
    try {
      // Noise does not compress: 1200 x 1000 RGB is about 3.6 MB as PNG, beyond the 1 MB message limit.
      const large = await sharp(randomBytes(1200 * 1000 * 3), { raw: { width: 1200, height: 1000, channels: 3 } }).png().toBuffer();
      assert.ok(large.length > nc.info!.max_payload, `${large.length} bytes is more than one message takes`);
      const path = join(dir, 'large.png');
      await sharp(large).toFile(path);
      assert.deepEqual(await api.hash('photo', large), await local.hash('photo', large));
      assert.deepEqual(await api.hash('photo', { path }), await local.hash('photo', { path }));
      assert.equal(api.stats().jetstream!.viaObjectStore, 2);
      const bucket = await new Objm(jetstream(nc)).open(hashJobNames(nats).bucket);
      // Deleting is not awaited by the upload: wait for the bucket to empty rather than for some time.
      for (;;) {
        const left = (await bucket.list()).filter((entry) => !entry.deleted);
        if (left.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await nc.close();
      await api.close();
      await worker.close();
    }
  });

  it('hands the job of a worker killed mid-job to another worker, and takes its answer once', async () => {
    // Deliveries are not what this test counts: a busy machine may add one before the kill.
    const nats = natsSettings({ maxDeliver: 10 });
    const api = await remoteHashing(nats);
    const stalled = hashJobWorkerProcess(nats, 'stall');
    let healthy: ReturnType<typeof hashJobWorkerProcess> | undefined;
    try {
      const image = await encodeImage(shapesImage(21, 500, 400), 'png');
      const answer = api.hash('photo', image);
      await stalled.line('job photo');
      await stalled.kill();
      healthy = hashJobWorkerProcess(nats, 'pool');
      assert.deepEqual(await answer, await local.hash('photo', image));
      const stats = api.stats().jetstream!;
      assert.equal(stats.answered, 1);
      assert.equal(stats.redelivered, 1, 'the one answer came from a later delivery');
      assert.equal(stats.fallbacks, 0);
    } finally {
      await stalled.kill();
      await healthy?.kill();
      await api.close();
    }
  });

  it('dead-letters a job that stopped every worker that took it (its header, not its media), and answers the upload with a problem', async () => {
    const nats = natsSettings({ maxDeliver: 2 });
    const api = await remoteHashing(nats);
    let healthy: Awaited<ReturnType<typeof hashJobWorkerHere>> | undefined;
    try {
      const image = await encodeImage(shapesImage(31, 400, 300), 'png');
      const answer = api.hash('photo', image);
      answer.catch(() => undefined);
      // Deliveries 1 and 2 each stop a worker (killed as a decoder crash would kill it).
      for (let delivery = 1; delivery <= 2; delivery++) {
        const stalled = hashJobWorkerProcess(nats, 'stall');
        await stalled.line('job photo');
        await stalled.kill();
      }
      healthy = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 1 }));
      await assert.rejects(answer, (error: unknown) => {
        assert.ok(error instanceof BulwarkError);
        assert.equal(error.kind, 'invalid');
        assert.match(error.message, /could not be hashed: it stopped the hashing workers 2 times/);
        return true;
      });
      assert.equal(healthy.worker.counts.deadLettered, 1);
      assert.equal(healthy.worker.counts.hashed, 0);
      const { deadLetters } = await healthy.dead.list();
      assert.equal(deadLetters.length, 1);
      assert.equal(deadLetters[0].subject, hashJobNames(nats).subject);
      assert.match(deadLetters[0].error, /delivered 3 times without an answer/);
      assert.ok(deadLetters[0].bytes < 300, `the dead letter keeps the job's header only, not the ${image.length} bytes of media`);
    } finally {
      await healthy?.close();
      await api.close();
    }
  });

  it('pulls only the jobs a worker can start: one that arrives while it is full goes to another worker, first time', async () => {
    const nats = natsSettings();
    const held: { reject(error: Error): void }[] = [];
    const holding: MediaHashing = {
      hash: () => new Promise((_, reject) => held.push({ reject })),
      // One thread: the worker takes two jobs at once.
      stats: () => ({ mode: 'inline', workers: 1, running: held.length, queued: 0, maxQueue: 0, refused: 0, crashed: 0 }),
      close: async () => undefined,
    };
    const full = await hashJobWorkerHere(nats, holding);
    const api = await remoteHashing(nats);
    let other: Awaited<ReturnType<typeof hashJobWorkerHere>> | undefined;
    try {
      const images = await Promise.all([91, 92, 93].map((seed) => encodeImage(shapesImage(seed, 320, 240), 'png')));
      const first = images.slice(0, 2).map((image) => api.hash('photo', image));
      for (const answer of first) answer.catch(() => undefined);
      await until(() => held.length === 2);
      // A worker that buffered beyond its free slots would hold this job unattended until its ack wait ran out.
      const third = api.hash('photo', images[2]);
      other = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 1 }));
      assert.deepEqual(await third, await local.hash('photo', images[2]));
      assert.equal(api.stats().jetstream!.redelivered, 0, 'the third job was answered on its first delivery');
      assert.equal(held.length, 2, 'the full worker never took the third job');
      const nc = await connect({ servers: server!.url });
      const consumer = await (await jetstreamManager(nc)).consumers.info(hashJobNames(nats).stream, 'hash-workers');
      await nc.close();
      assert.equal(consumer.num_ack_pending, 2, 'only the two jobs being hashed are held');
    } finally {
      for (const job of held) job.reject(new HashingBusyError(1));
      await api.close();
      await other?.close();
      await full.close();
    }
  });

  it('answers a job its workers could not take (pool busy) as unavailable, so the fallback applies, and does not blame the media', async () => {
    const nats = natsSettings({ maxDeliver: 2 });
    let offered = 0;
    const busy: MediaHashing = {
      hash: async () => {
        offered++;
        throw new HashingBusyError(1);
      },
      stats: () => ({ mode: 'inline', workers: 1, running: 0, queued: 0, maxQueue: 0, refused: offered, crashed: 0 }),
      close: async () => undefined,
    };
    const worker = await hashJobWorkerHere(nats, busy);
    const api = await remoteHashing(nats, { fallback: 'refuse', retryAfterSeconds: 4 });
    try {
      const image = await encodeImage(shapesImage(36, 320, 240), 'png');
      await assert.rejects(api.hash('photo', image), (error: unknown) => {
        assert.ok(error instanceof RetryLaterError, `a 503 with Retry-After, not a 4xx: ${String(error)}`);
        assert.equal(error.retryAfterSeconds, 4);
        assert.match(error.message, /could not take the job in 2 deliveries/);
        return true;
      });
      assert.equal(offered, 2, 'each delivery up to maxDeliver was offered to the pool');
      assert.equal(worker.worker.counts.givenUp, 1);
      assert.equal(worker.worker.counts.deadLettered, 0);
      assert.equal((await worker.dead.list()).deadLetters.length, 0);
      assert.equal(api.stats().jetstream!.fallbacks, 1);
    } finally {
      await api.close();
      await worker.close();
    }
  });

  it('falls back when the media bucket is full (BULWARK_HASHING_MEDIA_MAX_BYTES), and sets the cap on a bucket made before', async () => {
    const nats = natsSettings();
    // A worker makes the bucket first, with the default cap; the api's own cap must replace it.
    const worker = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 1 }));
    const cap = 64 * 1024;
    const api = await remoteHashing(nats, { fallback: 'local', mediaMaxBytes: cap, answerTimeoutMs: 600_000 });
    const nc = await connect({ servers: server!.url });
    try {
      const bucket = await (await jetstreamManager(nc)).streams.info(`OBJ_${hashJobNames(nats).bucket}`);
      assert.equal(bucket.config.max_bytes, cap);
      const large = await sharp(randomBytes(800 * 700 * 3), { raw: { width: 800, height: 700, channels: 3 } }).png().toBuffer();
      assert.ok(large.length > nc.info!.max_payload && large.length > cap);
      assert.deepEqual(await api.hash('photo', large), await local.hash('photo', large));
      const stats = api.stats().jetstream!;
      assert.equal(stats.fallbacks, 1, 'the put beyond the cap failed and the job was hashed locally');
      assert.equal(stats.viaObjectStore, 0);
      assert.equal(worker.worker.counts.hashed, 0);
    } finally {
      await nc.close();
      await api.close();
      await worker.close();
    }
  });

  it('holds concurrent uploads to maxInFlight, counting a job from before its first await', async () => {
    const nats = natsSettings();
    // No worker: the one admitted job waits out its answer timeout and is refused by the fallback.
    const api = await remoteHashing(nats, { maxInFlight: 1, fallback: 'refuse', answerTimeoutMs: 200 });
    try {
      const path = join(dir, 'in-flight.png');
      await sharp(await encodeImage(shapesImage(81, 320, 240), 'png')).toFile(path);
      // Media given by path are stat()ed before the job is sent: both calls reach that await together.
      const outcomes = await Promise.allSettled([api.hash('photo', { path }), api.hash('photo', { path })]);
      const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error) : undefined));
      assert.equal(reasons.filter((reason) => reason instanceof HashingBusyError).length, 1, 'one upload was refused as busy at once');
      const waited = reasons.filter((reason) => reason instanceof RetryLaterError && !(reason instanceof HashingBusyError));
      assert.equal(waited.length, 1);
      assert.match(waited[0]!.message, /no hashing worker answered within 200 ms/);
      const stats = api.stats().jetstream!;
      assert.equal(stats.refused, 1);
      assert.equal(stats.fallbacks, 1);
      assert.equal(stats.inFlight, 0, 'the slot is released once the job is done with');
    } finally {
      await api.close();
    }
  });

  it('without a worker answering, hashes locally (fallback local) or refuses with Retry-After (fallback refuse)', async () => {
    const nats = natsSettings();
    const image = await encodeImage(shapesImage(41, 320, 240), 'jpeg');
    const falling = await remoteHashing(nats, { fallback: 'local', answerTimeoutMs: 200 });
    const refusing = await remoteHashing(nats, { fallback: 'refuse', answerTimeoutMs: 200, retryAfterSeconds: 3 });
    try {
      assert.deepEqual(await falling.hash('photo', image), await local.hash('photo', image));
      assert.equal(falling.stats().jetstream!.fallbacks, 1);
      await assert.rejects(refusing.hash('photo', image), (error: unknown) => {
        assert.ok(error instanceof RetryLaterError);
        assert.equal(error.retryAfterSeconds, 3);
        assert.match(error.message, /no hashing worker answered within 200 ms/);
        return true;
      });
      assert.equal(refusing.stats().jetstream!.fallbacks, 1);
    } finally {
      await falling.close();
      await refusing.close();
    }
  });

  it('falls back at once while NATS is away, and sends jobs to the workers again once it is back', async () => {
    const nats = natsSettings();
    await server!.kill();
    // Made while NATS is away: its link keeps trying (a link never connected cannot be closed, so it must come up before the end).
    const api = new JetStreamHashing(local, { ...DEFAULT_REMOTE_HASHING, nats, fallback: 'local', answerTimeoutMs: 3_600_000 });
    let worker: Awaited<ReturnType<typeof hashJobWorkerHere>> | undefined;
    try {
      const image = await encodeImage(shapesImage(51, 320, 240), 'png');
      assert.deepEqual(await api.hash('photo', image), await local.hash('photo', image));
      assert.equal(api.stats().jetstream!.fallbacks, 1);
      assert.equal(api.stats().jetstream!.link, 'connecting');
      await server!.start();
      await until(() => api.stats().jetstream!.ready);
      worker = await hashJobWorkerHere(nats, new WorkerPoolHashing({ workers: 1 }));
      assert.deepEqual(await api.hash('photo', image), await local.hash('photo', image));
      assert.equal(api.stats().jetstream!.answered, 1);
      assert.equal(api.stats().jetstream!.fallbacks, 1);
    } finally {
      await worker?.close();
      await api.close();
    }
  });

  it('answers an upload through the API with 503 and Retry-After when no worker answers and the fallback is refuse, and /healthz says so', async () => {
    const nats = natsSettings();
    const bulwark = await openBulwark({ hashing: { workers: 0, remote: { ...DEFAULT_REMOTE_HASHING, nats, fallback: 'refuse', answerTimeoutMs: 200 } } });
    const app = await buildServer(bulwark, { bodyLimit: 8 * 1024 * 1024 });
    try {
      await until(() => bulwark.hashing.stats().jetstream!.ready);
      const auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
      const image = await encodeImage(shapesImage(61, 320, 240), 'png');
      const refused = await app.inject({ method: 'PUT', url: '/v1/content/remote-1?account_id=acct-1', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
      expectProblem(refused, 503, /no hashing worker answered/);
      assert.equal(refused.headers['retry-after'], String(DEFAULT_REMOTE_HASHING.retryAfterSeconds));
      const hashing = (await app.inject({ url: '/healthz' })).json().hashing;
      assert.equal(hashing.mode, 'jetstream');
      assert.equal(hashing.jetstream.fallbacks, 1);
      assert.equal(hashing.jetstream.inFlight, 0);
    } finally {
      await app.close();
      await bulwark.close();
    }
  });

  it('bulwark serve: an api with BULWARK_HASHING=jetstream has its uploads hashed by a --role worker process', { skip: postgresReachable ? false : 'PostgreSQL not reachable' }, async () => {
    const db = await scratchDatabase();
    const apiKey = `remote-hashing-${randomBytes(16).toString('hex')}`;
    const env = { BULWARK_NATS_NAMESPACE: testNamespace(), BULWARK_HASH_WORKERS: '1', BULWARK_API_KEY: apiKey };
    const worker = await startBulwarkProcess('worker', { databaseUrl: db.url, natsUrl: server!.url, env });
    // refuse: an upload the api hashed itself would fail the assertions below instead of passing unnoticed.
    const api = await startBulwarkProcess('api', { databaseUrl: db.url, natsUrl: server!.url, env: { ...env, BULWARK_HASHING: 'jetstream', BULWARK_HASHING_FALLBACK: 'refuse' } });
    try {
      const image = await encodeImage(shapesImage(71, 480, 360), 'jpeg');
      const upload = await fetch(`${api.url}/v1/content/served-1?account_id=acct-1`, { method: 'PUT', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'image/jpeg' }, body: image });
      const body = await upload.text();
      assert.equal(upload.status, 201, body);
      const pdq = (await local.hash('photo', image)).find((signal) => signal.signalType === 'pdq')!.value;
      assert.ok(body.includes(pdq), 'the stored upload carries the PDQ hash local hashing gives');
      const hashing = ((await (await fetch(`${api.url}/healthz`)).json()) as { hashing: { mode: string; jetstream: { answered: number; fallbacks: number } } }).hashing;
      assert.equal(hashing.mode, 'jetstream');
      assert.equal(hashing.jetstream.answered, 1);
      assert.equal(hashing.jetstream.fallbacks, 0);
      const nats = ((await (await fetch(`${worker.url}/healthz`)).json()) as { nats: { consumers: string[] } }).nats;
      assert.ok(nats.consumers.includes('hash-workers'), `the worker pulls hash jobs: ${nats.consumers.join(', ')}`);
    } finally {
      await api.stop();
      await worker.stop();
      await db.drop();
    }
  });
});
