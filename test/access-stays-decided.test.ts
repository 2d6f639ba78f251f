import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { registerEnvironmentKey } from '../src/auth/api-keys.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { buildServer } from '../src/http/server.ts';
import { addressKey, LoginThrottle } from '../src/reviewers/login-throttle.ts';
import { DEFAULT_SESSION_POLICY, ReviewerService, type SessionPolicy } from '../src/reviewers/reviewer-service.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import type { StoreLocation } from '../src/store/sql.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { expectProblem } from './helpers/problems.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const PASSWORD = 'correct horse battery';

/** A clock the tests move by hand: lockouts start and end without waiting. */
function testClock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const refused = (promise: Promise<unknown>) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === 'unauthenticated' && /wrong username or password/.test(error.message));

describe('addressKey: what a source address is counted as', () => {
  it('keeps IPv4 as it is, unwraps IPv4-mapped IPv6, and counts IPv6 by its /64', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:DB8:0001:0002:ffff::1%eth0'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.notEqual(addressKey('2001:db8:1:3::9'), addressKey('2001:db8:1:2::9'));
  });
});

for (const target of targets) {
  describe(`an environment API key that was revoked stays revoked (${target.name})`, () => {
    let bulwark: Bulwark;
    before(async () => {
      bulwark = await openBulwark({ ...target.location(), hashing: { workers: 0 } });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('registers the key once, keeps a revocation through later starts, and logs why without the key', async () => {
      const key = `env-${randomBytes(24).toString('base64url')}`;
      const first = await registerEnvironmentKey(bulwark.apiKeys, key);
      assert.equal(first.level, 'info');
      const { id } = await bulwark.apiKeys.verify(key);
      assert.equal((await registerEnvironmentKey(bulwark.apiKeys, key)).level, 'info', 'a second start with an active key is quiet');

      await bulwark.apiKeys.revoke(id);
      await assert.rejects(bulwark.apiKeys.verify(key), /valid API key is required/);
      // The next deploy, same environment.
      const again = await registerEnvironmentKey(bulwark.apiKeys, key);
      assert.equal(again.level, 'warn');
      assert.match(again.message, new RegExp(`API key ${id}, revoked at \\d{4}-`));
      assert.match(again.message, /stays revoked/);
      assert.ok(!again.message.includes(key) && !again.message.includes(key.slice(0, 10)), 'the log line does not carry the key');
      await assert.rejects(bulwark.apiKeys.verify(key), /valid API key is required/, 'the revoked key is still refused');
      const row = (await bulwark.apiKeys.list()).find((info) => info.id === id)!;
      assert.ok(row.revokedAt, 'the revocation is kept');

      // A new key in the environment is registered as usual.
      const replacement = `env-${randomBytes(24).toString('base64url')}`;
      assert.equal((await bulwark.apiKeys.ensure('from BULWARK_API_KEY', replacement)).status, 'registered');
      assert.equal((await bulwark.apiKeys.verify(replacement)).name, 'from BULWARK_API_KEY');
    });
  });

  describe(`login lockouts kept in the store (${target.name})`, () => {
    let dir: string | undefined;
    let location: StoreLocation;
    let bulwark: Bulwark;
    const policy: SessionPolicy = { ...DEFAULT_SESSION_POLICY, maxFailures: 3, maxAddressFailures: 6, failureWindowMs: 15 * 60_000, maxTrackedAddresses: 40 };
    const clock = testClock();
    /** One console server: its own service (and lockout) over the shared store. */
    const server = (store: Bulwark = bulwark) => new ReviewerService(store.sql, store.audit, policy, clock.now);
    let other = 0;
    /** A fresh address for each call, so only the account count is at stake. */
    const elsewhere = () => `198.51.100.${++other}`;

    before(async () => {
      // On disk for PGlite (in memory would not survive the restart below); a fresh schema on PostgreSQL.
      if (target.name === 'pglite') {
        dir = await mkdtemp(join(tmpdir(), 'bulwark-lockout-'));
        location = { dataDir: dir };
      } else location = target.location();
      bulwark = await openBulwark({ ...location, hashing: { workers: 0 } });
      for (const username of ['dana', 'erin', 'finn', 'gale']) await bulwark.reviewers.create({ username, password: PASSWORD, role: 'reviewer' });
    });
    after(async () => {
      await bulwark.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      await target.cleanup();
    });

    it('locks an account on every server, through a restart, until the lock ends', async () => {
      const one = server();
      const two = server();
      await refused(one.login('dana', 'guess one', { address: elsewhere() }));
      await refused(two.login('dana', 'guess two', { address: elsewhere() }));
      await refused(one.login('dana', 'guess three', { address: elsewhere() }));
      // Locked now: the right password is refused on either server and from any address.
      await refused(two.login('dana', PASSWORD, { address: elsewhere() }));
      await refused(one.login('DANA', PASSWORD, { address: elsewhere() }));
      const audit = await bulwark.audit.list({ subject: 'reviewer:dana' });
      assert.ok(audit.some((entry) => entry.action === 'reviewer.login_refused' && (entry.detail as { reason: string }).reason === 'too many failed attempts'));
      assert.ok(audit.every((entry) => !JSON.stringify(entry.detail ?? {}).includes('198.51.100.')), 'addresses are not written to the audit log');

      // Restart: the store is closed and opened again; a new process has no memory of its own.
      await bulwark.close();
      bulwark = await openBulwark({ ...location, hashing: { workers: 0 } });
      await refused(server().login('dana', PASSWORD, { address: elsewhere() }));

      clock.advance(policy.failureWindowMs - 1);
      await refused(server().login('dana', PASSWORD, { address: elsewhere() }));
      clock.advance(1);
      const { session } = await server().login('dana', PASSWORD, { address: elsewhere() });
      assert.equal(session.reviewer.username, 'dana');
    });

    it('counts failures within the window only, and a success clears the account count', async () => {
      const service = server();
      await refused(service.login('erin', 'guess one', { address: elsewhere() }));
      await refused(service.login('erin', 'guess two', { address: elsewhere() }));
      clock.advance(policy.failureWindowMs);
      // The window ended: these two start a new count and do not lock.
      await refused(service.login('erin', 'guess three', { address: elsewhere() }));
      await refused(service.login('erin', 'guess four', { address: elsewhere() }));
      await service.login('erin', PASSWORD, { address: elsewhere() });
      await refused(service.login('erin', 'guess five', { address: elsewhere() }));
      await refused(service.login('erin', 'guess six', { address: elsewhere() }));
      await service.login('erin', PASSWORD, { address: elsewhere() });
    });

    it('locks a source address that fails on many names, real or invented, and an IPv6 /64 as one', async () => {
      const service = server();
      const attacker = '2001:db8:77:1::1';
      // Six failures from one /64, spread over its addresses and over names, most of them invented.
      for (let i = 0; i < policy.maxAddressFailures; i++) {
        await refused(service.login(i % 3 === 0 ? 'finn' : `invented-${i}`, `guess ${i}`, { address: `2001:db8:77:1::${i + 1}` }));
      }
      await refused(service.login('gale', PASSWORD, { address: attacker }));
      await refused(service.login('gale', PASSWORD, { address: '2001:db8:77:1:ffff::2' }));
      // finn failed twice (below 3): finn and gale still log in from elsewhere.
      await service.login('finn', PASSWORD, { address: elsewhere() });
      await service.login('gale', PASSWORD, { address: '2001:db8:77:2::1' });
      // A success from the address does not reset its count (after its lock ends).
      clock.advance(policy.failureWindowMs);
      await service.login('gale', PASSWORD, { address: attacker });
    });

    it('keeps a live lock however many invented names and addresses follow, and stays bounded', async () => {
      const service = server();
      const lockedAddress = '203.0.113.50';
      for (let i = 0; i < policy.maxFailures; i++) await refused(service.login('gale', `guess ${i}`, { address: i < 2 ? lockedAddress : elsewhere() }));
      for (let i = 2; i < policy.maxAddressFailures; i++) await refused(service.login(`nobody-${i}`, 'guess', { address: lockedAddress }));
      const throttle = new LoginThrottle(bulwark.sql, {
        maxAccountFailures: policy.maxFailures,
        maxAddressFailures: policy.maxAddressFailures,
        windowMs: policy.failureWindowMs,
        lockMs: policy.failureWindowMs,
        maxTrackedAddresses: policy.maxTrackedAddresses,
      }, clock.now);
      // A flood of failures on invented names from ten times the cap of addresses (unknown
      // names count against the address only, exactly as login() records them).
      for (let i = 0; i < policy.maxTrackedAddresses * 10; i++) await throttle.recordFailure(undefined, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      const rows = await bulwark.sql.query<{ scope: string; n: number }>('SELECT scope, count(*)::int AS n FROM login_failures GROUP BY scope ORDER BY scope');
      const counts = Object.fromEntries(rows.rows.map((row) => [row.scope, row.n]));
      assert.ok(counts.address <= policy.maxTrackedAddresses, `address rows stay within the cap (${counts.address})`);
      assert.ok(counts.account <= 4, 'only real accounts get account rows');
      assert.equal(await throttle.locked(undefined, lockedAddress), 'address', 'the address lock survived the flood');
      await refused(service.login('gale', PASSWORD, { address: elsewhere() }));
      await refused(service.login('dana', PASSWORD, { address: lockedAddress }));
      // Once the locks end their rows expire and make room again.
      clock.advance(policy.failureWindowMs);
      await service.login('gale', PASSWORD, { address: lockedAddress });
      await throttle.recordFailure(undefined, '192.0.2.99');
      const after = await bulwark.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM login_failures WHERE scope = 'address'`);
      assert.ok(after.rows[0].n <= 2, `expired rows were removed (${after.rows[0].n} left)`);
    });
  });

  describe(`the console: login by address, and media only while the claim is live (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: FastifyInstance;
    let png: Buffer;
    let auth: Record<string, string>;

    const login = async (username: string, remoteAddress = '127.0.0.1') => {
      const response = await app.inject({ method: 'POST', url: '/console/api/login', payload: { username, password: PASSWORD }, remoteAddress });
      assert.equal(response.statusCode, 200, response.body);
      const header = response.headers['set-cookie'];
      const line = (Array.isArray(header) ? header : [header ?? '']).find((value) => value.startsWith('bulwark_session='))!;
      return { cookie: line.split(';')[0], csrf: response.json().csrf_token as string };
    };

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, mediaKey: randomBytes(32).toString('hex'), hashing: { workers: 0 } });
      app = await buildServer(bulwark);
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      await bulwark.reviewers.create({ username: 'rev-media', password: PASSWORD, role: 'reviewer', teams: ['media-team'] });
      await bulwark.reviewers.create({ username: 'rev-next', password: PASSWORD, role: 'reviewer', teams: ['media-team'] });
      await bulwark.reviewers.create({ username: 'lead-media', password: PASSWORD, role: 'lead', teams: ['media-team'] });
      png = await encodeImage(shapesImage(31, 320, 240), 'png');
      const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
      await bulwark.banks.create('verified');
      await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq });
      const submitted = await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'c-lapse', account_id: 'acct-lapse', media_base64: png.toString('base64') } });
      assert.ok(submitted.statusCode < 300, submitted.body);
      await bulwark.rules.runner.drain();
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await target.cleanup();
    });

    it('refuses a login from a locked address with the right password, and takes it from another', async () => {
      const future = new Date(Date.now() + 3600_000);
      await bulwark.sql.query(`INSERT INTO login_failures (scope, key, window_started_at, failures, locked_until, expires_at) VALUES ('address', '192.0.2.10', now(), 100, $1, $1)`, [future]);
      expectProblem(
        await app.inject({ method: 'POST', url: '/console/api/login', payload: { username: 'rev-media', password: PASSWORD }, remoteAddress: '192.0.2.10' }),
        401,
        /wrong username or password/,
      );
      await login('rev-media', '192.0.2.11');
      const wrong = await app.inject({ method: 'POST', url: '/console/api/login', payload: { username: 'rev-media', password: 'not it at all' }, remoteAddress: '192.0.2.12' });
      assert.equal(wrong.statusCode, 401);
      const counted = await bulwark.sql.query(`SELECT 1 FROM login_failures WHERE scope = 'address' AND key = '192.0.2.12'`);
      assert.equal(counted.rows.length, 1, 'the console counts failures by the client address');
    });

    it('closes the media and the reveal to a reviewer whose claim lapsed, until they claim it again', async () => {
      const { cookie, csrf } = await login('rev-media');
      const headers = { cookie, 'x-csrf-token': csrf };
      const next = await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers });
      assert.equal(next.statusCode, 200, next.body);
      const caseId = next.json().id as number;
      assert.equal((await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/reveal`, headers })).statusCode, 200);
      const media = await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } });
      assert.equal(media.statusCode, 200);
      assert.ok(media.rawPayload.equals(png));

      // The claim lapses (moved into the past rather than waited for): the case is back in its queue.
      await bulwark.sql.query(`UPDATE cases SET claimed_until = now() - interval '1 second' WHERE id = $1`, [caseId]);
      const accessedBefore = (await bulwark.audit.list({ subject: `case:${caseId}` })).filter((entry) => entry.action === 'media.accessed').length;
      expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/preview`, headers: { cookie } }), 403, /claim on case \d+ has lapsed/);
      expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } }), 403, /claim on case \d+ has lapsed/);
      expectProblem(await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/reveal`, headers }), 403, /has lapsed/);
      const accessedAfter = (await bulwark.audit.list({ subject: `case:${caseId}` })).filter((entry) => entry.action === 'media.accessed').length;
      assert.equal(accessedAfter, accessedBefore, 'a refused fetch is not logged as an access');

      // Leads keep their access; another reviewer may take the lapsed case, and then only they see it.
      const lead = await login('lead-media');
      assert.equal((await app.inject({ url: `/console/api/cases/${caseId}/preview`, headers: { cookie: lead.cookie } })).statusCode, 200);
      assert.equal((await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/reveal`, headers: { cookie: lead.cookie, 'x-csrf-token': lead.csrf } })).statusCode, 200);
      assert.equal((await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie: lead.cookie } })).statusCode, 200);
      const taker = await login('rev-next');
      const taken = await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers: { cookie: taker.cookie, 'x-csrf-token': taker.csrf } });
      assert.equal(taken.json().id, caseId);
      assert.equal((await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/reveal`, headers: { cookie: taker.cookie, 'x-csrf-token': taker.csrf } })).statusCode, 200);
      assert.equal((await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie: taker.cookie } })).statusCode, 200);
      expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/preview`, headers: { cookie } }), 403, /claim case/);
      expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } }), 403, /claim case/);
    });
  });
}
