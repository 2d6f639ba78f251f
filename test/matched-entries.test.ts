import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { entriesWithProvenance } from '../src/exchange/provenance.ts';
import { storeTargets } from './helpers/stores.ts';

/** Fixed benign PDQ hashes (no media behind them). */
const pdq = (seed: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 131 + i * 29 + ((seed * i) % 13)) & 0xff)).toString('hex');

for (const target of await storeTargets()) {
  describe(`matched entries looked up with an upload (${target.name})`, () => {
    let bulwark: Bulwark;
    const ids: number[] = [];
    const alongside = (contentId: string) => ({ contentId, columns: 'content_id, account_id' });

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), hashing: { workers: 0 } });
      await bulwark.banks.create('lookup-list');
      for (let i = 1; i <= 12; i++) ids.push((await bulwark.banks.addEntry('lookup-list', { signalType: 'pdq', value: pdq(i) })).id);
      await bulwark.content.submit({ contentId: 'stored-one', accountId: 'acct-1', contentType: 'photo', signals: [{ signalType: 'pdq', value: pdq(99) }] });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('finds every matched entry, named one by one or (past eight) as one list', async () => {
      // The statement differs with the number of entries; each must find exactly those entries.
      for (const count of [1, 2, 8, 9, 12]) {
        const wanted = ids.slice(0, count);
        const { entries } = await entriesWithProvenance(bulwark.sql, wanted);
        assert.deepEqual(entries.map((entry) => entry.id).sort((a, b) => a - b), wanted, `${count} entries`);
        assert.ok(entries.every((entry) => entry.value === pdq(ids.indexOf(entry.id) + 1)));
      }
    });

    it('brings the stored upload along, or null when there is none, whether or not entries matched', async () => {
      const found = await entriesWithProvenance(bulwark.sql, ids.slice(0, 3), alongside('stored-one'));
      assert.equal(found.entries.length, 3);
      assert.deepEqual(found.content, { content_id: 'stored-one', account_id: 'acct-1' });
      const missing = await entriesWithProvenance(bulwark.sql, ids.slice(0, 9), alongside('never-stored'));
      assert.equal(missing.entries.length, 9);
      assert.equal(missing.content, null);
      const noEntries = await entriesWithProvenance(bulwark.sql, [], alongside('stored-one'));
      assert.deepEqual(noEntries, { entries: [], content: { content_id: 'stored-one', account_id: 'acct-1' } });
    });
  });
}
