import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { ExchangeError } from '../src/exchange/exchange.ts';
import { ExchangeUrlPolicy } from '../src/exchange/guarded-fetch.ts';
import { buildServer } from '../src/http/server.ts';
import { FakeClock, randomPdq } from './helpers/fake-exchange.ts';
import { expectProblem } from './helpers/problems.ts';

/** An exchange's URL is configured by an API-key holder: the server must not fetch internal addresses for them (SSRF). */
describe('exchange URLs keep to BULWARK_EXCHANGE_ALLOWED_HOSTS', () => {
  const clock = new FakeClock();
  const listed = randomPdq();
  let lists: http.Server;
  let port: number;
  let bulwark: Bulwark;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let auth: Record<string, string>;
  const open = async (allowed: string, dataDir?: string) => {
    bulwark = await openBulwark({ ...(dataDir ? { dataDir } : {}), bankRefreshMs: 0, hashing: { workers: 0 }, dispatchActions: false, exchanges: { now: clock.now, env: { BULWARK_EXCHANGE_ALLOWED_HOSTS: allowed } } });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
  };
  const close = async () => {
    await app.close();
    await bulwark.close();
  };
  const add = (name: string, type: string, config: object) => app.inject({ method: 'POST', url: '/v1/exchanges', headers: auth, payload: { name, type, bank: name, config } });

  before(async () => {
    lists = http.createServer((request, response) => {
      if (request.url === '/list.txt') response.writeHead(200, { 'content-type': 'text/plain' }).end(`pdq ${listed}\n`);
      else if (request.url === '/elsewhere.txt') response.writeHead(302, { location: `http://localhost:${port}/list.txt` }).end();
      else if (request.url === '/moved.txt') response.writeHead(301, { location: '/list.txt' }).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => lists.listen(0, '127.0.0.1', resolve));
    port = (lists.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => lists.close(() => resolve())));

  it('refuses at add a configured URL whose host is not on the list, naming the field, for every type', async () => {
    await open('lists.example.org');
    try {
      expectProblem(await add('internal', 'file', { url: `http://127.0.0.1:${port}/list.txt` }), 400, /config\.url: host "127\.0\.0\.1" is not on BULWARK_EXCHANGE_ALLOWED_HOSTS/);
      expectProblem(await add('metadata', 'file', { url: 'http://169.254.169.254/latest/meta-data/' }), 400, /config\.url/);
      expectProblem(await add('ncmec-local', 'ncmec', { url: `http://127.0.0.1:${port}` }), 400, /config\.url/);
      expectProblem(await add('stopncii-local', 'stopncii', { baseUrl: `http://127.0.0.1:${port}/v1` }), 400, /config\.baseUrl/);
      expectProblem(await add('te-local', 'threatexchange', { privacyGroup: '1234', graphUrl: `http://127.0.0.1:${port}` }), 400, /config\.graphUrl/);
      assert.deepEqual((await app.inject({ method: 'GET', url: '/v1/exchanges', headers: auth })).json().exchanges, []);
      // The types' own hosts need no listing; the operator's list allows its hosts.
      assert.equal((await add('stopncii', 'stopncii', {})).statusCode, 201);
      assert.equal((await add('ncmec', 'ncmec', { environment: 'test-industry' })).statusCode, 201);
      assert.equal((await add('partner', 'file', { url: 'https://lists.example.org/hashes.txt' })).statusCode, 201);
      expectProblem(await app.inject({ method: 'PATCH', url: '/v1/exchanges/partner', headers: auth, payload: { config: { url: `http://127.0.0.1:${port}/list.txt` } } }), 400, /config\.url/);
    } finally {
      await close();
    }
  });

  it('refuses at fetch a redirect to another host, and a host taken off the list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-exchange-guard-'));
    await open('127.0.0.1', dir);
    try {
      assert.equal((await add('local', 'file', { url: `http://127.0.0.1:${port}/list.txt` })).statusCode, 201);
      assert.equal((await add('redirected', 'file', { url: `http://127.0.0.1:${port}/elsewhere.txt` })).statusCode, 201);
      assert.equal((await add('moved', 'file', { url: `http://127.0.0.1:${port}/moved.txt` })).statusCode, 201);
      assert.equal((await bulwark.exchanges.fetchNow('local')).entriesAdded, 1);
      assert.equal((await bulwark.exchanges.fetchNow('moved')).entriesAdded, 1, 'a redirect on the same host is followed');
      const redirected = await bulwark.exchanges.fetchNow('redirected');
      assert.match(redirected.error ?? '', /redirect from 127\.0\.0\.1:\d+ to another host \(localhost:\d+\)/);
      assert.equal(redirected.stopped, true);
      assert.equal(redirected.entriesAdded, 0);
      // The operator takes 127.0.0.1 off the list: the stored exchange is refused when fetched.
      await close();
      await open('lists.example.org', dir);
      const refused = await bulwark.exchanges.fetchNow('local');
      assert.match(refused.error ?? '', /refused to fetch 127\.0\.0\.1:\d+: host "127\.0\.0\.1" is not on BULWARK_EXCHANGE_ALLOWED_HOSTS/);
      assert.equal(refused.stopped, true);
      assert.equal((await bulwark.exchanges.status('local')).lastError, refused.error);
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a private address at connect time unless the list names that very host', async () => {
    // A name allowed by a suffix that resolves to loopback (a DNS record pointing inward) is refused when the socket connects.
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const bySuffix = new ExchangeUrlPolicy({ allowedHosts: ['.lists.test'], builtInHosts: [], resolve });
    await assert.rejects(bySuffix.fetch()(`http://inward.lists.test:${port}/list.txt`), (error) => error instanceof ExchangeError && !error.retryable && /private or loopback/.test(error.message));
    const builtIn = new ExchangeUrlPolicy({ allowedHosts: [], builtInHosts: ['graph.lists.test'], resolve });
    await assert.rejects(builtIn.fetch()(`http://graph.lists.test:${port}/list.txt`), /private or loopback/);
    await assert.rejects(bySuffix.fetch()(`http://127.0.0.1:${port}/list.txt`), /not on BULWARK_EXCHANGE_ALLOWED_HOSTS/);
    const named = new ExchangeUrlPolicy({ allowedHosts: ['inward.lists.test'], builtInHosts: [], resolve });
    const response = await named.fetch()(`http://inward.lists.test:${port}/list.txt`);
    assert.equal(await response.text(), `pdq ${listed}\n`);
  });
});
