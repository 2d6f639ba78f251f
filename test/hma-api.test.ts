import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { EventDeadlines } from './helpers/event-deadlines.ts';
import { storeTargets } from './helpers/stores.ts';

/**
 * The HMA-compatible API, driven with the requests HMA's documentation (website/content/hma/
 * api.md) and its own API tests show, checked against HMA's response shapes. Media are benign
 * generated pictures; bank hashes are random.
 */

const randomPdq = () => randomBytes(32).toString('hex');
/** Bank controls (per-bank enabled_ratio, per-entry disabling) come from another branch (ex-controls). */
const bankControls = existsSync(new URL('../src/banks/entry-disabling.ts', import.meta.url));
const MAX_REMOTE_BYTES = 200_000;

/** A multipart/form-data body as curl --form builds it. */
async function multipart(fields: Record<string, string | { name: string; data: Buffer; type: string }>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.data], { type: value.type }), value.name);
  }
  const request = new Request('http://form.invalid/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type') ?? '' } };
}

/** HMA's error body: a message, perhaps details, and nothing of problem+json. */
function expectHmaError(response: LightMyRequestResponse, status: number, message: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  const body = response.json();
  assert.match(body.message, message);
  assert.deepEqual(Object.keys(body).filter((key) => key !== 'message' && key !== 'details'), [], 'only message and details');
}

/** Serves the test pictures and the hostile answers the URL forms must refuse. */
class MediaServer {
  readonly server: http.Server;
  readonly deadlines = new EventDeadlines('media fetch deadline');
  /** Whether the oversized chunked answer was cut off before it was all sent. */
  cutOff: Promise<boolean>;
  private markCutOff!: (value: boolean) => void;
  port = 0;

