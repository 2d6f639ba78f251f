import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { buildServer } from '../src/http/server.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { InlineHashing } from '../src/signals/hashing/inline.ts';
import { HashingBusyError, WorkerPoolHashing } from '../src/signals/hashing/worker-pool.ts';
import { expectProblem } from './helpers/problems.ts';

const gatedWorker = new URL('./fixtures/workers/gated-worker.js', import.meta.url);

/** Resolves once `check` holds, looking again after each turn of the event loop's timers. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('hashing in worker threads', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-pool-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('computes exactly what inline hashing computes, for images in memory and on disk', async () => {
    const pool = new WorkerPoolHashing({ workers: 2 });
    const inline = new InlineHashing(defaultSignalRegistry());
    try {
      const images = [await encodeImage(shapesImage(1, 640, 480), 'jpeg'), await encodeImage(shapesImage(2, 1200, 900), 'png')];
      writeFileSync(join(dir, 'on-disk.png'), images[1]);
      for (const bytes of images) {
        assert.deepEqual(await pool.hash('photo', bytes, { variants: true }), await inline.hash('photo', bytes, { variants: true }));
      }
      assert.deepEqual(await pool.hash('photo', { path: join(dir, 'on-disk.png') }), await inline.hash('photo', images[1]));
    } finally {
      await pool.close();
    }
  });

  it("carries the hashers' own errors across with their kind", async () => {
    const pool = new WorkerPoolHashing({ workers: 1 });
    try {
      await assert.rejects(pool.hash('photo', Buffer.from('plain text, not a picture')), (error: unknown) => {
        assert.ok(error instanceof BulwarkError);
        assert.equal(error.kind, 'unsupported_media');
        assert.match(error.message, /not a supported image format/);
        return true;
      });
      const png = await encodeImage(shapesImage(3, 300, 200), 'png');
      await assert.rejects(pool.hash('photo', png, { maxPixels: 1000 }), (error: unknown) => error instanceof BulwarkError && error.kind === 'too_large');
    } finally {
      await pool.close();
    }
  });

  it('refuses jobs beyond workers + queue at once, and takes them again once a worker is free', async () => {
    const pool = new WorkerPoolHashing({ workers: 2, maxQueue: 3, retryAfterSeconds: 2, workerModule: gatedWorker });
    const gate = join(dir, 'gate-1');
    try {
      const accepted = Array.from({ length: 5 }, () => pool.hash('photo', { path: gate }));
      assert.deepEqual(pool.stats(), { mode: 'workers', workers: 2, running: 2, queued: 3, maxQueue: 3, refused: 0, crashed: 0 });
      await assert.rejects(pool.hash('photo', { path: gate }), (error: unknown) => {
        assert.ok(error instanceof HashingBusyError);
        assert.equal(error.kind, 'unavailable');
        assert.equal(error.retryAfterSeconds, 2);
        return true;
      });
      assert.equal(pool.stats().refused, 1);
      writeFileSync(gate, '');
      for (const result of await Promise.all(accepted)) assert.equal(result[0].signalType, 'md5');
      assert.equal((await pool.hash('photo', { path: gate }))[0].signalType, 'md5');
      assert.equal(pool.stats().running + pool.stats().queued, 0);
    } finally {
      await pool.close();
    }
  });

  it('answers the job of a worker that died with an error, and replaces the worker', async () => {
    const pool = new WorkerPoolHashing({ workers: 1, workerModule: gatedWorker });
    const gate = join(dir, 'gate-2');
    writeFileSync(gate, '');
    try {
      await assert.rejects(pool.hash('crash', { path: gate }), (error: unknown) => {
        assert.ok(error instanceof BulwarkError);
        assert.match(error.message, /hashing worker stopped/);
        return true;
      });
      assert.equal(pool.stats().crashed, 1);
      assert.equal((await pool.hash('photo', { path: gate }))[0].signalType, 'md5', 'a new worker takes the next job');
      await assert.rejects(pool.hash('bug', { path: gate }), (error: unknown) => {
        assert.ok(!(error instanceof BulwarkError), 'a bug in a hasher is not blamed on the media');
        assert.match(String(error), /a hasher bug/);
        return true;
      });
      assert.equal(pool.stats().crashed, 1, 'and no worker was lost');
    } finally {
      await pool.close();
    }
  });
});

describe('the server while hashing is saturated', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    bulwark = await openBulwark({ hashing: { workers: 2, maxQueue: 6 } });
    app = await buildServer(bulwark, { bodyLimit: 8 * 1024 * 1024 });
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  it('answers /healthz while 32 large uploads are in flight, and refuses the surplus with 503 and Retry-After', async () => {
    // A flat 6000x6000 PNG compresses to a few kilobytes but decodes to 108 MB of pixels.
    const large = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer();
    const uploads = Array.from({ length: 32 }, (_, i) =>
      app.inject({ method: 'PUT', url: `/v1/content/large-${i}?account_id=acct-1`, headers: { ...auth, 'content-type': 'image/png' }, payload: large }),
    );
    await until(() => bulwark.hashing.stats().running === 2);
    const health = await app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const hashing = health.json().hashing;
    assert.equal(hashing.mode, 'workers');
    assert.equal(hashing.running, 2, 'the health answer came while both workers were hashing');

    const responses = await Promise.all(uploads);
    const statuses = responses.map((response) => response.statusCode);
    assert.deepEqual([...new Set(statuses)].sort(), [201, 503], `every upload is stored or refused, got ${statuses.join(' ')}`);
    // Two hashing and six waiting are admitted at least; a worker that finished a job before
    // the last request arrived would admit one more, so the count is a floor, not a figure.
    const accepted = statuses.filter((status) => status === 201).length;
    assert.ok(accepted >= 8, `at least two hashing and six waiting were accepted, got ${accepted}`);
    const refused = responses.find((response) => response.statusCode === 503)!;
    expectProblem(refused, 503, /hashing worker is busy/);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(bulwark.hashing.stats().refused, 32 - accepted);
  });
});
