import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';
import { referenceVideo, videoTestsSkipReason } from './helpers/video.ts';

const video = (name: string) => readFileSync(referenceVideo(name));

describe('video through the HTTP API', { skip: videoTestsSkipReason() }, () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    bulwark = await openBulwark({ bankRefreshMs: 0, hashing: { workers: 2 }, video: { maxBytes: 3 * 1024 * 1024 } });
    app = await buildServer(bulwark, { bodyLimit: 1024 * 1024 });
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  const put = (id: string, body: Buffer, contentType = 'video/mp4') =>
    app.inject({ method: 'PUT', url: `/v1/content/${id}?account_id=acct-7`, headers: { ...auth, 'content-type': contentType }, payload: body });

  it('hashes an uploaded video as vPDQ and video MD5, streamed past the body limit for pictures', async () => {
    const bytes = video('pattern-hd-no-bar');
    assert.ok(bytes.length > 1024 * 1024, 'the video is larger than the body limit');
    const response = await put('video-1', bytes);
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.content_type, 'video');
    const bySignal = new Map(body.signals.map((signal: { signal_type: string }) => [signal.signal_type, signal]));
    assert.equal((bySignal.get('video_md5') as { value: string }).value, createHash('md5').update(bytes).digest('hex'));
    const vpdq = bySignal.get('vpdq') as { value: string; frame_count: number };
    const lines = vpdq.value.trim().split('\n');
    assert.equal(vpdq.frame_count, lines.length);
    assert.ok(lines.length >= 6, `one frame a second of a ~7 s video, got ${lines.length}`);
    assert.match(lines[0], /^0,\d{1,3},[0-9a-f]{64},0\.000$/);
  });

  it('matches a variant of a banked video and reports both match percentages', async () => {
    // The reference's own hashes match the SD variants of the pattern with each other, and not
    // with the HD original (the bars change every frame): the same pairs are used here.
    const source = (await put('video-source', video('pattern-sd-grey-bar'))).json();
    const sourceVpdq = source.signals.find((signal: { signal_type: string }) => signal.signal_type === 'vpdq').value;
    assert.equal((await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: 'videos' } })).statusCode, 201);
    const added = await app.inject({ method: 'POST', url: '/v1/banks/videos/entries', headers: auth, payload: { signal_type: 'vpdq', value: sourceVpdq, source: 'unit test' } });
    assert.equal(added.statusCode, 201, added.body);

    const variant = await put('video-variant', video('pattern-sd-with-small-logo-bar'));
    assert.equal(variant.statusCode, 201, variant.body);
    const match = variant.json().matches.find((m: { signal_type: string }) => m.signal_type === 'vpdq');
    assert.ok(match, 'the logo variant matches its source');
    assert.equal(match.bank, 'videos');
    assert.ok(match.match_percent.query >= 80, `query percentage ${match.match_percent.query}`);
    assert.ok(match.match_percent.compared > 0 && match.match_percent.compared <= 100, `compared percentage ${match.match_percent.compared}`);

    const other = await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'video/mp4' }, payload: video('doorknob-hd-no-bar') });
    assert.equal(other.statusCode, 200, other.body);
    assert.deepEqual(other.json().matches, [], 'a video of another source does not match');
    const same = await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'video/mp4' }, payload: video('pattern-sd-with-small-logo-bar') });
    assert.equal(same.json().matches[0]?.bank, 'videos', 'the variant matches through /v1/match too');
    assert.deepEqual(same.json().matches[0].match_percent, match.match_percent);
  });

  it('refuses bad videos with a problem document and keeps nothing', async () => {
    expectProblem(await put('bad-empty', Buffer.alloc(0)), 400, /empty/);
    const text = await put('bad-text', Buffer.from('this is a plain text file, not a video\n'.repeat(20)));
    assert.ok(text.statusCode >= 400 && text.statusCode < 500, `text as video/mp4: ${text.statusCode} ${text.body}`);
    assert.equal(text.headers['content-type'], 'application/problem+json; charset=utf-8');
    const picture = await put('bad-picture', await encodeImage(shapesImage(4, 320, 240), 'png'));
    assert.ok(picture.statusCode >= 400 && picture.statusCode < 500, `a PNG sent as video/mp4: ${picture.statusCode}`);
    const full = video('pattern-hd-no-bar');
    const truncated = await put('bad-truncated', full.subarray(0, Math.floor(full.length / 3)));
    assert.ok(truncated.statusCode >= 400 && truncated.statusCode < 500, `a truncated video: ${truncated.statusCode} ${truncated.body}`);
    expectProblem(await put('bad-huge', Buffer.concat([full, full])), 413, /exceeds the limit of 3145728 bytes/);
    const photoAsVideo = await app.inject({
      method: 'PUT', url: '/v1/content/bad-photo-stream?account_id=acct-7&content_type=photo', headers: { ...auth, 'content-type': 'video/mp4' }, payload: full,
    });
    expectProblem(photoAsVideo, 415, /video\/\* body is hashed as a video/);
    for (const id of ['bad-empty', 'bad-text', 'bad-picture', 'bad-truncated', 'bad-huge', 'bad-photo-stream']) {
      assert.equal((await app.inject({ url: `/v1/content/${id}`, headers: auth })).statusCode, 404, `${id} was not stored`);
    }
  });
});
