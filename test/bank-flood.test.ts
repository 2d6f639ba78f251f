import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { COUNT_MATCHES, FloodQuarantine } from '../src/banks/flood-quarantine.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { storeTargets } from './helpers/stores.ts';

/** Fixed benign PDQ hashes (no media behind them), far apart. */
const pdq = (seed: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 97 + i * 53 + ((seed * i) % 11)) & 0xff)).toString('hex');
const near = (hash: string, bit: number) => {
  const bytes = Buffer.from(hash, 'hex');
  bytes[bit >> 3] ^= 0x80 >> (bit & 7);
  return bytes.toString('hex');
};
const HOUR = 3_600_000;
const LIMIT = 5;

const targets = await storeTargets();

for (const target of targets) {
  describe(`flood quarantine (${target.name})`, () => {
    let bulwark: Bulwark;
    let lead: Reviewer;
    let nowMs = Date.parse('2026-12-07T10:05:00Z');
    const clock = () => new Date(nowMs);
    const events: { type: string; payload: Record<string, unknown> }[] = [];
    let meme: number;
    let logo: number;
    let uploads = 0;

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, hashing: { workers: 0 }, bankControls: { now: clock, floodFlushAt: 1e6, floodFlushMs: 1e9 } });
      bulwark.events.subscribe((event) => events.push({ type: event.type, payload: event.payload as Record<string, unknown> }));
      lead = await bulwark.reviewers.create({ username: 'lead-one', password: 'correct horse battery', role: 'lead', teams: [] });
      await bulwark.banks.create('shared-list');
      assert.equal((await bulwark.banks.update('shared-list', { floodLimit: LIMIT })).floodLimit, LIMIT);
      meme = (await bulwark.banks.addEntry('shared-list', { signalType: 'pdq', value: pdq(1) })).id;
      logo = (await bulwark.banks.addEntry('shared-list', { signalType: 'pdq', value: pdq(2) })).id;
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    /** A new upload (its own content id) of a near copy of the hash. */
    const upload = (hash: string) => {
      uploads++;
      return bulwark.content.submit({ contentId: `upload-${uploads}`, accountId: `acct-${uploads}`, contentType: 'photo', signals: [{ signalType: 'pdq', value: near(hash, uploads % 200), quality: 100 }] });
    };
    const entry = async (id: number) => (await bulwark.banks.entriesByIds([id]))[0];
    const casesOf = (id: number) => bulwark.cases.list({ subject: { kind: 'bank_entry', id: String(id) } });

    it('counts distinct uploads, not repeats of one, across instances sharing the store, and quarantines after N+1', async () => {
      const first = await upload(pdq(1));
      assert.equal(first.record.matched, true);
      for (let i = 0; i < 3 * LIMIT; i++) bulwark.floodQuarantine.record(first.record.contentId, [{ entryId: meme }]);
      assert.equal((await bulwark.content.submit({ contentId: first.record.contentId, accountId: first.record.accountId, contentType: 'photo', signals: [{ signalType: 'pdq', value: pdq(1) }] })).duplicate, true);
      assert.deepEqual(await bulwark.floodQuarantine.flush(), [], 'one upload repeated many times is one upload');

      // Another instance (as another process would) adds to the same count in the store.
      const other = new FloodQuarantine(bulwark.sql, bulwark.banks, bulwark.cases, bulwark.events, { now: clock, flushAt: 1e6, flushMs: 1e9 });
      for (let i = 2; i <= LIMIT; i++) {
        const next = await upload(pdq(1));
        assert.equal(next.record.matched, true);
        if (i % 2 === 0) other.record(next.record.contentId, next.record.matches);
      }
      assert.deepEqual(await other.flush(), []);
      assert.deepEqual(await bulwark.floodQuarantine.flush(), [], `${LIMIT} distinct uploads are within the limit`);
      assert.equal((await entry(meme)).disabledUntil, null);

      assert.equal((await upload(pdq(1))).record.matched, true, `upload ${LIMIT + 1} still matches: it is what tips the count`);
      const quarantined = await bulwark.floodQuarantine.flush();
      assert.equal(quarantined.length, 1);
      assert.equal(quarantined[0].entryId, meme);
      assert.equal(quarantined[0].uploads, LIMIT + 1);
      assert.equal(quarantined[0].limit, LIMIT);
      const disabled = await entry(meme);
      assert.equal(disabled.disabledUntil, 'infinity');
      assert.equal(disabled.disabledReason, 'flood');
      const event = events.find((candidate) => candidate.type === 'bank.entry_quarantined');
      assert.ok(event, 'an event says so');
      assert.equal(event.payload.entry_id, meme);
      assert.equal(event.payload.case_id, quarantined[0].caseId);

      const after = await upload(pdq(1));
      assert.equal(after.record.matched, false, 'the quarantined entry matches no more');
      assert.equal((await upload(pdq(2))).record.matched, true, 'the other entry of the bank still does');
      // Late counts of the same entry (another process, a buffered flush) open no second case.
      other.record('upload-late', [{ entryId: meme }]);
      assert.deepEqual(await other.flush(), []);
      const cases = await casesOf(meme);
      assert.equal(cases.length, 1, 'one case');
      assert.equal(cases[0].queue, 'bank-entries');
      assert.equal(cases[0].status, 'open');
    });

    it('shows the reviewer the entry and what it matched, and keeps it disabled as a false positive', async () => {
      const claimed = await bulwark.cases.claimNext(lead, 'bank-entries');
      assert.ok(claimed);
      assert.deepEqual(claimed.subject, { kind: 'bank_entry', id: String(meme) });
      assert.equal(claimed.bank_entry?.bank, 'shared-list');
      assert.equal(claimed.bank_entry?.disabled_reason, 'flood');
      assert.equal(claimed.bank_entry?.uploads_by_hour[0].uploads, LIMIT + 2, 'the late count included');
      assert.ok(claimed.bank_entry!.sample_content_ids.includes('upload-1'));
      assert.deepEqual(claimed.decision_options.map((option) => option.verdict), ['keep_disabled', 're_enable', 'escalate']);
      await bulwark.cases.decide(claimed.id, lead, { verdict: 'keep_disabled' });
      const kept = await entry(meme);
      assert.equal(kept.disabledUntil, 'infinity');
      assert.equal(kept.disabledReason, `false positive (case ${claimed.id})`);
      assert.equal((await upload(pdq(1))).record.matched, false);
    });

    it('counts by the hour, and a re-enabled entry is left alone by the guard', async () => {
      // Three uploads late in one hour and three early in the next: no hour holds more than the limit.
      nowMs = Date.parse('2026-12-07T11:50:00Z');
      for (let i = 0; i < 3; i++) await upload(pdq(2));
      assert.deepEqual(await bulwark.floodQuarantine.flush(), []);
      nowMs += HOUR / 6;
      for (let i = 0; i < 3; i++) await upload(pdq(2));
      assert.deepEqual(await bulwark.floodQuarantine.flush(), [], 'the hour is a clock hour');
      for (let i = 0; i < 3; i++) await upload(pdq(2));
      const [quarantined] = await bulwark.floodQuarantine.flush();
      assert.equal(quarantined?.entryId, logo);
      assert.equal(quarantined.uploads, 6, 'this hour: the three that were in it and the first over the limit');

      const claimed = await bulwark.cases.claimNext(lead, 'bank-entries');
      assert.equal(claimed?.subject.id, String(logo));
      await bulwark.cases.decide(claimed!.id, lead, { verdict: 're_enable' });
      assert.equal((await entry(logo)).disabledUntil, null);
      assert.equal((await upload(pdq(2))).record.matched, true, 'back in the index');
      for (let i = 0; i < 2 * LIMIT; i++) await upload(pdq(2));
      assert.deepEqual(await bulwark.floodQuarantine.flush(), [], 'a reviewer kept it: it is not quarantined again');
      assert.equal((await entry(logo)).disabledUntil, null);
      assert.equal((await casesOf(logo)).length, 1);
    });
  });
}

