import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer, trustProxyFromEnv } from '../src/http/server.ts';

// Login lockouts count failures by the client address. Behind a reverse proxy every
// connection comes from the proxy, so without BULWARK_TRUST_PROXY all reviewers would share
// one address (and one lock); with it, X-Forwarded-For is believed from the proxy only.

const PROXY = '10.0.0.5';
const CLIENT = '198.51.100.7';

describe('BULWARK_TRUST_PROXY', () => {
  it('is off unless set, and reads true, a hop count or a list of addresses and ranges', () => {
    for (const off of [undefined, '', ' ', 'false', '0']) assert.equal(trustProxyFromEnv(off), false, JSON.stringify(off));
    assert.equal(trustProxyFromEnv('true'), true);
    assert.equal(trustProxyFromEnv('2'), 2);
    assert.deepEqual(trustProxyFromEnv('10.0.0.5, 10.1.0.0/16,::1'), ['10.0.0.5', '10.1.0.0/16', '::1']);
    assert.throws(() => trustProxyFromEnv('yes'), /BULWARK_TRUST_PROXY: "yes" is not an IP address/);
    assert.throws(() => trustProxyFromEnv('10.0.0.5,,10.0.0.6'), /BULWARK_TRUST_PROXY: "" is not an IP address/);
  });
});

describe('the client address behind a proxy (login lockouts)', () => {
  let bulwark: Bulwark;
  const apps: FastifyInstance[] = [];

  before(async () => {
    bulwark = await openBulwark({ bankRefreshMs: 0, hashing: { workers: 0 } });
    await bulwark.reviewers.create({ username: 'rev-proxy', password: 'correct horse battery', role: 'reviewer', teams: ['team-a'] });
  });
  after(async () => {
    for (const app of apps) await app.close();
    await bulwark.close();
  });

  const server = async (trustProxy?: ReturnType<typeof trustProxyFromEnv>) => {
    const app = await buildServer(bulwark, trustProxy === undefined ? {} : { trustProxy });
    apps.push(app);
    return app;
  };

  /** Fails one login from `remoteAddress` with the given X-Forwarded-For; returns the addresses counted since. */
  const failFrom = async (app: FastifyInstance, remoteAddress: string, forwardedFor: string) => {
    await bulwark.sql.exec(`DELETE FROM login_failures`);
    const response = await app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { username: 'rev-proxy', password: 'not the password' },
      headers: { 'x-forwarded-for': forwardedFor },
      remoteAddress,
    });
    assert.equal(response.statusCode, 401, response.body);
    const rows = await bulwark.sql.query<{ key: string }>(`SELECT key FROM login_failures WHERE scope = 'address' ORDER BY key`);
    return rows.rows.map((row) => row.key);
  };

  it('ignores X-Forwarded-For by default: the connection is the client', async () => {
    assert.deepEqual(await failFrom(await server(), PROXY, CLIENT), [PROXY]);
  });

  it('counts the forwarded client when the connection comes from a trusted proxy', async () => {
    assert.deepEqual(await failFrom(await server([PROXY]), PROXY, CLIENT), [CLIENT]);
    assert.deepEqual(await failFrom(await server(['10.0.0.0/8']), PROXY, `203.0.113.1, ${CLIENT}`), [CLIENT], 'the address the proxy saw, not what the client claimed');
    assert.deepEqual(await failFrom(await server(1), PROXY, `203.0.113.1, ${CLIENT}`), [CLIENT], 'one hop: the nearest proxy is believed, nothing before it');
  });

  it('does not believe X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    assert.deepEqual(await failFrom(await server([PROXY]), '203.0.113.9', CLIENT), ['203.0.113.9']);
  });
});
