import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { openBulwark } from '../src/app.ts';
import { BankService } from '../src/banks/banks.ts';
import type { RawBankRow } from '../src/banks/import-formats.ts';
import { buildServer } from '../src/http/server.ts';
import type { IndexUpdate } from '../src/match/bank-sync.ts';
import { Matcher, type MatcherOptions } from '../src/match/matcher.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { migrate } from '../src/store/migrate.ts';
import { type SqlClient, type StoreLocation, openSql } from '../src/store/sql.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const signals = defaultSignalRegistry();

/** A random PDQ hash (benign: random bits) and copies of it a few bits away. */
function hashes(seed: number) {
  const random = seededRandom(seed);
  return {
    next: () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join(''),
  };
}
const flip = (hex: string, bits: number) => {
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i < bits; i++) bytes[i] ^= 0x01;
  return bytes.toString('hex');
};
const rows = (values: string[], signalType = 'pdq'): RawBankRow[] => values.map((value, i) => ({ line: i + 1, signalType, value, tags: [] }));

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * A gate on the matcher's last step before an update becomes visible: armed, it reports the
 * update and holds it until opened, so a test can query while the update is prepared but not
 * yet applied. Nothing here waits on a clock.
 */
function gate() {
  let armed: { entered: ReturnType<typeof deferred<IndexUpdate>>; open: ReturnType<typeof deferred<void>> } | undefined;
  const updates: IndexUpdate[] = [];
  return {
    updates,
    beforeApply: async (update: IndexUpdate) => {
      updates.push(update);
      const held = armed;
      if (!held) return;
      armed = undefined;
      held.entered.resolve(update);
      await held.open.promise;
    },
    arm() {
      const held = { entered: deferred<IndexUpdate>(), open: deferred<void>() };
      armed = held;
      return { entered: held.entered.promise, open: () => held.open.resolve() };
    },
  };
}

interface Process {
  sql: SqlClient;
  banks: BankService;
  matcher: Matcher;
}

async function process(location: StoreLocation, options: MatcherOptions = {}, sql?: SqlClient): Promise<Process> {
  const client = sql ?? (await openSql(location));
  await migrate(client);
  const banks = new BankService(client, signals);
  return { sql: client, banks, matcher: new Matcher(client, signals, banks, { refreshIntervalMs: 0, ...options }) };
}

const matched = async (matcher: Matcher, value: string, signalType = 'pdq') =>
  (await matcher.match([{ signalType, value, quality: 100 }])).matches.map((match) => match.value);