describe('counting a flush on a large bank', () => {
  it('looks each counted entry up by its key, never reading the whole bank (no planner statistics)', async () => {
    // The embedded store never gathers statistics; a plan joining the counts to the bank once
    // read every entry per counted entry, holding the store for seconds under a surge of matches.
    const bulwark = await openBulwark({ bankRefreshMs: 0, hashing: { workers: 0 } });
    try {
      await bulwark.banks.create('large-list');
      await bulwark.banks.importRows(
        'large-list',
        (function* () {
          for (let i = 0; i < 5000; i++) yield { line: i + 1, signalType: 'pdq', value: pdq(10_000 + i), tags: [] };
        })(),
        { sourceName: 'generated', format: 'generated', batchSize: 1000 },
      );
      const ids = (await bulwark.sql.query<{ id: number }>('SELECT id FROM bank_entries ORDER BY id LIMIT 200')).rows.map((row) => Number(row.id));
      const hour = new Date(Date.parse('2026-12-07T10:00:00Z'));
      const plan = (
        await bulwark.sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${COUNT_MATCHES}`, [ids, ids.map((id) => `upload-${id}`), ids.map(() => hour), 1000])
      ).rows.map((row) => row['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using bank_entries_pkey on bank_entries/, plan);
      assert.doesNotMatch(plan, /(Seq Scan|Bitmap Heap Scan) on bank_entries/, plan);
    } finally {
      await bulwark.close();
    }
  });
});