  constructor(private readonly png: Buffer) {
    this.cutOff = new Promise((resolve) => (this.markCutOff = resolve));
    this.server = http.createServer((request, response) => this.answer(request, response));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = request.url ?? '/';
    if (path === '/image1.png') {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': this.png.length }).end(this.png);
    } else if (path === '/moved.png') {
      response.writeHead(302, { location: '/image1.png' }).end();
    } else if (path === '/to-loopback.png') {
      response.writeHead(302, { location: `http://127.0.0.1:${this.port}/image1.png` }).end();
    } else if (path === '/to-other-port.png') {
      response.writeHead(302, { location: `http://localhost:${this.port + 1}/image1.png` }).end();
    } else if (path === '/notes.txt') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('plain text');
    } else if (path === '/declared-huge.png') {
      // Declares more than the limit and sends nothing: only a client that refuses on the header answers.
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(MAX_REMOTE_BYTES * 10) });
      response.flushHeaders();
    } else if (path === '/endless.png') {
      // No length given: a client must count and stop reading past the limit.
      response.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(16 * 1024, 1);
      let sent = 0;
      const total = MAX_REMOTE_BYTES * 50;
      response.on('close', () => this.markCutOff(sent < total));
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    } else if (path === '/hang.png') {
      this.deadlines.pass();
    } else {
      response.writeHead(404).end();
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

for (const target of await storeTargets()) {
  describe(`HMA-compatible API (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: FastifyInstance;
    let auth: Record<string, string>;
    let png: Buffer;
    let media: MediaServer;
    let pngPdq: string;

    before(async () => {
      png = await encodeImage(shapesImage(11, 200, 150), 'png');
      media = new MediaServer(png);
      await media.start();
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, maxPixels: 4_000_000 });
      app = await buildServer(bulwark, {
        hma: {
          uploadLimit: 2 * 1024 * 1024,
          remote: {
            // localhost by name (so loopback is allowed for it alone), and any host under .media.test.
            allowedHosts: ['localhost', '.media.test'],
            maxBytes: MAX_REMOTE_BYTES,
            resolve: async (host) => (host === 'localhost' || host.endsWith('.media.test') ? [{ address: '127.0.0.1', family: 4 }] : []),
            deadline: media.deadlines.next,
          },
        },
      });
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('hma client')).key}` };
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await media.close();
      await target.cleanup();
    });

    const hmaUrl = (path: string) => `http://localhost:${media.port}${path}`;

    it('refuses requests without a Bulwark API key, in HMA’s error shape', async () => {
      expectHmaError(await app.inject({ url: '/c/banks' }), 401, /valid API key is required/);
      expectHmaError(await app.inject({ url: '/m/lookup?signal_type=pdq&signal=' + randomPdq(), headers: { authorization: 'Bearer nope' } }), 401, /valid API key/);
      const form = await multipart({ photo: { name: 'example.png', data: png, type: 'image/png' } });
      expectHmaError(await app.inject({ method: 'POST', url: '/h/hash', ...form }), 401, /valid API key/);
      // The key is also taken as X-API-Key.
      const key = auth.authorization.slice('Bearer '.length);
      assert.equal((await app.inject({ url: '/c/banks', headers: { 'x-api-key': key } })).statusCode, 200);
    });

    it('creates, lists, renames, switches off and deletes banks as HMA does', async () => {
      assert.deepEqual((await app.inject({ url: '/c/banks', headers: auth })).json(), []);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: '01_TEST_BANK' } }), 400, /UPPER_WITH_UNDERSCORE/);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'my_test_bank' } }), 400, /UPPER_WITH_UNDERSCORE/);
      // HMA allows a leading underscore; Bulwark names cannot start with one.
      expectHmaError(await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: '_HIDDEN' } }), 400, /cannot be a Bulwark bank name/);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { nom: 'X' } }), 400, /name/);
      const created = await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'MY_TEST_BANK_01' } });
      assert.equal(created.statusCode, 201, created.body);
      assert.deepEqual(created.json(), { name: 'MY_TEST_BANK_01', matching_enabled_ratio: 1.0 });
      expectHmaError(await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'MY_TEST_BANK_01' } }), 403, /Bank already exists/);
      assert.deepEqual((await app.inject({ url: '/c/banks', headers: auth })).json(), [created.json()]);
      assert.equal((await bulwark.banks.get('my_test_bank_01')).name, 'my_test_bank_01', 'the Bulwark bank is the lower-case name');
      assert.deepEqual((await app.inject({ url: '/c/bank/MY_TEST_BANK_01', headers: auth })).json(), created.json());
      expectHmaError(await app.inject({ url: '/c/bank/NO_SUCH_BANK', headers: auth }), 404, /bank 'NO_SUCH_BANK' not found/);

      expectHmaError(await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_01', headers: auth, payload: { name: '1_invalid_name' } }), 400, /UPPER_WITH_UNDERSCORE/);
      const renamed = await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_01', headers: auth, payload: { name: 'MY_TEST_BANK_RENAMED' } });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json().name, 'MY_TEST_BANK_RENAMED');
      const off = await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth, payload: { enabled: false } });
      assert.deepEqual(off.json(), { name: 'MY_TEST_BANK_RENAMED', matching_enabled_ratio: 0 });
      const on = await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth, payload: { enabled_ratio: 1.0 } });
      assert.equal(on.json().matching_enabled_ratio, 1);
      const half = await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth, payload: { enabled_ratio: 0.5 } });
      if (bankControls) assert.deepEqual(half.json(), { name: 'MY_TEST_BANK_RENAMED', matching_enabled_ratio: 0.5 });
      else expectHmaError(half, 400, /enabled_ratio 0.5 is not supported/);
      expectHmaError(await app.inject({ method: 'PUT', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth, payload: { enabled_ratio: 2 } }), 400, /enabled_ratio/);

      assert.deepEqual((await app.inject({ method: 'DELETE', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth })).json(), { message: 'Done' });
      const again = await app.inject({ method: 'DELETE', url: '/c/bank/MY_TEST_BANK_RENAMED', headers: auth });
      assert.equal(again.statusCode, 200, 'deleting a bank that is not there succeeds, as in HMA');
      assert.deepEqual((await app.inject({ url: '/c/banks', headers: auth })).json(), []);
    });

    it('hashes an upload whose field name is the content type, and media at an allowed URL', async () => {
      const form = await multipart({ photo: { name: 'example.png', data: png, type: 'image/png' } });
      const hashed = await app.inject({ method: 'POST', url: '/h/hash', headers: { ...auth, ...form.headers }, payload: form.payload });
      assert.equal(hashed.statusCode, 200, hashed.body);
      assert.deepEqual(Object.keys(hashed.json()), ['pdq']);
      pngPdq = hashed.json().pdq;
      const [bulwarkPdq] = (await bulwark.hashing.hash('photo', png)).filter((signal) => signal.signalType === 'pdq');
      assert.equal(pngPdq, bulwarkPdq.value);

      const withTypes = await app.inject({ method: 'POST', url: '/h/hash?types=pdq,md5', headers: { ...auth, ...form.headers }, payload: form.payload });
      assert.deepEqual(Object.keys(withTypes.json()).sort(), ['md5', 'pdq']);

      const byUrl = await app.inject({ url: `/h/hash?url=${encodeURIComponent(hmaUrl('/image1.png'))}`, headers: auth });
      assert.equal(byUrl.statusCode, 200, byUrl.body);
      assert.deepEqual(byUrl.json(), { pdq: pngPdq });
      const redirected = await app.inject({ url: `/h/hash?url=${encodeURIComponent(hmaUrl('/moved.png'))}`, headers: auth });
      assert.deepEqual(redirected.json(), { pdq: pngPdq }, 'a redirect on the same host is followed');

      const two = await multipart({ photo: { name: 'a.png', data: png, type: 'image/png' }, video: { name: 'b.mp4', data: png, type: 'video/mp4' } });
      expectHmaError(await app.inject({ method: 'POST', url: '/h/hash', headers: { ...auth, ...two.headers }, payload: two.payload }), 400, /Only one file allowed per request/);
      const wrongField = await multipart({ picture: { name: 'a.png', data: png, type: 'image/png' } });
      expectHmaError(await app.inject({ method: 'POST', url: '/h/hash', headers: { ...auth, ...wrongField.headers }, payload: wrongField.payload }), 400, /no such content_type: 'picture'/);
      const noFile = await multipart({ note: 'no file' });
      expectHmaError(await app.inject({ method: 'POST', url: '/h/hash', headers: { ...auth, ...noFile.headers }, payload: noFile.payload }), 400, /Missing multipart\/form-data file upload/);
      expectHmaError(await app.inject({ method: 'POST', url: '/h/hash?types=sha1', headers: { ...auth, ...form.headers }, payload: form.payload }), 400, /signal type 'sha1' doesn't exist/);
      expectHmaError(await app.inject({ url: `/h/hash?url=${encodeURIComponent(hmaUrl('/notes.txt'))}`, headers: auth }), 400, /unsupported url ContentType: 'text\/plain'/);
      expectHmaError(await app.inject({ url: '/h/hash', headers: auth }), 400, /url/);
    });

    it('refuses URLs off the allow-list, redirects elsewhere, private addresses, oversized bodies and silent servers', async () => {
      const get = (url: string) => app.inject({ url: `/h/hash?url=${encodeURIComponent(url)}`, headers: auth });
      expectHmaError(await get(`http://127.0.0.1:${media.port}/image1.png`), 400, /host "127.0.0.1" is not on the allow-list/);
      expectHmaError(await get(`http://elsewhere.example:${media.port}/image1.png`), 400, /not on the allow-list/);
      expectHmaError(await get(`file:///etc/hostname`), 400, /only http and https/);
      expectHmaError(await get(`http://user:secret@localhost:${media.port}/image1.png`), 400, /credentials in URLs/);
      expectHmaError(await get(hmaUrl('/to-loopback.png')), 400, /redirect to another host \(127.0.0.1:\d+\) refused/);
      expectHmaError(await get(hmaUrl('/to-other-port.png')), 400, /redirect to another host \(localhost:\d+\) refused/);
      // On the list through ".media.test", but it resolves to loopback, which only a host named itself may reach.
      expectHmaError(await get(`http://img.media.test:${media.port}/image1.png`), 400, /resolves to a private or loopback address/);
      expectHmaError(await get(hmaUrl('/declared-huge.png')), 413, /Content too large/);
      expectHmaError(await get(hmaUrl('/endless.png')), 413, /Content too large/);
      assert.equal(await media.cutOff, true, 'the download stopped before the server had sent it all');
      expectHmaError(await get(hmaUrl('/hang.png')), 400, /no answer within/);
    });

    it('banks content, looks it up by hash, by upload and by URL, and compares hashes', async () => {
      assert.equal((await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'TEST_BANK' } })).statusCode, 201);
      const form = await multipart({ photo: { name: 'example.png', data: png, type: 'image/png' }, note: 'benign test picture', metadata: JSON.stringify({ content_id: 'ext-1' }) });
      const added = await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/content', headers: { ...auth, ...form.headers }, payload: form.payload });
      assert.equal(added.statusCode, 200, added.body);
      const id = added.json().id;
      assert.deepEqual(added.json(), { id, signals: { pdq: pngPdq } });

      const lookup = await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pngPdq}`, headers: auth });
      assert.deepEqual(lookup.json(), { TEST_BANK: [{ bank_content_id: id, distance: '0' }] });
      const upload = await multipart({ photo: { name: 'example.png', data: png, type: 'image/png' } });
      const posted = await app.inject({ method: 'POST', url: '/m/lookup?bypass_coinflip=false', headers: { ...auth, ...upload.headers }, payload: upload.payload });
      assert.deepEqual(posted.json(), { pdq: { TEST_BANK: [{ bank_content_id: id, distance: '0' }] } });
      const byUrl = await app.inject({ url: `/m/lookup?url=${encodeURIComponent(hmaUrl('/image1.png'))}`, headers: auth });
      assert.deepEqual(byUrl.json(), { pdq: { TEST_BANK: [{ bank_content_id: id, distance: '0' }] } });
      const byUrlTyped = await app.inject({ url: `/m/lookup?url=${encodeURIComponent(hmaUrl('/image1.png'))}&signal_type=pdq`, headers: auth });
      assert.deepEqual(byUrlTyped.json(), { TEST_BANK: [{ bank_content_id: id, distance: '0' }] }, 'the signal-type level is dropped');

      // A hash 5 bits away still matches, with its distance as a string.
      const near = (BigInt(`0x${pngPdq}`) ^ 0b11111n).toString(16).padStart(64, '0');
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${near}`, headers: auth })).json(), { TEST_BANK: [{ bank_content_id: id, distance: '5' }] });
      assert.deepEqual((await app.inject({ url: `/m/raw_lookup?signal_type=pdq&signal=${near}`, headers: auth })).json(), { matches: [id] });
      assert.deepEqual((await app.inject({ url: `/m/raw_lookup?signal_type=pdq&signal=${near}&include_distance=true`, headers: auth })).json(), {
        matches: [{ bank_content_id: id, distance: '5' }],
      });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${near}&banks=OTHER_BANK`, headers: auth })).json(), {}, 'banks= filters');
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${randomPdq()}`, headers: auth })).json(), {});

      const compared = await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: { pdq: [pngPdq, near] } });
      assert.deepEqual(compared.json(), { pdq: [true, { distance: 5 }] });
      const far = (BigInt(`0x${pngPdq}`) ^ ((1n << 40n) - 1n)).toString(16).padStart(64, '0');
      assert.deepEqual((await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: { pdq: [pngPdq, far] } })).json(), { pdq: [false, { distance: 40 }] });

      const status = (await app.inject({ url: '/m/index/status', headers: auth })).json();
      assert.equal(status.pdq.present, true);
      assert.equal(status.pdq.size, 1);
      assert.ok(status.pdq.built_to > 1_600_000_000, `built_to is a unix time, got ${status.pdq.built_to}`);
      assert.deepEqual(Object.keys((await app.inject({ url: '/m/index/status?signal_type=pdq', headers: auth })).json()), ['pdq']);

      // A switched-off bank is not matched.
      await app.inject({ method: 'PUT', url: '/c/bank/TEST_BANK', headers: auth, payload: { enabled: false } });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pngPdq}`, headers: auth })).json(), {});
      await app.inject({ method: 'PUT', url: '/c/bank/TEST_BANK', headers: auth, payload: { enabled: true } });

      // A renamed bank's matches carry the new name at once.
      await app.inject({ method: 'PUT', url: '/c/bank/TEST_BANK', headers: auth, payload: { name: 'TEST_BANK_NEW' } });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pngPdq}`, headers: auth })).json(), { TEST_BANK_NEW: [{ bank_content_id: id, distance: '0' }] });
      assert.equal((await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'TAKEN' } })).statusCode, 201);
      expectHmaError(await app.inject({ method: 'PUT', url: '/c/bank/TEST_BANK_NEW', headers: auth, payload: { name: 'TAKEN' } }), 403, /Bank name already exists/);
      assert.equal((await app.inject({ method: 'PUT', url: '/c/bank/TEST_BANK_NEW', headers: auth, payload: { name: 'TEST_BANK' } })).statusCode, 200);
      await app.inject({ method: 'DELETE', url: '/c/bank/TAKEN', headers: auth });
    });

    it('shows, changes and deletes banked content, and adds hashes directly', async () => {
      const [id] = (await app.inject({ url: `/m/raw_lookup?signal_type=pdq&signal=${pngPdq}`, headers: auth })).json().matches;
      const shown = await app.inject({ url: `/c/bank/TEST_BANK/content/${id}`, headers: auth });
      assert.deepEqual(shown.json(), {
        id,
        disable_until_ts: 1,
        original_media_uri: null,
        bank: { name: 'TEST_BANK', matching_enabled_ratio: 1 },
        metadata: { content_id: 'ext-1' },
        note: 'benign test picture',
      });
      const withSignals = (await app.inject({ url: `/c/bank/TEST_BANK/content/${id}?include_signals=true&include_metadata=false`, headers: auth })).json();
      assert.deepEqual(withSignals.signals, { pdq: pngPdq });
      assert.equal('metadata' in withSignals, false);
      expectHmaError(await app.inject({ url: '/c/bank/TEST_BANK/content/999999', headers: auth }), 404, /content '999999' not found/);
      expectHmaError(await app.inject({ url: `/c/bank/NO_BANK/content/${id}`, headers: auth }), 404, /bank 'NO_BANK' not found/);

      const noted = await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { note: 'Updated note', disable_until_ts: 1 } });
      assert.equal(noted.statusCode, 200, noted.body);
      assert.equal(noted.json().note, 'Updated note');
      assert.equal(noted.json().disable_until_ts, 1);
      await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { note: '' } });
      assert.equal('note' in (await app.inject({ url: `/c/bank/TEST_BANK/content/${id}`, headers: auth })).json(), false, 'an empty note clears it');
      expectHmaError(await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { disable_until_ts: 9999999999 } }), 400, /less than 5 years/);
      expectHmaError(await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { disable_until_ts: -1 } }), 400, /non-negative/);
      if (!bankControls) {
        expectHmaError(await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { disable_until_ts: 0, note: 'kept?' } }), 400, /needs bank controls/);
        assert.equal('note' in (await app.inject({ url: `/c/bank/TEST_BANK/content/${id}`, headers: auth })).json(), false, 'a refused change changes nothing');
      }
      expectHmaError(await app.inject({ method: 'PUT', url: `/c/bank/TEST_BANK/content/${id}`, headers: auth, payload: { note: 'x'.repeat(256) } }), 400, /at most 255/);

      // Hashes added directly, two signal types as one content.
      const pdq = randomPdq();
      const md5 = randomBytes(16).toString('hex');
      const signal = await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/signal', headers: auth, payload: { pdq, md5, note: 'Hash from campaign ABC' } });
      assert.equal(signal.statusCode, 200, signal.body);
      const signalId = signal.json().id;
      assert.deepEqual(signal.json(), { id: signalId, signals: { pdq, md5 } });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=md5&signal=${md5}`, headers: auth })).json(), { TEST_BANK: [{ bank_content_id: signalId, distance: '-' }] });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json(), { TEST_BANK: [{ bank_content_id: signalId, distance: '0' }] });
      const again = await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/signal', headers: auth, payload: { pdq } });
      assert.deepEqual(again.json(), { id: signalId, signals: { pdq, md5 } }, 'a hash the bank holds is the content that holds it');
      expectHmaError(await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/signal', headers: auth, payload: { pdq: 'abc' } }), 400, /Invalid pdq signal/);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/signal', headers: auth, payload: { tmk: 'abc' } }), 400, /No such signal type tmk/);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/signal', headers: auth, payload: { note: 'only a note' } }), 400, /No signals given/);

      assert.deepEqual((await app.inject({ method: 'DELETE', url: `/c/bank/TEST_BANK/content/${signalId}`, headers: auth })).json(), { deleted: 2 });
      assert.deepEqual((await app.inject({ method: 'DELETE', url: `/c/bank/TEST_BANK/content/${signalId}`, headers: auth })).json(), { deleted: 0 });
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=md5&signal=${md5}`, headers: auth })).json(), {}, 'both hashes left the index');
      assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json(), {});
    });

    it('keeps enabled_ratio with a seeded coin and disables content until a time or until re-enabled', { skip: bankControls ? false : 'bank controls (branch ex-controls) are not part of this build' }, async () => {
      const created = await app.inject({ method: 'POST', url: '/c/banks', headers: auth, payload: { name: 'TRIAL_LIST', enabled_ratio: 0.5 } });
      assert.deepEqual(created.json(), { name: 'TRIAL_LIST', matching_enabled_ratio: 0.5 });
      const pdq = randomPdq();
      const id = (await app.inject({ method: 'POST', url: '/c/bank/TRIAL_LIST/signal', headers: auth, payload: { pdq } })).json().id;
      const counted = async (seed: number) => 'TRIAL_LIST' in (await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}&seed=${seed}`, headers: auth })).json();
      const outcomes = await Promise.all(Array.from({ length: 40 }, (_, seed) => counted(seed)));
      assert.ok(outcomes.includes(true) && outcomes.includes(false), 'at 0.5 some seeds count the bank and some do not');
      for (let seed = 0; seed < 5; seed++) assert.equal(await counted(seed), outcomes[seed], 'the same seed lands the same way');
      await app.inject({ method: 'PUT', url: '/c/bank/TRIAL_LIST', headers: auth, payload: { enabled_ratio: 1 } });

      const put = (disable_until_ts: number) => app.inject({ method: 'PUT', url: `/c/bank/TRIAL_LIST/content/${id}`, headers: auth, payload: { disable_until_ts } });
      const shown = async () => (await app.inject({ url: `/c/bank/TRIAL_LIST/content/${id}`, headers: auth })).json().disable_until_ts;
      const matches = async () => (await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json();
      assert.equal((await put(0)).json().disable_until_ts, 0);
      assert.equal(await shown(), 0);
      assert.deepEqual(await matches(), {}, 'disabled until re-enabled');
      const later = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
      assert.equal((await put(later)).json().disable_until_ts, later);
      assert.deepEqual(await matches(), {}, 'disabled until a time to come');
      assert.equal((await put(1)).json().disable_until_ts, 1);
      assert.deepEqual(await matches(), { TRIAL_LIST: [{ bank_content_id: id, distance: '0' }] });
      await put(0);
      assert.equal((await put(100)).json().disable_until_ts, 1, 'a time already past is enabled, as in HMA');
      assert.deepEqual(await matches(), { TRIAL_LIST: [{ bank_content_id: id, distance: '0' }] });
    });

    it('adds content by URL with JSON metadata, and refuses bad metadata and notes', async () => {
      const url = `/c/bank/TEST_BANK/content?url=${encodeURIComponent(hmaUrl('/image1.png'))}&content_type=photo`;
      expectHmaError(await app.inject({ method: 'POST', url, headers: auth, payload: { metadata: { invalid_metadata: 5 } } }), 400, /Invalid metadata/);
      expectHmaError(await app.inject({ method: 'POST', url, headers: auth, payload: { note: 'x'.repeat(256) } }), 400, /at most 255 characters/);
      const added = await app.inject({ method: 'POST', url, headers: auth, payload: { metadata: { content_id: '1197433091', json: { asdf: {} } }, note: 'Reported by user X' } });
      assert.equal(added.statusCode, 200, added.body);
      assert.deepEqual(added.json().signals, { pdq: pngPdq });
      expectHmaError(await app.inject({ method: 'POST', url: '/c/bank/TEST_BANK/content', headers: auth }), 400, /Neither `url` nor multipart file upload/);
      expectHmaError(await app.inject({ method: 'POST', url: '/c/bank/NO_BANK/content', headers: auth }), 404, /bank 'NO_BANK' not found/);
    });

    it('answers bad lookups in HMA’s error shape', async () => {
      expectHmaError(await app.inject({ url: '/m/lookup', headers: auth }), 400, /Either url or both signal and signal_type are required/);
      expectHmaError(await app.inject({ url: '/m/lookup?signal_type=pdq&signal=xyz', headers: auth }), 400, /invalid signal/);
      expectHmaError(await app.inject({ url: `/m/lookup?signal_type=tmk&signal=${randomPdq()}`, headers: auth }), 400, /No such SignalType 'tmk'/);
      expectHmaError(await app.inject({ url: '/m/raw_lookup?signal_type=pdq', headers: auth }), 400, /signal/);
      expectHmaError(await app.inject({ url: `/m/raw_lookup?signal_type=pdq&signal=${randomPdq()}&include_distance=maybe`, headers: auth }), 400, /prefer true\/false/);
      expectHmaError(await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: { pdq: [randomPdq()] } }), 400, /exactly 2/);
      expectHmaError(await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: { pdq: 'x' } }), 400, /was not a list/);
      expectHmaError(await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: [1, 2] }), 400, /was not a dict/);
      expectHmaError(await app.inject({ method: 'POST', url: '/m/compare', headers: auth, payload: { pdq: [randomPdq(), 'zz'] } }), 400, /Invalid pdq hash/);
      expectHmaError(await app.inject({ url: '/m/index/status?signal_type=tmk', headers: auth }), 400, /No such signal type 'tmk'/);
    });

    it('lists signal and content types, and shows Bulwark banks under upper-case names', async () => {
      const types = (await app.inject({ url: '/c/signal_type', headers: auth })).json();
      assert.ok(types.some((type: { name: string; enabled_ratio: number }) => type.name === 'pdq' && type.enabled_ratio === 1));
      assert.deepEqual((await app.inject({ url: '/c/content_type', headers: auth })).json(), [
        { name: 'photo', enabled: true },
        { name: 'video', enabled: true },
      ]);
      await bulwark.banks.create('partner-list');
      const pdq = randomPdq();
      await bulwark.banks.addEntry('partner-list', { signalType: 'pdq', value: pdq });
      const names = (await app.inject({ url: '/c/banks', headers: auth })).json().map((bank: { name: string }) => bank.name);
      assert.ok(names.includes('PARTNER-LIST'), names.join());
      assert.equal((await app.inject({ url: '/c/bank/PARTNER-LIST', headers: auth })).statusCode, 200);
      const lookup = (await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json();
      const [entry] = await bulwark.banks.listEntries('partner-list');
      assert.deepEqual(lookup, { 'PARTNER-LIST': [{ bank_content_id: entry.id, distance: '0' }] }, 'an entry added elsewhere is a content of its own');
    });
  });
}
