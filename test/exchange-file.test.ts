import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { FILE_PAGE_ITEMS } from '../src/exchange/types/file.ts';
import { FakeClock, randomPdq } from './helpers/fake-exchange.ts';
import { ListServer } from './helpers/list-server.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

for (const target of targets) {
  describe(`file and URL exchanges (${target.name})`, () => {
    let bulwark: Bulwark;
    const server = new ListServer();
    const clock = new FakeClock();
    let dir: string;

    before(async () => {
      await server.start();
      dir = await mkdtemp(join(tmpdir(), 'bulwark-lists-'));
      bulwark = await openBulwark({
        ...target.location(),
        bankRefreshMs: 0,
        hashing: { workers: 0 },
        dispatchActions: false,
        exchanges: { now: clock.now, env: { BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1', BULWARK_EXCHANGE_FILE_DIR: dir, BULWARK_EXCHANGE_SECURED_AUTHORIZATION: 'Bearer list-token' } },
      });
    });
    after(async () => {
      await bulwark.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
      await target.cleanup();
    });

    const values = async (bank: string) => (await bulwark.banks.listEntries(bank, { limit: 10_000 })).map((entry) => `${entry.signalType} ${entry.value}`).sort();

    it('reads HMA local_file lines, answers 304 as no change, and a new version with a line gone as its deletion', async () => {
      const [a, b, c] = [randomPdq(), randomPdq(), randomPdq()];
      server.lists.set('/hma.txt', { body: `# shared list\npdq ${a}\npdq ${b}\n` });
      await bulwark.exchanges.add({ name: 'hma-list', type: 'file', bank: 'hma', config: { url: `${server.url}/hma.txt`, tags: ['partner-list'] } });
      const first = await bulwark.exchanges.fetchNow('hma-list');
      assert.equal(first.error, undefined);
      assert.deepEqual(await values('hma'), [`pdq ${a}`, `pdq ${b}`].sort());
      assert.deepEqual((await bulwark.banks.listEntries('hma'))[0].tags, ['partner-list']);

      clock.advance(60_000);
      const unchanged = await bulwark.exchanges.fetchNow('hma-list');
      assert.equal(unchanged.error, undefined);
      const last = server.log.filter((entry) => entry.path === '/hma.txt').at(-1)!;
      assert.equal(last.status, 304, 'the second poll sent the ETag and got 304');
      assert.ok(last.ifNoneMatch);
      assert.equal((await bulwark.exchanges.status('hma-list')).checkpointTime?.getTime(), clock.now().getTime(), 'a 304 still says the list is current');

      server.lists.set('/hma.txt', { body: `pdq ${b}\npdq ${c}\n` });
      const changed = await bulwark.exchanges.fetchNow('hma-list');
      assert.deepEqual([changed.entriesAdded, changed.entriesRemoved], [1, 1]);
      assert.deepEqual(await values('hma'), [`pdq ${b}`, `pdq ${c}`].sort());
      assert.deepEqual((await bulwark.exchanges.status('hma-list')).items, { live: 2, deleted: 1 });
    });

    it('polls a server without ETags by If-Modified-Since', async () => {
      const [a, b] = [randomPdq(), randomPdq()];
      server.lists.set('/dated.txt', { body: `pdq ${a}\n`, lastModified: 'Mon, 02 Mar 2026 10:00:00 GMT' });
      await bulwark.exchanges.add({ name: 'dated', type: 'file', bank: 'dated', config: { url: `${server.url}/dated.txt` } });
      await bulwark.exchanges.fetchNow('dated');
      await bulwark.exchanges.fetchNow('dated');
      const log = server.log.filter((entry) => entry.path === '/dated.txt');
      assert.deepEqual(log.map((entry) => [entry.status, entry.ifModifiedSince]), [[200, undefined], [304, 'Mon, 02 Mar 2026 10:00:00 GMT']]);
      server.lists.set('/dated.txt', { body: `pdq ${b}\n`, lastModified: 'Tue, 03 Mar 2026 10:00:00 GMT' });
      await bulwark.exchanges.fetchNow('dated');
      assert.deepEqual(await values('dated'), [`pdq ${b}`]);
    });

    it('reads bare values when the config names the signal type, and skips a bad line by its number', async () => {
      const [a, b] = [randomPdq(), randomPdq()];
      server.lists.set('/bare.txt', { body: `${a}\nnot a hash line\n${b}\n` });
      await bulwark.exchanges.add({ name: 'bare', type: 'file', bank: 'bare', config: { url: `${server.url}/bare.txt`, signal_type: 'pdq' } });
      const result = await bulwark.exchanges.fetchNow('bare');
      assert.equal(result.error, undefined);
      assert.deepEqual(await values('bare'), [`pdq ${a}`, `pdq ${b}`].sort());
      const status = await bulwark.exchanges.status('bare');
      assert.deepEqual(status.skipped.latest.map((skip) => skip.item), ['line 2']);
    });

    it('reads the CSV and JSON-lines lists bank import reads; a bad hash in the middle is skipped and named', async () => {
      const [a, b, md5] = [randomPdq(), randomPdq(), createHash('md5').update('benign').digest('hex')];
      server.lists.set('/list.csv', { body: `signal_type,value,source,tags\npdq,${a},member-1,alpha;beta\npdq,00zz,member-1,\nmd5,${md5},member-2,gamma\n` });
      await bulwark.exchanges.add({ name: 'csv-list', type: 'file', bank: 'csv', config: { url: `${server.url}/list.csv` } });
      assert.equal((await bulwark.exchanges.fetchNow('csv-list')).error, undefined);
      assert.deepEqual(await values('csv'), [`md5 ${md5}`, `pdq ${a}`].sort());
      const status = await bulwark.exchanges.status('csv-list');
      assert.deepEqual(status.skipped.latest.map((skip) => skip.item), ['pdq 00zz']);
      assert.deepEqual((await bulwark.banks.listEntries('csv')).find((entry) => entry.signalType === 'pdq')!.tags, ['alpha', 'beta']);

      server.lists.set('/list.jsonl', { body: `${JSON.stringify({ signal_type: 'pdq', value: b, tags: ['delta'] })}\n{"broken json\n` });
      await bulwark.exchanges.add({ name: 'jsonl-list', type: 'file', bank: 'jsonl', config: { url: `${server.url}/list.jsonl` } });
      assert.equal((await bulwark.exchanges.fetchNow('jsonl-list')).error, undefined);
      assert.deepEqual(await values('jsonl'), [`pdq ${b}`]);
      assert.deepEqual((await bulwark.exchanges.status('jsonl-list')).skipped.latest.map((skip) => [skip.item, skip.reason]), [['line 2', 'not valid JSON']]);
    });

    it('sends the Authorization header from the environment and retries a 503 after its Retry-After', async () => {
      server.lists.set('/secured.txt', { body: '', status: 503, retryAfter: '120' });
      await bulwark.exchanges.add({ name: 'secured', type: 'file', bank: 'secured', config: { url: `${server.url}/secured.txt`, signal_type: 'pdq' } });
      const failed = await bulwark.exchanges.fetchNow('secured');
      assert.match(failed.error ?? '', /503/);
      const status = await bulwark.exchanges.status('secured');
      assert.equal(status.stopped, false);
      assert.equal(status.nextAttemptAt?.getTime(), clock.now().getTime() + 120_000);
      assert.equal(server.log.filter((entry) => entry.path === '/secured.txt').at(-1)!.authorization, 'Bearer list-token');
      assert.deepEqual(status.credentials, { variables: ['BULWARK_EXCHANGE_SECURED_AUTHORIZATION', 'BULWARK_EXCHANGE_FILE_DIR'], problem: null });
      assert.ok(!JSON.stringify(status).includes('list-token'), 'the status never shows a credential');
    });

    it('reads a local list only inside BULWARK_EXCHANGE_FILE_DIR, in pages, a whole version at a time', async () => {
      const hashes = Array.from({ length: FILE_PAGE_ITEMS + 5 }, randomPdq);
      await writeFile(join(dir, 'big.txt'), hashes.map((hash) => `pdq ${hash}`).join('\n'));
      await bulwark.exchanges.add({ name: 'local', type: 'file', bank: 'local', config: { path: join(dir, 'big.txt') } });
      const result = await bulwark.exchanges.fetchNow('local');
      assert.equal(result.error, undefined);
      assert.deepEqual([result.pages, result.items, result.entriesAdded], [2, hashes.length, hashes.length]);
      await writeFile(join(dir, 'big.txt'), hashes.slice(3).map((hash) => `pdq ${hash}`).join('\n'));
      const next = await bulwark.exchanges.fetchNow('local');
      assert.deepEqual([next.entriesAdded, next.entriesRemoved], [0, 3]);

      await bulwark.exchanges.add({ name: 'outside', type: 'file', bank: 'local', config: { path: '/etc/hostname' } });
      const refused = await bulwark.exchanges.fetchNow('outside');
      assert.equal(refused.stopped, true);
      assert.match(refused.error ?? '', /outside BULWARK_EXCHANGE_FILE_DIR/);
    });

    it('refuses a configuration naming neither or both of url and path, or a relative path', async () => {
      for (const config of [{}, { url: `${server.url}/a`, path: '/tmp/a' }, { path: 'relative.txt' }, { url: 'ftp://example.invalid/list' }, { url: `${server.url}/a`, colour: 'red' }]) {
        await assert.rejects(bulwark.exchanges.add({ name: 'bad-config', type: 'file', bank: 'bad', config }), /config/);
      }
    });
  });
}