for (const target of targets) {
  describe(`index updates while matching (${target.name})`, () => {
    let location: StoreLocation;
    let main: Process;
    const hold = gate();
    const made = hashes(target.name === 'pglite' ? 11 : 12);
    const old = made.next();

    before(async () => {
      location = target.location();
      main = await process(location, { beforeApply: hold.beforeApply });
      await main.banks.create('live');
      await main.banks.addEntry('live', { signalType: 'pdq', value: old });
      await main.matcher.refresh();
    });
    after(async () => {
      await main.sql.close();
      await target.cleanup();
    });

    it('applies an import to the live index as a delta, and a query meanwhile answers from the last complete index without waiting', async () => {
      const before = main.matcher.status().find((bank) => bank.bank === 'live')!;
      const added = [made.next(), made.next(), made.next()];
      const held = hold.arm();
      const importing = main.banks.importRows('live', rows(added), { sourceName: 'three.csv', format: 'csv' });
      const update = await held.entered;
      assert.deepEqual(update, { bank: 'live', bankId: update.bankId, fromRevision: before.revision, toRevision: before.revision! + 1, entries: 3, reload: false });
      // The update is prepared and held: a query now must answer at once, from the index as it was.
      assert.deepEqual(await matched(main.matcher, flip(added[0], 3)), [], 'the import is not visible yet');
      assert.deepEqual(await matched(main.matcher, flip(old, 5)), [old], 'the bank still answers');
      const during = main.matcher.status().find((bank) => bank.bank === 'live')!;
      assert.equal(during.revisionsBehind, 1);
      assert.equal(during.catchingUp, true);
      assert.equal(during.indexes[0].size, 1);
      held.open();
      assert.equal((await importing).rowsAdded, 3, 'the import returns once its rows are visible');
      for (const value of added) assert.deepEqual(await matched(main.matcher, flip(value, 4)), [value]);
      const afterwards = main.matcher.status().find((bank) => bank.bank === 'live')!;
      assert.deepEqual([afterwards.revision, afterwards.revisionsBehind, afterwards.entriesBehind, afterwards.indexes[0].size], [before.revision! + 1, 0, 0, 4]);
    });

    it('reloads a bank whose change log has a gap beside the live copy, and swaps the new copy in whole', async () => {
      const outside = made.next();
      // A change that left no change-log row (as one made before the log existed).
      await main.sql.transaction(async (tx) => {
        const bank = (await tx.query<{ id: number }>("SELECT id FROM banks WHERE name = 'live'")).rows[0];
        await tx.query("INSERT INTO bank_entries (bank_id, signal_type, value) VALUES ($1, 'pdq', $2)", [bank.id, outside]);
        await tx.query('UPDATE banks SET revision = revision + 1 WHERE id = $1', [bank.id]);
      });
      const held = hold.arm();
      const refreshing = main.matcher.refresh();
      const update = await held.entered;
      assert.equal(update.reload, true);
      assert.deepEqual(await matched(main.matcher, outside), [], 'the old copy answers while the new one waits');
      assert.deepEqual(await matched(main.matcher, old), [old]);
      assert.equal(main.matcher.status().find((bank) => bank.bank === 'live')!.rebuilding, true);
      held.open();
      await refreshing;
      assert.deepEqual(await matched(main.matcher, outside), [outside]);
      assert.equal(main.matcher.index('live', 'pdq')!.size, 5);
    });

    it('another process learns of changes by revision and applies them as a delta', async () => {
      // Its own connection and its own BankService: it hears nothing from this one, as on another machine.
      const records = gate();
      const other = await process(location, { beforeApply: records.beforeApply }, target.name === 'postgres' ? undefined : main.sql);
      try {
        await other.matcher.refresh();
        const size = other.matcher.index('live', 'pdq')!.size;
        const added = [made.next(), made.next()];
        await main.banks.importRows('live', rows(added), { sourceName: 'two.csv', format: 'csv' });
        await main.banks.removeEntry('live', 'pdq', old);
        records.updates.length = 0;
        assert.deepEqual(await matched(other.matcher, added[0]), [], 'the first query answers before the change is read');
        await other.matcher.idle();
        assert.deepEqual(records.updates.map((update) => [update.reload, update.entries, update.toRevision - update.fromRevision]), [[false, 3, 2]]);
        assert.deepEqual(await matched(other.matcher, added[0]), [added[0]]);
        assert.deepEqual(await matched(other.matcher, old), []);
        assert.equal(other.matcher.index('live', 'pdq')!.size, size + 1);
        const status = other.matcher.status().find((bank) => bank.bank === 'live')!;
        assert.deepEqual([status.revisionsBehind, status.entriesBehind], [0, 0]);
      } finally {
        if (other.sql !== main.sql) await other.sql.close();
      }
    });

    it('matches what a full reload matches after any sequence of changes, in this process and in another (property)', async () => {
      const other = await process(location, {}, target.name === 'postgres' ? undefined : main.sql);
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.nat(),
            fc.array(fc.record({ kind: fc.constantFrom('add', 'remove', 'import', 'settings'), n: fc.integer({ min: 1, max: 6 }), pick: fc.nat() }), { minLength: 1, maxLength: 8 }),
            async (seed, ops) => {
              const bank = `prop-${target.name}-${run++}`;
              const random = hashes(seed);
              await main.banks.create(bank);
              const values: string[] = [];
              for (const op of ops) {
                if (op.kind === 'add') {
                  const value = random.next();
                  await main.banks.addEntry(bank, { signalType: op.pick % 3 === 0 ? 'md5' : 'pdq', value: op.pick % 3 === 0 ? value.slice(0, 32) : value });
                  values.push(value);
                } else if (op.kind === 'remove') {
                  const [entry] = (await main.banks.listEntries(bank, { limit: 1, afterId: 0 })).slice(op.pick % 1);
                  if (entry) await main.banks.removeEntry(bank, entry.signalType, entry.value);
                } else if (op.kind === 'import') {
                  const batch = Array.from({ length: op.n }, () => random.next());
                  await main.banks.importRows(bank, rows(batch), { sourceName: 'p.csv', format: 'csv' });
                  values.push(...batch);
                } else {
                  await main.banks.update(bank, { matchSettings: { maxDistance: { pdq: 20 + (op.pick % 10) } } });
                }
              }
              await other.matcher.refresh();
              const fresh = await process(location, {}, main.sql);
              await fresh.matcher.refresh();
              for (const value of values) {
                for (const query of [value, flip(value, 6), value.slice(0, 32)]) {
                  const signalType = query.length === 32 ? 'md5' : 'pdq';
                  const expected = await fresh.matcher.match([{ signalType, value: query, quality: 100 }], { banks: [bank] });
                  assert.deepEqual(await main.matcher.match([{ signalType, value: query, quality: 100 }], { banks: [bank] }), expected, 'this process');
                  assert.deepEqual(await other.matcher.match([{ signalType, value: query, quality: 100 }], { banks: [bank] }), expected, 'another process');
                }
              }
              for (const signalType of ['pdq', 'md5']) {
                const size = fresh.matcher.index(bank, signalType)?.size ?? 0;
                assert.equal(main.matcher.index(bank, signalType)?.size ?? 0, size);
                assert.equal(other.matcher.index(bank, signalType)?.size ?? 0, size);
              }
            },
          ),
          { numRuns: 8 },
        );
      } finally {
        if (other.sql !== main.sql) await other.sql.close();
      }
    });
  });

  describe(`index status over HTTP (${target.name})`, () => {
    it('says each index’s size, revision, the store’s revision and the lag, for an authenticated caller', async () => {
      const bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, hashing: { workers: 0 } });
      const app = await buildServer(bulwark);
      try {
        const auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('status test')).key}` };
        await bulwark.banks.create('watched');
        await bulwark.banks.addEntry('watched', { signalType: 'md5', value: 'ab'.repeat(16) });
        assert.equal((await app.inject({ url: '/v1/index/status' })).statusCode, 401);
        // A change this server's matcher does not hear, as from another process.
        await new BankService(bulwark.sql, bulwark.signals).addEntry('watched', { signalType: 'md5', value: 'cd'.repeat(16) });
        const lagging = await app.inject({ url: '/v1/index/status', headers: auth });
        assert.equal(lagging.statusCode, 200, lagging.body);
        const watched = lagging.json().banks.find((bank: { bank: string }) => bank.bank === 'watched');
        // The look at the store started a catch-up, which this answer does not wait for.
        assert.deepEqual(watched, {
          bank: 'watched', enabled: true, revision: 1, store_revision: 2, revisions_behind: 1, entries_behind: 1, catching_up: true, rebuilding: false,
          indexes: [{ signal_type: 'md5', size: 1, rebuilding: false }],
        });
        await bulwark.matcher.idle();
        const current = (await app.inject({ url: '/v1/index/status', headers: auth })).json().banks.find((bank: { bank: string }) => bank.bank === 'watched');
        assert.deepEqual([current.revision, current.revisions_behind, current.entries_behind, current.indexes[0].size], [2, 0, 0, 2]);
        const health = (await app.inject({ url: '/healthz' })).json();
        assert.deepEqual(health.banks.find((bank: { bank: string }) => bank.bank === 'watched'), {
          bank: 'watched', signalType: 'md5', size: 2, revision: 2, storeRevision: 2, revisionsBehind: 0, entriesBehind: 0, rebuilding: false,
        });
        const openapi = (await app.inject({ url: '/openapi.json' })).json();
        assert.ok(openapi.paths['/v1/index/status']?.get, 'documented in OpenAPI');
      } finally {
        await app.close();
        await bulwark.close();
        await target.cleanup();
      }
    });
  });
}

describe('a worker process leaves the bank indexes unloaded until something matches', () => {
  it('holds no index after start or a bank change, and a first query loads them before it answers', async () => {
    const bulwark = await openBulwark({ role: 'worker', bankRefreshMs: 0, hashing: { workers: 0 } });
    try {
      const random = hashes(77);
      const banked = random.next();
      await bulwark.banks.create('worker-bank');
      await bulwark.banks.importRows('worker-bank', [banked, random.next(), random.next()].map((value, i) => ({ line: i + 1, signalType: 'pdq', value, tags: [] })), { sourceName: 'test', format: 'generated' });
      await bulwark.banks.addEntry('worker-bank', { signalType: 'md5', value: 'ab'.repeat(16) });
      assert.equal(bulwark.matcher.loaded, false);
      assert.deepEqual(bulwark.matcher.stats(), [], 'nothing held in memory');
      const result = await bulwark.matcher.match([{ signalType: 'pdq', value: banked, quality: 100 }]);
      assert.equal(bulwark.matcher.loaded, true);
      assert.deepEqual(result.matches.map((match) => [match.bank, match.value]), [['worker-bank', banked]]);
      assert.equal(bulwark.matcher.stats().reduce((sum, index) => sum + index.size, 0), 4);
    } finally {
      await bulwark.close();
    }
  });
});
