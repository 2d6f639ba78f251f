import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { CONTENT_MATCHED_EVENT, type ContentMatchedPayload } from '../src/ingest/content.ts';
import { FakeClock, randomPdq } from './helpers/fake-exchange.ts';
import { ListServer } from './helpers/list-server.ts';
import { expectProblem } from './helpers/problems.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

for (const target of targets) {
  describe(`/v1/exchanges (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: Awaited<ReturnType<typeof buildServer>>;
    let auth: Record<string, string>;
    const lists = new ListServer();
    const clock = new FakeClock();
    const [listed, other] = [randomPdq(), randomPdq()];

    before(async () => {
      await lists.start();
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, hashing: { workers: 0 }, dispatchActions: false, exchanges: { now: clock.now, env: { BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1' } } });
      app = await buildServer(bulwark);
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
      lists.lists.set('/partner.txt', { body: `pdq ${listed}\npdq ${other}\n` });
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await lists.stop();
      await target.cleanup();
    });

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

    it('needs an API key', async () => {
      expectProblem(await app.inject({ method: 'GET', url: '/v1/exchanges' }), 401, /./);
    });

    it('adds an exchange, fetches it, and shows its status and items', async () => {
      const added = await call('POST', '/v1/exchanges', { name: 'partner', type: 'file', bank: 'partner-list', config: { url: `${lists.url}/partner.txt`, tags: ['partner'] } });
      assert.equal(added.statusCode, 201, added.body);
      assert.equal(added.json().bank, 'partner-list');
      assert.equal(added.json().last_success_at, null);

      const fetched = await call('POST', '/v1/exchanges/partner/fetch');
      assert.equal(fetched.statusCode, 200, fetched.body);
      assert.deepEqual(fetched.json(), { exchange: 'partner', pages: 1, items: 2, skipped: 0, entries_added: 2, entries_removed: 0, error: null, stopped: false });

      const status = (await call('GET', '/v1/exchanges/partner')).json();
      assert.equal(status.last_success_at, clock.now().toISOString());
      assert.equal(status.checkpoint_time, clock.now().toISOString());
      assert.equal(status.items_fetched, 2);
      assert.deepEqual(status.items, { live: 2, deleted: 0 });
      assert.equal(status.last_error, null);
      assert.deepEqual(status.feedback, { pending: 0, sent: 0, failed: 0, unsupported: 0 });

      const list = (await call('GET', '/v1/exchanges')).json();
      assert.deepEqual(list.exchanges.map((exchange: { name: string }) => exchange.name), ['partner']);

      const item = await call('GET', `/v1/exchanges/partner/items/${encodeURIComponent(`pdq ${listed}`)}`);
      assert.equal(item.statusCode, 200, item.body);
      assert.deepEqual(item.json().signals, [{ signal_type: 'pdq', value: listed }]);
      assert.equal(item.json().entry_ids.length, 1);
      expectProblem(await call('GET', '/v1/exchanges/partner/items/nothing'), 404, /no item/);
    });

    it('shows provenance in /v1/match, /v1/content and the content.matched event', async () => {
      const expected = [{ exchange: 'partner', member: null, item_key: `pdq ${listed}`, tags: ['partner'] }];
      const matched = await call('POST', '/v1/match', { signals: [{ signal_type: 'pdq', value: listed, quality: 100 }] });
      assert.equal(matched.statusCode, 200, matched.body);
      assert.deepEqual(matched.json().matches[0].provenance, expected);

      const events: ContentMatchedPayload[] = [];
      const unsubscribe = bulwark.events.subscribe((event) => event.type === CONTENT_MATCHED_EVENT && void events.push(event.payload as ContentMatchedPayload));
      const content = await call('POST', '/v1/content', { content_id: 'upload-1', account_id: 'account-1', content_type: 'photo', signals: [{ signal_type: 'pdq', value: listed, quality: 100 }] });
      unsubscribe();
      assert.equal(content.statusCode, 201, content.body);
      assert.deepEqual(content.json().matches[0].provenance, expected);
      assert.deepEqual(events.map((event) => event.matches[0].provenance), [expected]);

      await bulwark.banks.addEntry('partner-list', { signalType: 'pdq', value: randomPdq() });
      const plain = await call('POST', '/v1/match', { signals: [{ signal_type: 'pdq', value: (await bulwark.banks.listEntries('partner-list')).at(-1)!.value, quality: 100 }] });
      assert.equal(plain.json().matches[0].provenance, undefined, 'an entry added by hand has no provenance');
    });

    it('refuses bad input with problem+json naming the field, and nothing added', async () => {
      expectProblem(await call('POST', '/v1/exchanges', { name: 'x', type: 'carrier-pigeon', bank: 'b' }), 400, /unknown exchange type "carrier-pigeon"/);
      expectProblem(await call('POST', '/v1/exchanges', { name: 'x', type: 'file', bank: 'b', config: { url: 'ftp://example.invalid/a' } }), 400, /config\.url/);
      expectProblem(await call('POST', '/v1/exchanges', { name: 'Bad Name', type: 'file', bank: 'b', config: { url: `${lists.url}/a` } }), 400, /invalid exchange name/);
      expectProblem(await call('POST', '/v1/exchanges', { name: 'x', type: 'file', bank: 'b', password: 'nope' }), 400, /password/);
      expectProblem(await call('POST', '/v1/exchanges', { name: 'partner', type: 'file', bank: 'b', config: { url: `${lists.url}/a` } }), 409, /already exists/);
      assert.deepEqual((await call('GET', '/v1/exchanges')).json().exchanges.map((exchange: { name: string }) => exchange.name), ['partner']);
      expectProblem(await call('GET', '/v1/exchanges/nope'), 404, /no exchange named "nope"/);
      expectProblem(await call('PATCH', '/v1/exchanges/partner', { config: { path: 'relative' } }), 400, /config/);
    });

    it('switches an exchange off and on, and removes it with the entries only it held', async () => {
      const disabled = await call('PATCH', '/v1/exchanges/partner', { enabled: false });
      assert.equal(disabled.json().enabled, false);
      expectProblem(await call('POST', '/v1/exchanges/partner/fetch'), 409, /disabled/);
      assert.equal((await call('PATCH', '/v1/exchanges/partner', { enabled: true })).json().enabled, true);
      const removed = await call('DELETE', '/v1/exchanges/partner');
      assert.equal(removed.statusCode, 200, removed.body);
      assert.deepEqual(removed.json(), { removed: 'partner', entries_removed: 2 });
      expectProblem(await call('GET', '/v1/exchanges/partner'), 404, /no exchange/);
      assert.equal((await bulwark.banks.listEntries('partner-list')).length, 1, 'the entry added by hand stays');
    });

    it('is documented in the OpenAPI description', async () => {
      const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/v1/exchanges', '/v1/exchanges/{name}', '/v1/exchanges/{name}/fetch', '/v1/exchanges/{name}/items/{key}']) assert.ok(spec.paths[path], path);
      assert.ok(spec.paths['/v1/exchanges/{name}'].patch && spec.paths['/v1/exchanges/{name}'].delete);
    });
  });
}
