/**
 * A bank's history (removal tombstones, change-log rows) is forgotten once no reader needs it:
 * never past retroactive matching's checkpoint, never a bank's newest row, and a feed
 * subscriber whose checkpoint needed what went is told to read the bank again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { pruneBankHistory } from '../src/banks/history-pruning.ts';
import { ResnapshotRequired } from '../src/exchange/publish/bank-feed.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const randomPdq = () => randomBytes(32).toString('hex');
/** Everything written so far is older than this: the test decides what "old" is, not the clock. */
const afterEverything = () => new Date(Date.now() + 86_400_000);

describe('bank history pruning', async () => {
  let targets: StoreTarget[];
  before(async () => {
    targets = await storeTargets();
  });
  after(async () => {
    for (const target of targets) await target.cleanup();
  });

  for (const name of ['pglite', 'postgres'] as const) {
    it(`keeps what retroactive matching and feeds still need (${name})`, async (t) => {
      const target = targets.find((candidate) => candidate.name === name);
      if (!target) return t.skip('PostgreSQL is not reachable');
      const bulwark: Bulwark = await openBulwark({ ...target.location(), retroactive: { pollMs: 0 }, dispatchActions: false });
      try {
        const bank = await bulwark.banks.create('history');
        // A peer reads the (empty) published bank: its checkpoint needs every revision after this.
        await bulwark.banks.update('history', { published: true });
        const { info } = await bulwark.apiKeys.create('peer', { scope: 'feed' });
        const snapshot = await bulwark.feeds.readPage('history', info, undefined);
        const entries = [];
        for (let i = 0; i < 5; i++) entries.push(await bulwark.banks.addEntry('history', { signalType: 'pdq', value: randomPdq() }));
        await bulwark.banks.removeEntryById('history', entries[0].id);
        const revisions = async () =>
          (await bulwark.sql.query<{ revision: string | number }>('SELECT revision FROM bank_entry_changes WHERE bank_id = $1 ORDER BY revision', [bank.id])).rows.map((row) => Number(row.revision));
        assert.ok((await revisions()).length >= 6, 'one change-log row per revision');

        // Retroactive matching has done revisions up to 3: rows after it stay however old they are.
        const retroactiveAt = (revision: number) =>
          bulwark.sql.query('INSERT INTO retroactive_checkpoints (bank_id, revision) VALUES ($1, $2) ON CONFLICT (bank_id) DO UPDATE SET revision = $2', [bank.id, revision]);
        await retroactiveAt(3);
        const all = await revisions();
        const newest = all[all.length - 1];
        const pruned = await pruneBankHistory(bulwark.sql, afterEverything());
        assert.equal(pruned.tombstones, 1, 'the removal is older than the cutoff');
        assert.ok(pruned.changes > 0);
        const kept = await revisions();
        assert.deepEqual(kept, all.filter((revision) => revision > 3), 'rows up to the retroactive checkpoint went, the rest stayed');
        const historyFrom = Number((await bulwark.sql.query<{ feed_history_from: string }>('SELECT feed_history_from FROM banks WHERE id = $1', [bank.id])).rows[0].feed_history_from);
        assert.ok(historyFrom > 3, `the feed's history starts past what went (${historyFrom})`);

        // Once retroactive matching is done with everything, only the newest row stays.
        await retroactiveAt(newest);
        await pruneBankHistory(bulwark.sql, afterEverything());
        assert.deepEqual(await revisions(), [newest]);

        // A subscriber whose checkpoint needed the forgotten revisions reads the bank again...
        await assert.rejects(() => bulwark.feeds.readPage('history', info, snapshot.checkpoint), ResnapshotRequired);
        // ...and a matcher that held an older revision still matches every live entry.
        await bulwark.matcher.refresh();
        const live = await bulwark.matcher.match([{ signalType: 'pdq', value: entries[4].value }]);
        assert.equal(live.matches[0]?.entryId, entries[4].id);
        const removed = await bulwark.matcher.match([{ signalType: 'pdq', value: entries[0].value }], { maxDistance: { pdq: 0 } });
        assert.equal(removed.matched, false);

        // A bank retroactive matching has no checkpoint for (it would start at 0) keeps its rows.
        const other = await bulwark.banks.create('unfollowed');
        for (let i = 0; i < 3; i++) await bulwark.banks.addEntry('unfollowed', { signalType: 'pdq', value: randomPdq() });
        await bulwark.sql.query('DELETE FROM retroactive_checkpoints WHERE bank_id = $1', [other.id]);
        const before = (await bulwark.sql.query('SELECT 1 FROM bank_entry_changes WHERE bank_id = $1', [other.id])).rows.length;
        await pruneBankHistory(bulwark.sql, afterEverything());
        assert.equal((await bulwark.sql.query('SELECT 1 FROM bank_entry_changes WHERE bank_id = $1', [other.id])).rows.length, before);
      } finally {
        await bulwark.close();
      }
    });
  }
});
