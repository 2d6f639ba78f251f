import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';

/**
 * HMA's exchange routes over Bulwark's exchange stage, with the requests HMA's curation
 * blueprint takes, using the file exchange type against a local list server. The stage comes
 * from another branch: until it is part of the build there is nothing to test, and the suite
 * says so by skipping.
 */
const stagePresent = existsSync(new URL('../src/exchange/exchange-service.ts', import.meta.url));

function expectHmaError(response: LightMyRequestResponse, status: number, message: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(response.json().message, message);
}

describe('HMA-compatible exchange routes', { skip: stagePresent ? false : 'the exchange stage (branch ex-core) is not part of this build' }, () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  let lists: http.Server;
  let listUrl: string;
  const pdq = randomBytes(32).toString('hex');
  const md5 = randomBytes(16).toString('hex');

  before(async () => {
    lists = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(`pdq ${pdq}\nmd5 ${md5}\n`));
    await new Promise<void>((resolve) => lists.listen(0, '127.0.0.1', resolve));
    listUrl = `http://127.0.0.1:${(lists.address() as AddressInfo).port}/partner-list.txt`;
    bulwark = await openBulwark({ bankRefreshMs: 0, exchanges: { env: { BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1' } } });
    app = await buildServer(bulwark, { hma: { uploadLimit: 1024 * 1024, remote: { allowedHosts: [] } } });
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('hma client')).key}` };
  });
  after(async () => {
    await app?.close();
    await bulwark?.close();
    lists?.closeAllConnections();
    await new Promise((resolve) => lists?.close(resolve));
  });

  it('creates an exchange feeding its bank, shows its config and fetch status, switches it off and deletes it', async () => {
    assert.ok((await app.inject({ url: '/c/exchanges/apis', headers: auth })).json().includes('file'));
    expectHmaError(await app.inject({ method: 'POST', url: '/c/exchanges', headers: auth, payload: { bank: 'partner_feed', api: 'file', api_json: { url: listUrl } } }), 400, /must match/);
    expectHmaError(await app.inject({ method: 'POST', url: '/c/exchanges', headers: auth, payload: { bank: 'PARTNER_FEED', api: 'carrier_pigeon' } }), 400, /No such exchange type 'carrier_pigeon'/);
    expectHmaError(await app.inject({ method: 'POST', url: '/c/exchanges', headers: auth, payload: { bank: 'PARTNER_FEED', api: 'file', api_json: {} } }), 400, /Failed to parse `api_json` - config: give exactly one of "url" and "path"/);
    expectHmaError(await app.inject({ method: 'POST', url: '/c/exchanges', headers: auth, payload: { bank: 'PARTNER_FEED', api: 'file', api_json: [1] } }), 400, /must be object/);

    const created = await app.inject({ method: 'POST', url: '/c/exchanges', headers: auth, payload: { bank: 'PARTNER_FEED', api: 'file', api_json: { url: listUrl } } });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json(), { message: 'Created successfully' });
    assert.deepEqual((await app.inject({ url: '/c/exchanges', headers: auth })).json(), ['PARTNER_FEED']);
    assert.equal((await app.inject({ url: '/c/bank/PARTNER_FEED', headers: auth })).statusCode, 200, 'the bank of the same name exists');
    const config = (await app.inject({ url: '/c/exchange/PARTNER_FEED', headers: auth })).json();
    assert.equal(config.name, 'PARTNER_FEED');
    assert.equal(config.api, 'file');
    assert.equal(config.enabled, true);
    assert.equal(config.url, listUrl);

    const before = (await app.inject({ url: '/c/exchange/PARTNER_FEED/status', headers: auth })).json();
    assert.deepEqual(before, { checkpoint_ts: null, running_fetch_start_ts: null, last_fetch_complete_ts: null, last_fetch_succeeded: null, up_to_date: false, fetched_items: 0 });
    await (bulwark as unknown as { exchanges: { fetchNow(name: string): Promise<unknown> } }).exchanges.fetchNow('partner_feed');
    const fetched = (await app.inject({ url: '/c/exchange/PARTNER_FEED/status', headers: auth })).json();
    assert.equal(fetched.last_fetch_succeeded, true);
    assert.equal(fetched.up_to_date, true);
    assert.equal(fetched.fetched_items, 2);
    assert.equal(typeof fetched.last_fetch_complete_ts, 'number');
    const lookup = (await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json();
    assert.deepEqual(Object.keys(lookup), ['PARTNER_FEED']);

    // The file type takes an optional Authorization header from the environment; nothing is missing.
    assert.deepEqual((await app.inject({ url: '/c/exchanges/api/file', headers: auth })).json(), { supports_authentification: true, has_set_authentification: true });
    expectHmaError(await app.inject({ url: '/c/exchanges/api/carrier_pigeon', headers: auth }), 400, /no such Exchange API/);
    expectHmaError(await app.inject({ method: 'POST', url: '/c/exchanges/api/file', headers: auth, payload: { credential_json: { token: 'x' } } }), 400, /only from the environment/);

    const off = await app.inject({ method: 'PUT', url: '/c/exchange/PARTNER_FEED', headers: auth, payload: { enabled: false } });
    assert.equal(off.json().enabled, false);
    expectHmaError(await app.inject({ url: '/c/exchange/NO_SUCH', headers: auth }), 404, /Exchange 'NO_SUCH' not found/);
    assert.deepEqual((await app.inject({ method: 'DELETE', url: '/c/exchange/PARTNER_FEED', headers: auth })).json(), { message: 'Exchange deleted' });
    assert.deepEqual((await app.inject({ url: '/c/exchanges', headers: auth })).json(), []);
    assert.deepEqual((await app.inject({ url: `/m/lookup?signal_type=pdq&signal=${pdq}`, headers: auth })).json(), {}, 'the entries only the exchange brought left with it');
  });
});
