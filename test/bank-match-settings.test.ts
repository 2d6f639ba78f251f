import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

/** A PDQ hash and a copy with its first `bits` bits flipped. */
const base = 'a5'.repeat(32);
const flipped = (bits: number) => {
  const bytes = Buffer.from(base, 'hex');
  for (let i = 0; i < bits; i++) bytes[i >> 3] ^= 0x80 >> (i & 7);
  return bytes.toString('hex');
};

/** A vPDQ value: one line per frame, quality 100, a second apart. */
const vpdq = (hashes: string[]) => hashes.map((hash, i) => `${i},100,${hash},${i}.000`).join('\n');
const frame = (seed: number) => Buffer.alloc(32, seed * 37 + 11).toString('hex');

const targets = await storeTargets();

for (const target of targets) {
  describe(`bank match settings (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: Awaited<ReturnType<typeof buildServer>>;
    let auth: Record<string, string>;
    let location: ReturnType<StoreTarget['location']>;

    before(async () => {
      location = target.location();
      bulwark = await openBulwark({ ...location, bankRefreshMs: 0, hashing: { workers: 0 } });
      app = await buildServer(bulwark);
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
      for (const [bank, signalType, value] of [['strict', 'pdq', base], ['videos', 'vpdq', vpdq([frame(1), frame(2), frame(3), frame(4)])]]) {
        assert.equal((await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: bank } })).statusCode, 201);
        const added = await app.inject({ method: 'POST', url: `/v1/banks/${bank}/entries`, headers: auth, payload: { signal_type: signalType, value } });
        assert.equal(added.statusCode, 201, added.body);
      }
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await target.cleanup();
    });

    const match = async (signalType: string, value: string, query = '') => {
      const response = await app.inject({ method: 'POST', url: `/v1/match${query}`, headers: auth, payload: { signals: [{ signal_type: signalType, value }] } });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().matches as { bank: string; distance: number; match_percent?: { query: number; compared: number } }[];
    };
    const patch = (bank: string, payload: object) => app.inject({ method: 'PATCH', url: `/v1/banks/${bank}`, headers: auth, payload });

    it("narrows a bank's PDQ distance, lets a request widen it again, and returns to the default", async () => {
      const near = flipped(20);
      assert.equal((await match('pdq', near)).length, 1, 'distance 20 matches at the default of 31');
      const set = await patch('strict', { match_settings: { max_distance: { pdq: 10 } } });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(set.json().match_settings, { max_distance: { pdq: 10 } });
      assert.deepEqual(await match('pdq', near), [], 'the bank asks for 10 or less');
      assert.equal((await match('pdq', flipped(9))).length, 1, 'distance 9 still matches');
      assert.equal((await match('pdq', near, '?threshold=31')).length, 1, "the request's own threshold wins");
      assert.deepEqual((await patch('strict', { match_settings: {} })).json().match_settings, {});
      assert.equal((await match('pdq', near)).length, 1, 'back to the default');
    });

    it("asks for more of a banked video's frames, per bank", async () => {
      const half = vpdq([frame(1), frame(2)]);
      const [hit] = await match('vpdq', half);
      assert.deepEqual(hit.match_percent, { query: 100, compared: 50 }, 'all of the query, half of the banked video');
      assert.equal((await patch('videos', { match_settings: { min_match_percent: { vpdq: { compared: 75 } } } })).statusCode, 200);
      assert.deepEqual(await match('vpdq', half), [], 'the bank wants 75% of its video seen');
      assert.equal((await match('vpdq', vpdq([frame(1), frame(2), frame(3)]))).length, 1, 'three of four frames are 75%');
      assert.equal((await match('vpdq', half, '?video_compared_percent=50')).length, 1, "the request's own percentage wins");
    });

    // Only on the shared server: an in-memory embedded store belongs to one instance.
    if (target.name === 'postgres') it('keeps the settings in the store for every process', async () => {
      const other = await openBulwark({ ...location, bankRefreshMs: 0, hashing: { workers: 0 } });
      try {
        await other.matcher.refresh();
        const strict = await other.banks.get('videos');
        assert.deepEqual(strict.matchSettings, { minMatchPercent: { vpdq: { compared: 75 } } });
        const result = await other.matcher.match([{ signalType: 'vpdq', value: vpdq([frame(1), frame(2)]) }]);
        assert.equal(result.matched, false, 'a second instance applies the bank setting it loaded');
      } finally {
        await other.close();
      }
    });

    it('refuses settings that do not fit the signal type, naming it', async () => {
      expectProblem(await patch('strict', { match_settings: { max_distance: { md5: 3 } } }), 400, /md5 matches exactly/);
      expectProblem(await patch('strict', { match_settings: { max_distance: { pdq: 300 } } }), 400, /from 0 to 256, got 300/);
      expectProblem(await patch('strict', { match_settings: { min_match_percent: { pdq: { query: 50 } } } }), 400, /pdq does not match frame lists/);
      expectProblem(await patch('strict', { match_settings: { min_match_percent: { vpdq: { query: 150 } } } }), 400, /from 0 to 100, got 150/);
      expectProblem(await patch('strict', { match_settings: { max_distance: { nonsense: 3 } } }), 400, /unknown signal type "nonsense"/);
      assert.deepEqual((await app.inject({ url: '/v1/banks/strict', headers: auth })).json().match_settings, {}, 'nothing was changed');
    });
  });
}
