import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, flatImage, seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';

const md5 = (n: number) => n.toString(16).padStart(32, '0');

describe('HTTP API', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  let knownPng: Buffer;
  let knownPdq: string;

  before(async () => {
    bulwark = await openBulwark({ bankRefreshMs: 0, maxPixels: 4_000_000 });
    app = await buildServer(bulwark, { bodyLimit: 2 * 1024 * 1024 });
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
    knownPng = await encodeImage(shapesImage(7, 400, 300), 'png');
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });


  it('serves health and the OpenAPI document without a key', async () => {
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const openapi = (await app.inject({ url: '/openapi.json' })).json();
    assert.equal(openapi.openapi, '3.1.0');
    for (const path of ['/v1/banks', '/v1/banks/{name}/import', '/v1/match', '/v1/content', '/v1/events', '/v1/outbox']) {
      assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
    }
  });

  it('refuses requests without a valid API key', async () => {
    expectProblem(await app.inject({ url: '/v1/banks' }), 401, /valid API key is required/);
    expectProblem(await app.inject({ url: '/v1/banks', headers: { authorization: 'Bearer bwk_wrongwrongwrongwrongwrongwrongwrongwrong12' } }), 401, /valid API key/);
  });

  it('manages banks and entries', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: 'known', description: 'benign test list' } });
    assert.equal(created.statusCode, 201);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: 'known' } }), 409, /already exists/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { nom: 'x' } }), 400, /name/);
    const hashed = await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'image/png' }, payload: knownPng });
    knownPdq = hashed.json().signals.find((s: { signal_type: string }) => s.signal_type === 'pdq').value;
    const added = await app.inject({ method: 'POST', url: '/v1/banks/known/entries', headers: auth, payload: { signal_type: 'pdq', value: knownPdq, source: 'unit test', tags: ['benign'] } });
    assert.equal(added.statusCode, 201, added.body);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks/known/entries', headers: auth, payload: { signal_type: 'pdq', value: knownPdq } }), 409, /already has pdq/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks/known/entries', headers: auth, payload: { signal_type: 'pdq', value: 'abc' } }), 400, /expected 64 hex digits, got 3 characters/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks/known/entries', headers: auth, payload: { signal_type: 'md5', value: 'g'.repeat(32) } }), 400, /non-hex character "g"/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/banks/unknown/entries', headers: auth, payload: { signal_type: 'md5', value: md5(1) } }), 404, /no bank named "unknown"/);
    const listed = (await app.inject({ url: '/v1/banks/known/entries', headers: auth })).json();
    assert.equal(listed.entries.length, 1);
    assert.equal(listed.entries[0].source, 'unit test');
  });

  it('imports lists transactionally and exports them', async () => {
    const csv = `signal_type,value\n${Array.from({ length: 50 }, (_, i) => `md5,${md5(i + 1)}`).join('\n')}\n`;
    const imported = await app.inject({ method: 'POST', url: '/v1/banks/known/import?source=feed-1', headers: { ...auth, 'content-type': 'text/csv' }, payload: csv });
    assert.equal(imported.statusCode, 200, imported.body);
    assert.deepEqual(imported.json().rows_added, 50);
    const bad = `${md5(100)}\n${md5(101)}\nnot-a-hash\n`;
    expectProblem(
      await app.inject({ method: 'POST', url: '/v1/banks/known/import?signal_type=md5', headers: { ...auth, 'content-type': 'text/csv' }, payload: bad }),
      400,
      /^line 3: invalid md5 value/,
    );
    const exported = await app.inject({ url: '/v1/banks/known/export', headers: auth });
    const lines = exported.body.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 51, 'the refused import added nothing');
    assert.equal(lines[1].source, 'feed-1');
  });

  it('matches an uploaded image and a transformed copy of it', async () => {
    const exact = (await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'image/png' }, payload: knownPng })).json();
    assert.equal(exact.matched, true);
    assert.equal(exact.matches[0].bank, 'known');
    assert.equal(exact.matches[0].distance, 0);
    const resizedJpeg = await sharp(knownPng).resize(300).jpeg({ quality: 60 }).toBuffer();
    const near = (await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'image/jpeg' }, payload: resizedJpeg })).json();
    assert.equal(near.matched, true);
    assert.ok(near.matches[0].distance <= 31);
    const rotated = await sharp(knownPng).rotate(90).png().toBuffer();
    const plain = (await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'image/png' }, payload: rotated })).json();
    assert.equal(plain.matched, false, 'a rotated copy does not match without dihedral matching');
    const dihedral = (await app.inject({ method: 'POST', url: '/v1/match?dihedral=true', headers: { ...auth, 'content-type': 'image/png' }, payload: rotated })).json();
    assert.equal(dihedral.matched, true);
    assert.ok(dihedral.matches[0].variant, 'the matching variant is named');
    const strict = (await app.inject({ method: 'POST', url: '/v1/match?threshold=0', headers: { ...auth, 'content-type': 'image/jpeg' }, payload: resizedJpeg })).json();
    assert.equal(strict.matches.filter((m: { signal_type: string }) => m.signal_type === 'pdq').length, near.matches[0].distance === 0 ? 1 : 0);
  });

  it('matches precomputed hashes and reports low-quality hashes instead of matching them', async () => {
    const byHash = (await app.inject({ method: 'POST', url: '/v1/match', headers: auth, payload: { signals: [{ signal_type: 'md5', value: md5(3).toUpperCase() }] } })).json();
    assert.equal(byHash.matched, true);
    const low = (await app.inject({ method: 'POST', url: '/v1/match', headers: auth, payload: { signals: [{ signal_type: 'pdq', value: knownPdq, quality: 10 }] } })).json();
    assert.equal(low.matched, false);
    assert.equal(low.signals[0].status, 'low_quality');
    const flat = (await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'image/png' }, payload: await encodeImage(flatImage(), 'png') })).json();
    const flatPdq = flat.signals.find((s: { signal_type: string }) => s.signal_type === 'pdq');
    assert.equal(flatPdq.status, 'low_quality');
    assert.ok(flatPdq.quality < 50);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/match?banks=nope', headers: auth, payload: { signals: [{ signal_type: 'md5', value: md5(3) }] } }), 400, /unknown bank: nope/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/match', headers: auth, payload: { signals: [] } }), 400, /signals/);
  });

  it('takes content idempotently and emits a match event', async () => {
    const payload = { content_id: 'post-1', account_id: 'user-1', created_at: '2026-11-01T10:00:00Z', media_base64: knownPng.toString('base64') };
    const first = await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().matched, true);
    assert.equal(first.json().duplicate, false);
    const again = await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().duplicate, true);
    const precomputed = await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'post-2', account_id: 'user-2', signals: [{ signal_type: 'pdq', value: knownPdq, quality: 90 }] } });
    assert.equal(precomputed.json().matched, true);
    const events = (await app.inject({ url: '/v1/outbox?type=content.matched', headers: auth })).json();
    assert.deepEqual(events.events.map((e: { payload: { content_id: string } }) => e.payload.content_id), ['post-1', 'post-2']);
    // Resuming: from next_after nothing is left; from the first event's position or its plain seq, the second follows.
    const outbox = (query: string) => app.inject({ url: `/v1/outbox?type=content.matched&${query}`, headers: auth });
    assert.deepEqual((await outbox(`after=${events.next_after}`)).json().events, []);
    const [firstEvent, secondEvent] = events.events as { seq: number; position: string }[];
    assert.deepEqual((await outbox(`after=${firstEvent.position}`)).json().events.map((e: { seq: number }) => e.seq), [secondEvent.seq]);
    assert.deepEqual((await outbox(`after=${firstEvent.seq}`)).json().events.map((e: { seq: number }) => e.seq), [secondEvent.seq]);
    expectProblem(await outbox('after=not-a-cursor'), 400, /position/);
    expectProblem(await outbox('after=999999'), 400, /no event has seq/);
    const status = (await app.inject({ url: '/v1/outbox/status', headers: auth })).json();
    const labeller = status.consumers.find((c: { name: string }) => c.name === 'graph.hash-match-labeller');
    assert.ok(labeller && typeof labeller.behind === 'number' && /^\d+-\d+$/.test(labeller.position), JSON.stringify(status));
    assert.equal((await app.inject({ url: '/v1/content/post-1', headers: auth })).json().account_id, 'user-1');
    expectProblem(await app.inject({ url: '/v1/content/missing', headers: auth }), 404, /no content/);
  });

  it('takes content as raw bytes, without base64, with the same idempotence and errors', async () => {
    const put = (id: string, body: Buffer, query = 'account_id=user-3', type = 'image/png') =>
      app.inject({ method: 'PUT', url: `/v1/content/${id}?${query}`, headers: { ...auth, 'content-type': type }, payload: body });
    const first = await put('raw-1', knownPng, 'account_id=user-3&created_at=2026-11-02T10:00:00%2B01:00');
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().matched, true);
    assert.equal(first.json().created_at, '2026-11-02T09:00:00.000Z');
    assert.equal((await put('raw-1', knownPng)).json().duplicate, true);
    expectProblem(await put('raw-2', knownPng, ''), 400, /account_id/);
    expectProblem(await put('raw-2', Buffer.alloc(0)), 400, /empty/);
    expectProblem(await put('raw-2', Buffer.from('plain text, not an image'), 'account_id=user-3', 'application/octet-stream'), 415, /not a supported image/i);
    expectProblem(await app.inject({ method: 'PUT', url: '/v1/content/raw-2?account_id=user-3', headers: auth, payload: { media: 'x' } }), 400, /body with Content-Type image/);
    expectProblem(await app.inject({ url: '/v1/content/raw-2', headers: auth }), 404, /no content/);
  });

  it('gives clear errors for bad uploads and never stores a partial result', async () => {
    const upload = (payload: Buffer, type = 'image/png') => app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': type }, payload });
    expectProblem(await upload(Buffer.alloc(0)), 400, /empty/);
    expectProblem(await upload(Buffer.from('this is plain text, not an image')), 415, /not a supported image/i);
    expectProblem(await upload(knownPng.subarray(0, knownPng.length / 2)), 400, /truncated|corrupt/i);
    expectProblem(await upload(Buffer.alloc(3 * 1024 * 1024, 1)), 413, /body|large/i);
    const huge = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#808080' } }).png().toBuffer();
    expectProblem(await upload(huge), 413, /pixel limit/);
    const content = (media: Buffer) => app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'bad-1', account_id: 'u', media_base64: media.toString('base64') } });
    expectProblem(await content(Buffer.from('not an image')), 415, /not a supported image/i);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'bad-1', account_id: 'u', media_base64: '!!!' } }), 400, /not valid base64/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'bad-1', account_id: 'u' } }), 400, /media or at least one precomputed hash/);
    expectProblem(await app.inject({ url: '/v1/content/bad-1', headers: auth }), 404, /no content/);
  });

  it('survives a fuzzed upload path: every mutated image gets an answer, never a server error', async () => {
    const random = seededRandom(20261125);
    const seeds = [knownPng, await encodeImage(shapesImage(3, 200, 150), 'jpeg'), await encodeImage(shapesImage(4, 120, 90), 'webp'), await encodeImage(shapesImage(5, 64, 64), 'gif')];
    const statuses = new Map<number, number>();
    for (let round = 0; round < 160; round++) {
      const input = Buffer.from(seeds[round % seeds.length]);
      const mutation = round % 4;
      if (mutation === 0) for (let i = 0; i < 1 + random() * 20; i++) input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
      const payload = mutation === 1 ? input.subarray(0, Math.floor(random() * input.length)) : mutation === 2 ? Buffer.concat([input.subarray(0, 64), Buffer.from(Array.from({ length: 200 }, () => Math.floor(random() * 256)))]) : input;
      const response = await app.inject({ method: 'POST', url: '/v1/match', headers: { ...auth, 'content-type': 'application/octet-stream' }, payload });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      assert.ok([200, 400, 413, 415].includes(response.statusCode), `round ${round}: status ${response.statusCode} ${response.body}`);
      if (response.statusCode !== 200) assert.match(response.headers['content-type'] as string, /problem\+json/);
    }
    assert.ok((statuses.get(200) ?? 0) > 0 && [...statuses.keys()].some((status) => status >= 400), `a mix of outcomes: ${JSON.stringify([...statuses])}`);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  });
});
