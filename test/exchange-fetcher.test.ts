import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import type { ExchangeItem } from '../src/exchange/exchange.ts';
import { ExchangeFetcher } from '../src/exchange/fetcher.ts';
import { ExchangeTypeRegistry } from '../src/exchange/types/registry.ts';
import { FakeClock, fakeExchangeType, permanent, randomPdq, retryable, ScriptedSource } from './helpers/fake-exchange.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const item = (key: string, ...hashes: string[]): ExchangeItem => ({ key, signals: hashes.map((value) => ({ signalType: 'pdq', value })), member: 'member-7', tags: ['class-a'] });
const tombstone = (key: string): ExchangeItem => ({ key, signals: null });
const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();

for (const target of targets) {
  describe(`exchange fetcher (${target.name})`, () => {
    let bulwark: Bulwark;
    const sources = new Map<string, ScriptedSource>();
    const clock = new FakeClock();
    const types = new ExchangeTypeRegistry([fakeExchangeType(sources)]);
    let counter = 0;

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, hashing: { workers: 0 }, dispatchActions: false, exchanges: { types, now: clock.now, initialBackoffMs: 1000, maxBackoffMs: 8000, pollIntervalMs: 60_000 } });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    /** A new exchange on its own bank, fed by a new scripted source. */
    let name: string;
    let source: ScriptedSource;
    beforeEach(async () => {
      counter++;
      name = `fake-${counter}`;
      source = new ScriptedSource();
      sources.set(name, source);
      await bulwark.exchanges.add({ name, type: 'fake', bank: `bank-${counter}`, config: { source: name } });
    });

    const bankValues = async (bank = `bank-${counter}`) => (await bulwark.banks.listEntries(bank, { limit: 10_000 })).map((entry) => entry.value).sort();
    const matches = async (value: string) => (await bulwark.matcher.match([{ signalType: 'pdq', value, quality: 100 }], { banks: [`bank-${counter}`] })).matches.length;

    it('applies every page with its checkpoint, and the live index matches the new entries', async () => {
      const hashes = [randomPdq(), randomPdq(), randomPdq()];
      source.pages = [
        { items: [item('a', hashes[0]), item('b', hashes[1])], progressAt: at(1) },
        { items: [item('c', hashes[2])], progressAt: at(2) },
      ];
      const result = await bulwark.exchanges.fetchNow(name);
      assert.equal(result.error, undefined);
      assert.deepEqual({ pages: result.pages, items: result.items, added: result.entriesAdded }, { pages: 2, items: 3, added: 3 });
      assert.deepEqual(await bankValues(), [...hashes].sort());
      assert.equal(await matches(hashes[2]), 1);
      const status = await bulwark.exchanges.status(name);
      assert.equal(status.checkpointTime?.toISOString(), at(2));
      assert.equal(status.itemsFetched, 3);
      assert.equal(status.lastSuccessAt?.getTime(), clock.now().getTime());
      assert.equal(status.nextAttemptAt?.getTime(), clock.now().getTime() + 60_000);
      assert.deepEqual(status.items, { live: 3, deleted: 0 });
      const entry = (await bulwark.banks.listEntries(`bank-${counter}`)).find((e) => e.value === hashes[0])!;
      assert.equal(entry.source, `exchange:${name}`);
      assert.deepEqual(entry.tags, ['class-a']);
    });

    it('resumes after a crash on page 3 from the last committed checkpoint, with nothing lost or doubled', async () => {
      const hashes = Array.from({ length: 5 }, randomPdq);
      source.pages = hashes.map((hash, i) => ({ items: [item(`k${i}`, hash)], progressAt: at(i + 1) }));
      source.failOnceBefore(2, new TypeError('the process died'));
      const first = await bulwark.exchanges.fetchNow(name);
      assert.equal(first.pages, 2);
      assert.match(first.error ?? '', /process died/);
      assert.deepEqual(await bankValues(), hashes.slice(0, 2).sort());
      // A new fetcher on the same store: a restarted server.
      const restarted = new ExchangeFetcher(bulwark.sql, bulwark.banks, bulwark.signals, { types, now: clock.now });
      const second = await restarted.fetchNow(name);
      assert.equal(second.error, undefined);
      assert.deepEqual(source.calls, [null, 2], 'the second run began at page 3');
      assert.equal(second.pages, 3);
      assert.deepEqual(await bankValues(), [...hashes].sort());
      const status = await bulwark.exchanges.status(name);
      assert.equal(status.itemsFetched, 5);
      assert.equal(status.checkpointTime?.toISOString(), at(5));
      assert.equal(status.lastError, null);
    });

    it('refuses a checkpoint that goes back: nothing of its page applied, the error shown, the exchange stopped', async () => {
      const [kept, refused] = [randomPdq(), randomPdq()];
      source.pages = [
        { items: [item('a', kept)], progressAt: at(10) },
        { items: [item('b', refused)], progressAt: at(9) },
      ];
      const result = await bulwark.exchanges.fetchNow(name);
      assert.equal(result.stopped, true);
      assert.deepEqual(await bankValues(), [kept]);
      const status = await bulwark.exchanges.status(name);
      assert.match(status.lastError ?? '', /goes back/);
      assert.equal(status.stopped, true);
      assert.equal(status.checkpointTime?.toISOString(), at(10));
      clock.advance(10 * 60_000);
      assert.deepEqual((await bulwark.exchanges.fetcher.tick()).filter((run) => run.exchange === name), [], 'a stopped exchange is not run by the schedule');
    });

    it('skips malformed items by name and applies the rest of the page', async () => {
      const [good1, good2] = [randomPdq(), randomPdq()];
      source.pages = [
        {
          items: [item('good-1', good1), item('bad-hash', 'zz-not-hex'), { key: 'odd-type', signals: [{ signalType: 'mystery', value: 'x' }] }, item('good-2', good2)],
          skipped: [{ item: 'entry 17', reason: 'no fingerprints' }],
          progressAt: at(1),
        },
      ];
      const result = await bulwark.exchanges.fetchNow(name);
      assert.equal(result.error, undefined);
      assert.equal(result.skipped, 3);
      assert.deepEqual(await bankValues(), [good1, good2].sort());
      const status = await bulwark.exchanges.status(name);
      assert.equal(status.skipped.total, 3);
      assert.deepEqual(status.skipped.latest.map((skip) => skip.item).sort(), ['bad-hash', 'entry 17', 'odd-type']);
      assert.match(status.skipped.latest.find((skip) => skip.item === 'odd-type')!.reason, /unknown signal type/);
      assert.deepEqual(status.items, { live: 2, deleted: 0 }, 'a skipped item is not half stored');
    });

    it('removes an entry only when no live item holds its hash any more, and never one added by hand', async () => {
      const [shared, own, manual] = [randomPdq(), randomPdq(), randomPdq()];
      await bulwark.banks.addEntry(`bank-${counter}`, { signalType: 'pdq', value: manual, source: 'analyst' });
      source.pages = [
        { items: [item('a', shared, own), item('b', shared), item('c', manual)], progressAt: at(1) },
        { items: [tombstone('a')], progressAt: at(2) },
      ];
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(await bankValues(), [shared, manual].sort(), 'b still holds the shared hash');
      assert.equal(await matches(own), 0, 'the live index lost the removed entry');
      source.pages.push({ items: [tombstone('b'), tombstone('c')], progressAt: at(3) });
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(await bankValues(), [manual], "the analyst's entry stays");
      assert.equal(await matches(shared), 0);
      assert.deepEqual((await bulwark.exchanges.status(name)).items, { live: 0, deleted: 3 });
    });

    it('an update replaces the item: hashes it no longer holds leave the bank', async () => {
      const [before, after, added] = [randomPdq(), randomPdq(), randomPdq()];
      source.pages = [
        { items: [item('a', before)], progressAt: at(1) },
        { items: [{ ...item('a', after, added), tags: ['class-b'] }], progressAt: at(2) },
      ];
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(await bankValues(), [after, added].sort());
      assert.deepEqual((await bulwark.banks.listEntries(`bank-${counter}`)).map((entry) => entry.tags), [['class-b'], ['class-b']]);
    });

    it('refetches from scratch when the checkpoint is stale, and removes what the fresh read no longer holds', async () => {
      const [stays, goes] = [randomPdq(), randomPdq()];
      source.pages = [{ items: [item('stays', stays), item('goes', goes)], progressAt: at(1) }];
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(await bankValues(), [stays, goes].sort());
      // The source forgot the deletion of "goes" long ago: a fresh read no longer lists it.
      source.pages = [{ items: [item('stays', stays)], progressAt: at(40) }];
      source.staleBefore = new Date(at(30));
      const result = await bulwark.exchanges.fetchNow(name);
      assert.equal(result.error, undefined);
      assert.deepEqual(source.calls, [null, null], 'the second run began from nothing');
      assert.deepEqual(await bankValues(), [stays]);
      const status = await bulwark.exchanges.status(name);
      assert.deepEqual(status.items, { live: 1, deleted: 1 });
      assert.equal(status.fullReadUnderway, false);
      assert.equal(status.checkpointTime?.toISOString(), at(40));
    });

    it('a whole read interrupted by a crash still removes what it did not read once it ends', async () => {
      const hashes = [randomPdq(), randomPdq(), randomPdq()];
      source.pages = [{ items: hashes.map((hash, i) => item(`k${i}`, hash)), progressAt: at(1) }];
      await bulwark.exchanges.fetchNow(name);
      source.staleBefore = new Date(at(5));
      source.pages = [
        { items: [item('k0', hashes[0])], progressAt: at(6) },
        { items: [item('k1', hashes[1])], progressAt: at(7) },
      ];
      source.failOnceBefore(1, retryable());
      assert.ok((await bulwark.exchanges.fetchNow(name)).error);
      assert.equal((await bulwark.exchanges.status(name)).fullReadUnderway, true);
      source.staleBefore = undefined;
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(source.calls, [null, null, 1]);
      assert.deepEqual(await bankValues(), hashes.slice(0, 2).sort());
    });

    it('backs off exponentially on retryable errors, honours Retry-After, and never holds up another exchange', async () => {
      const other = new ScriptedSource();
      sources.set(`${name}-other`, other);
      await bulwark.exchanges.add({ name: `${name}-other`, type: 'fake', bank: `bank-${counter}-other`, config: { source: `${name}-other` } });
      const otherHash = randomPdq();
      other.pages = [{ items: [item('x', otherHash)], progressAt: at(1) }];
      source.pages = [{ items: [item('a', randomPdq())], progressAt: at(1) }];
      source.failOnceBefore(0, retryable());
      // Stop the other exchanges of earlier tests from joining this schedule.
      for (const exchange of await bulwark.exchanges.list()) if (!exchange.name.startsWith(name)) await bulwark.exchanges.update(exchange.name, { enabled: false });

      const started = clock.now().getTime();
      const runs = await bulwark.exchanges.fetcher.tick();
      assert.deepEqual(runs.map((run) => [run.exchange, run.error !== undefined]).sort(), [[name, true], [`${name}-other`, false]]);
      assert.deepEqual(await bankValues(`bank-${counter}-other`), [otherHash], 'the healthy exchange fetched meanwhile');
      let status = await bulwark.exchanges.status(name);
      assert.equal(status.consecutiveFailures, 1);
      assert.equal(status.nextAttemptAt?.getTime(), started + 1000);
      assert.equal(status.stopped, false);

      clock.advance(999);
      assert.deepEqual(await bulwark.exchanges.fetcher.tick(), [], 'not due before its backoff');
      source.failOnceBefore(0, retryable());
      clock.advance(1);
      await bulwark.exchanges.fetcher.tick();
      status = await bulwark.exchanges.status(name);
      assert.equal(status.consecutiveFailures, 2);
      assert.equal(status.nextAttemptAt?.getTime(), clock.now().getTime() + 2000, 'doubled');

      source.failOnceBefore(0, retryable('429 too many requests', 30_000));
      clock.advance(2000);
      await bulwark.exchanges.fetcher.tick();
      status = await bulwark.exchanges.status(name);
      assert.equal(status.nextAttemptAt?.getTime(), clock.now().getTime() + 30_000, 'Retry-After is longer than the backoff');
      assert.match(status.lastError ?? '', /429/);

      clock.advance(30_000);
      const [run] = await bulwark.exchanges.fetcher.tick();
      assert.equal(run.error, undefined);
      status = await bulwark.exchanges.status(name);
      assert.equal(status.consecutiveFailures, 0);
      assert.equal(status.lastError, null);
    });

    it('stops on a non-retryable error until the configuration changes or an operator fetches', async () => {
      const hash = randomPdq();
      source.pages = [{ items: [item('a', hash)], progressAt: at(1) }];
      source.failOnceBefore(0, permanent('source answered 401'));
      for (const exchange of await bulwark.exchanges.list()) if (exchange.name !== name) await bulwark.exchanges.update(exchange.name, { enabled: false });
      const [run] = await bulwark.exchanges.fetcher.tick();
      assert.equal(run.stopped, true);
      const status = await bulwark.exchanges.status(name);
      assert.deepEqual([status.stopped, status.nextAttemptAt, status.lastError], [true, null, 'source answered 401']);
      clock.advance(24 * 3_600_000);
      assert.deepEqual(await bulwark.exchanges.fetcher.tick(), []);
      await bulwark.exchanges.update(name, { config: { source: name } });
      const [again] = await bulwark.exchanges.fetcher.tick();
      assert.equal(again.error, undefined);
      assert.deepEqual(await bankValues(), [hash]);
    });

    it('refuses an enormous page whole, naming its size', async () => {
      const small = new ExchangeFetcher(bulwark.sql, bulwark.banks, bulwark.signals, { types, now: clock.now, maxPageItems: 3 });
      source.pages = [{ items: Array.from({ length: 4 }, (_, i) => item(`k${i}`, randomPdq())), progressAt: at(1) }];
      const result = await small.fetchNow(name);
      assert.equal(result.stopped, true);
      assert.match(result.error ?? '', /page of 4 items/);
      assert.deepEqual(await bankValues(), []);
    });

    it('never runs one exchange in two fetchers at once: the second is told another is fetching', async () => {
      const hash = randomPdq();
      source.pages = [{ items: [item('a', hash)], progressAt: at(1) }];
      let open!: () => void;
      source.gate = new Promise<void>((resolve) => (open = resolve));
      const first = bulwark.exchanges.fetchNow(name);
      await source.waiting;
      const other = new ExchangeFetcher(bulwark.sql, bulwark.banks, bulwark.signals, { types, now: clock.now });
      const refused = await other.fetchNow(name);
      assert.match(refused.error ?? '', /another process is fetching/);
      assert.equal(refused.pages, 0);
      open();
      assert.equal((await first).error, undefined);
      source.gate = undefined;
      assert.equal((await other.fetchNow(name)).error, undefined, 'the lease is free once the first run ends');
      assert.deepEqual(await bankValues(), [hash]);
      assert.equal((await bulwark.exchanges.status(name)).lastError, null, 'a refused second run records no failure');
    });

    it('removing the exchange removes the entries only it held', async () => {
      const hash = randomPdq();
      source.pages = [{ items: [item('a', hash)], progressAt: at(1) }];
      await bulwark.exchanges.fetchNow(name);
      assert.deepEqual(await bulwark.exchanges.remove(name), { entriesRemoved: 1 });
      assert.deepEqual(await bankValues(), []);
      assert.equal(await matches(hash), 0);
    });
  });
}
