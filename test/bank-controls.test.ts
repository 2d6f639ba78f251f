import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { bankCountsFor } from '../src/banks/bank-controls.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

/** Random-looking but fixed PDQ hashes (benign: no media behind them), and copies with bits flipped. */
const pdq = (seed: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 131 + i * 71 + ((seed * i) % 13)) & 0xff)).toString('hex');
const flipped = (hash: string, bits: number, from = 0) => {
  const bytes = Buffer.from(hash, 'hex');
  for (let i = from; i < from + bits; i++) bytes[i >> 3] ^= 0x80 >> (i & 7);
  return bytes.toString('hex');
};
const HOUR = 3_600_000;

const targets = await storeTargets();

for (const target of targets) {
  describe(`bank controls (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: Awaited<ReturnType<typeof buildServer>>;
    let auth: Record<string, string>;
    let location: ReturnType<StoreTarget['location']>;
    let nowMs = Date.parse('2026-12-07T10:00:00Z');
    const clock = () => new Date(nowMs);

    before(async () => {
      location = target.location();
      bulwark = await openBulwark({ ...location, bankRefreshMs: 0, hashing: { workers: 0 }, bankControls: { now: clock, floodFlushAt: 1e6, floodFlushMs: 1e9 } });
      app = await buildServer(bulwark);
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await target.cleanup();
    });

    const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: auth, payload });
    const matchApi = async (signals: { signal_type: string; value: string }[], query = '') => {
      const response = await post(`/v1/match${query}`, { signals });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as {
        matched: boolean;
        matches: { bank: string; entry_id: number; distance: number }[];
        suppressed: { bank: string; entry_id: number; signal_type: string; distance: number; suppressed_by: { bank: string; entry_id: number; distance: number } }[];
      };
    };
    const banksMatched = async (value: string) => (await matchApi([{ signal_type: 'pdq', value }])).matches.map((match) => match.bank);

    it('disables an entry for a time and until re-enabled, through the live index, and brings a timed one back by the clock', async () => {
      assert.equal((await post('/v1/banks', { name: 'list-a' })).statusCode, 201);
      const first = (await post('/v1/banks/list-a/entries', { signal_type: 'pdq', value: pdq(1) })).json();
      const second = (await post('/v1/banks/list-a/entries', { signal_type: 'pdq', value: pdq(2) })).json();
      assert.deepEqual(await banksMatched(flipped(pdq(1), 3)), ['list-a']);
      const revision = (await bulwark.banks.get('list-a')).revision;

      const disabled = await post(`/v1/banks/list-a/entries/${first.id}/disable`, { reason: 'false positive: a test pattern', for_seconds: 3600 });
      assert.equal(disabled.statusCode, 200, disabled.body);
      assert.equal(disabled.json().disabled_until, new Date(nowMs + HOUR).toISOString());
      assert.equal(disabled.json().disabled_reason, 'false positive: a test pattern');
      assert.equal((await bulwark.banks.get('list-a')).revision, revision + 1, 'a disable is a revision of the bank');
      assert.equal(bulwark.matcher.index('list-a', 'pdq')?.size, 1, 'the live index dropped it as a delta');
      assert.deepEqual(await banksMatched(flipped(pdq(1), 3)), [], 'a disabled entry does not match');
      assert.deepEqual(await banksMatched(pdq(2)), ['list-a'], 'the other entry still does');

      const forever = await bulwark.banks.disableEntry(second.id, { reason: 'under review' });
      assert.equal(forever.disabledUntil, 'infinity');
      const listed = (await app.inject({ url: '/v1/banks/list-a/entries', headers: auth })).json().entries;
      assert.deepEqual(listed.map((entry: { disabled_until: string | null }) => entry.disabled_until), [new Date(nowMs + HOUR).toISOString(), 'infinity']);

      nowMs += HOUR - 1000;
      await bulwark.matcher.match([{ signalType: 'pdq', value: pdq(1) }]);
      await bulwark.matcher.idle();
      assert.deepEqual(await banksMatched(pdq(1)), [], 'a second before the time it is still out');
      nowMs += 1000;
      // The first query after the time sweeps it back in, without a restart.
      await bulwark.matcher.match([{ signalType: 'pdq', value: pdq(1) }]);
      await bulwark.matcher.idle();
      assert.deepEqual(await banksMatched(flipped(pdq(1), 3)), ['list-a'], 'the timed disable is over');
      const back = (await bulwark.banks.entriesByIds([first.id]))[0];
      assert.equal(back.disabledUntil, null);
      assert.deepEqual(await banksMatched(pdq(2)), [], 'the open-ended one stays out however late it is');

      const enabled = await post(`/v1/banks/list-a/entries/${second.id}/enable`, {});
      assert.equal(enabled.statusCode, 200, enabled.body);
      assert.equal(enabled.json().disabled_until, null);
      assert.deepEqual(await banksMatched(pdq(2)), ['list-a']);
      assert.equal(bulwark.matcher.index('list-a', 'pdq')?.size, 2);
    });

    it('refuses bad disables with a named field, changing nothing', async () => {
      const entry = (await bulwark.banks.listEntries('list-a'))[0];
      expectProblem(await post(`/v1/banks/list-a/entries/${entry.id}/disable`, { reason: '' }), 400, /reason/);
      expectProblem(await post(`/v1/banks/list-a/entries/${entry.id}/disable`, { reason: 'x', until: new Date(nowMs - 1000).toISOString() }), 400, /until must be in the future/);
      expectProblem(await post(`/v1/banks/list-a/entries/${entry.id}/disable`, { reason: 'x', until: 'tomorrow' }), 400, /until/);
      expectProblem(await post('/v1/banks/list-a/entries/999999/disable', { reason: 'x' }), 404, /no entry 999999/);
      assert.equal((await post('/v1/banks', { name: 'list-b' })).statusCode, 201);
      expectProblem(await post(`/v1/banks/list-b/entries/${entry.id}/disable`, { reason: 'x' }), 404, /bank "list-b" has no entry/);
      assert.equal((await bulwark.banks.entriesByIds([entry.id]))[0].disabledUntil, null, 'nothing was changed');
    });

    // Only on the shared server: an in-memory embedded store belongs to one instance.
    if (target.name === 'postgres') it('a disable made by one process stops the match in another at once, and its catch-up drops the entry', async () => {
      const other = await openBulwark({ ...location, bankRefreshMs: 60_000, hashing: { workers: 0 }, bankControls: { now: clock } });
      try {
        await other.matcher.refresh();
        const entry = (await bulwark.banks.listEntries('list-a'))[0];
        assert.equal((await other.matcher.match([{ signalType: 'pdq', value: entry.value }])).matched, true);
        await bulwark.banks.disableEntry(entry.id, { reason: 'elsewhere', forSeconds: 60 });
        assert.equal(other.matcher.index('list-a', 'pdq')?.size, 2, 'the other process has not caught up yet');
        assert.equal((await other.matcher.match([{ signalType: 'pdq', value: entry.value }])).matched, false, 'its stale index is checked against the store');
        await other.matcher.refresh();
        assert.equal(other.matcher.index('list-a', 'pdq')?.size, 1);
        nowMs += 61_000;
        await other.matcher.refresh();
        assert.equal(other.matcher.index('list-a', 'pdq')?.size, 2, 'whichever process sweeps first brings it back everywhere');
        assert.equal((await other.matcher.match([{ signalType: 'pdq', value: entry.value }])).matched, true);
      } finally {
        await other.close();
      }
    });

    it('counts a bank for about its enabled_ratio of lookups, the same way for the same seed', async () => {
      assert.equal((await post('/v1/banks', { name: 'trial' })).statusCode, 201);
      await bulwark.banks.addEntry('trial', { signalType: 'md5', value: 'aa'.repeat(16) });
      const set = await app.inject({ method: 'PATCH', url: '/v1/banks/trial', headers: auth, payload: { enabled_ratio: 0.3 } });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal(set.json().enabled_ratio, 0.3);
      assert.equal((await app.inject({ url: '/v1/banks/trial', headers: auth })).json().enabled_ratio, 0.3, 'shown in the bank');
      const query = [{ signalType: 'md5', value: 'aa'.repeat(16) }];
      const bankId = (await bulwark.banks.get('trial')).id;
      let matched = 0;
      for (let i = 0; i < 300; i++) {
        const seed = `upload-${i}`;
        const result = await bulwark.matcher.match(query, { seed });
        assert.equal(result.matched, bankCountsFor(bankId, 0.3, seed), 'the matcher follows the coin');
        if (result.matched) matched++;
        if (i < 30) assert.equal((await bulwark.matcher.match(query, { seed })).matched, result.matched, 'the same seed, the same answer');
      }
      assert.ok(matched > 60 && matched < 120, `${matched} of 300 lookups counted at 0.3`);
      const seeds = 20_000;
      let counted = 0;
      for (let i = 0; i < seeds; i++) if (bankCountsFor(bankId, 0.3, `upload-${i}`)) counted++;
      assert.ok(counted > seeds * 0.28 && counted < seeds * 0.32, `${counted} of ${seeds} seeds counted at 0.3`);
      let both = 0;
      for (let i = 0; i < seeds; i++) if (bankCountsFor(bankId, 0.3, `upload-${i}`) && bankCountsFor(bankId + 1, 0.3, `upload-${i}`)) both++;
      assert.ok(both > seeds * 0.07 && both < seeds * 0.11, `another bank at 0.3 takes an independent share: ${both} of ${seeds} in both`);
      // Over the API, the seed is a query parameter; without one, the query's hash decides, so it answers alike every time.
      const bySeed = await Promise.all(['upload-1', 'upload-2', 'upload-3', 'upload-4'].map(async (seed) => (await matchApi([{ signal_type: 'md5', value: 'aa'.repeat(16) }], `?seed=${seed}`)).matched));
      assert.deepEqual(bySeed, ['upload-1', 'upload-2', 'upload-3', 'upload-4'].map((seed) => bankCountsFor(bankId, 0.3, seed)));
      const unseeded = (await matchApi([{ signal_type: 'md5', value: 'aa'.repeat(16) }])).matched;
      for (let i = 0; i < 5; i++) assert.equal((await matchApi([{ signal_type: 'md5', value: 'aa'.repeat(16) }])).matched, unseeded);
      // Content ingest flips the coin on the content id.
      const submitted = await bulwark.content.submit({ contentId: 'upload-7', accountId: 'acct-1', contentType: 'photo', signals: [{ signalType: 'md5', value: 'aa'.repeat(16) }] });
      assert.equal(submitted.record.matched, bankCountsFor(bankId, 0.3, 'upload-7'));
      assert.equal((await bulwark.banks.update('trial', { enabledRatio: 0 })).enabledRatio, 0);
      assert.equal((await bulwark.matcher.match(query, { seed: 'upload-1' })).matched, false, 'at 0 the bank counts for nothing');
      expectProblem(await app.inject({ method: 'PATCH', url: '/v1/banks/trial', headers: auth, payload: { enabled_ratio: 1.5 } }), 400, /enabled_ratio/);
      await bulwark.banks.delete('trial');
    });

    it('lets an allow bank suppress a near-duplicate PDQ in another bank, saying which allow entry did, in the response and content.matched', async () => {
      const base = pdq(40);
      assert.equal((await post('/v1/banks', { name: 'block-list' })).statusCode, 201);
      const blocked = await bulwark.banks.addEntry('block-list', { signalType: 'pdq', value: base });
      const blockedMd5 = await bulwark.banks.addEntry('block-list', { signalType: 'md5', value: 'bb'.repeat(16) });
      const created = await post('/v1/banks', { name: 'known-fine', kind: 'allow' });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().kind, 'allow');
      const allowed = await bulwark.banks.addEntry('known-fine', { signalType: 'pdq', value: flipped(base, 4) });

      const query = flipped(base, 8);
      const result = await matchApi([{ signal_type: 'pdq', value: query }]);
      assert.equal(result.matched, false, 'the block match is set aside');
      assert.deepEqual(result.matches, [], 'an allow match is no match either');
      assert.equal(result.suppressed.length, 1);
      assert.equal(result.suppressed[0].entry_id, blocked.id);
      assert.equal(result.suppressed[0].distance, 8);
      assert.deepEqual({ ...result.suppressed[0].suppressed_by }, { bank: 'known-fine', entry_id: allowed.id, signal_type: 'pdq', value: flipped(base, 4), distance: 4 });

      // A query too far from the allow entry for the allow bank's threshold is other content.
      assert.equal((await bulwark.banks.update('known-fine', { matchSettings: { maxDistance: { pdq: 2 } } })).kind, 'allow');
      const strict = await matchApi([{ signal_type: 'pdq', value: query }]);
      assert.deepEqual(strict.matches.map((match) => match.entry_id), [blocked.id], 'outside the allow threshold the block match stands');
      assert.deepEqual(strict.suppressed, []);
      await bulwark.banks.update('known-fine', { matchSettings: {} });

      // Upload with a PDQ the allow bank speaks for and an MD5 it does not: the MD5 match stands, and content.matched says what was set aside.
      const events: { type: string; payload: Record<string, unknown> }[] = [];
      const stop = bulwark.events.subscribe((event) => events.push({ type: event.type, payload: event.payload as Record<string, unknown> }));
      try {
        const mixed = await bulwark.content.submit({
          contentId: 'mixed-1', accountId: 'acct-2', contentType: 'photo',
          signals: [{ signalType: 'pdq', value: query, quality: 100 }, { signalType: 'md5', value: 'bb'.repeat(16) }],
        });
        assert.deepEqual(mixed.record.matches.map((match) => match.entryId), [blockedMd5.id]);
        assert.deepEqual(mixed.record.suppressed.map((match) => [match.entryId, match.suppressedBy.entryId]), [[blocked.id, allowed.id]]);
        const matchedEvent = events.find((event) => event.type === 'content.matched');
        assert.ok(matchedEvent, 'content.matched was emitted for the MD5 match');
        assert.deepEqual(matchedEvent.payload.suppressed, [
          { bank: 'block-list', signal_type: 'pdq', distance: 8, entry_id: blocked.id, suppressed_by: { bank: 'known-fine', entry_id: allowed.id, signal_type: 'pdq', distance: 4 } },
        ]);
        const fetched = (await app.inject({ url: '/v1/content/mixed-1', headers: auth })).json();
        assert.equal(fetched.suppressed[0].suppressed_by.entry_id, allowed.id, 'the stored content says so too');

        events.length = 0;
        const fine = await bulwark.content.submit({ contentId: 'fine-1', accountId: 'acct-2', contentType: 'photo', signals: [{ signalType: 'pdq', value: query, quality: 100 }] });
        assert.equal(fine.record.matched, false);
        assert.deepEqual(events.map((event) => event.type), ['content.match_suppressed'], 'nothing for rules to act on, but on record');
      } finally {
        stop();
      }
    });
  });
}
