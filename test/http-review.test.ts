import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { PlatformWebhook } from './helpers/platform-webhook.ts';
import { expectProblem } from './helpers/problems.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';

const PASSWORD = 'correct horse battery';

describe('review over HTTP: the console API and /v1', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let platform: PlatformWebhook;
  let auth: Record<string, string>;
  let png: Buffer;

  const cookieOf = (response: LightMyRequestResponse) => {
    const header = response.headers['set-cookie'];
    const line = (Array.isArray(header) ? header : [header ?? '']).find((value) => value.startsWith('bulwark_session='));
    assert.ok(line, 'a session cookie is set');
    return { line, cookie: line.split(';')[0] };
  };
  const login = async (username: string) => {
    const response = await app.inject({ method: 'POST', url: '/console/api/login', payload: { username, password: PASSWORD } });
    assert.equal(response.statusCode, 200, response.body);
    return { ...cookieOf(response), csrf: response.json().csrf_token as string };
  };

  before(async () => {
    platform = await new PlatformWebhook('platform-secret-0123456789').start();
    bulwark = await openBulwark({ bankRefreshMs: 0, mediaKey: randomBytes(32).toString('base64'), webhooks: { webhookUrl: platform.url, secret: platform.secret }, actionDispatchIntervalMs: 50 });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
    await bulwark.reviewers.create({ username: 'rev-one', password: PASSWORD, role: 'reviewer', teams: ['media-team'] });
    await bulwark.reviewers.create({ username: 'lead-one', password: PASSWORD, role: 'lead' });
    png = await encodeImage(shapesImage(21, 320, 240), 'png');
    const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
    await bulwark.banks.create('verified');
    await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq });
  });
  after(async () => {
    await app.close();
    await bulwark.close();
    await platform.stop();
  });

  it('activates a rule file over /v1, and refuses a broken one with its line', async () => {
    const broken = await app.inject({ method: 'PUT', url: '/v1/rules', headers: auth, payload: { file_name: 'rules.yaml', source: REVIEW_RULES.replace('severity: high', 'severity: urgent') } });
    expectProblem(broken, 400, /rules\.yaml:\d+:\d+/);
    const live = await app.inject({ method: 'PUT', url: '/v1/rules', headers: auth, payload: { file_name: 'rules.yaml', source: REVIEW_RULES } });
    assert.equal(live.statusCode, 200, live.body);
    assert.deepEqual(live.json().queues, ['known-media', 'reports', 'networks']);
    const shown = (await app.inject({ url: '/v1/rules', headers: auth })).json();
    assert.equal(shown.active.activated_by, 'api-key:platform');
    assert.deepEqual(shown.policies.map((policy: { id: string }) => policy.id), ['csam']);
  });

  it('takes reports and content from the platform and opens cases', async () => {
    const submitted = await app.inject({ method: 'POST', url: '/v1/content', headers: auth, payload: { content_id: 'c-1', account_id: 'acct-1', media_base64: png.toString('base64') } });
    assert.ok(submitted.statusCode < 300, submitted.body);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/reports', headers: auth, payload: { reporter_kind: 'trusted_flagger', category: 'csam', subject: { kind: 'account', id: 'acct-2' } } }), 400, /must name the flagger/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/reports', headers: auth, payload: { reporter_kind: 'user', category: 'Bad Category', subject: { kind: 'account', id: 'acct-2' } } }), 400, /category/);
    const report = await app.inject({ method: 'POST', url: '/v1/reports', headers: auth, payload: { reporter_kind: 'user', category: 'other', subject: { kind: 'account', id: 'acct-2' } } });
    assert.equal(report.statusCode, 202, report.body);
    await bulwark.rules.runner.drain();
    const cases = (await app.inject({ url: '/v1/cases?status=open', headers: auth })).json().cases;
    assert.deepEqual(cases.map((c: { queue: string; subject: { id: string } }) => [c.queue, c.subject.id]).sort(), [['known-media', 'c-1'], ['reports', 'acct-2']]);
    const queues = (await app.inject({ url: '/v1/queues', headers: auth })).json().queues;
    assert.equal(queues.find((q: { name: string }) => q.name === 'known-media').open, 1);
  });

  it('logs reviewers in with a hardened session cookie and refuses wrong passwords alike', async () => {
    expectProblem(await app.inject({ method: 'POST', url: '/console/api/login', payload: { username: 'rev-one', password: 'not the password' } }), 401, /wrong username or password/);
    expectProblem(await app.inject({ method: 'POST', url: '/console/api/login', payload: { username: 'nobody', password: 'not the password' } }), 401, /wrong username or password/);
    const { line } = await login('rev-one');
    assert.match(line, /HttpOnly/);
    assert.match(line, /Secure/);
    assert.match(line, /SameSite=Strict/);
    expectProblem(await app.inject({ url: '/console/api/queues' }), 401, /log in again/);
    expectProblem(await app.inject({ url: '/console/api/queues', headers: { cookie: 'bulwark_session=forged' } }), 401, /log in again/);
  });

  it('requires the CSRF token and the same origin for every change', async () => {
    const { cookie, csrf } = await login('rev-one');
    expectProblem(await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers: { cookie } }), 403, /CSRF/);
    expectProblem(await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers: { cookie, 'x-csrf-token': 'wrong' } }), 403, /CSRF/);
    expectProblem(
      await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers: { cookie, 'x-csrf-token': csrf, origin: 'https://elsewhere.example', host: 'bulwark.local' } }),
      403,
      /another origin/,
    );
    // An API key is no way into the console.
    expectProblem(await app.inject({ url: '/console/api/queues', headers: auth }), 401, /log in again/);
  });

  it('walks a reviewer through a case: claim, media only when held, blurred preview, original after a counted reveal, decide, action delivered', async () => {
    const { cookie, csrf } = await login('rev-one');
    const headers = { cookie, 'x-csrf-token': csrf };
    const session = (await app.inject({ url: '/console/api/session', headers: { cookie } })).json();
    assert.equal(session.exposure_today, 0);
    assert.deepEqual(session.reviewer, { username: 'rev-one', role: 'reviewer', teams: ['media-team'] });
    const queues = (await app.inject({ url: '/console/api/queues', headers: { cookie } })).json().queues;
    assert.deepEqual(queues.map((q: { name: string }) => q.name).sort(), ['appeals', 'known-media', 'notices', 'reports'], 'the team-restricted and lead-only queues are hidden');
    const list = await app.inject({ url: '/v1/cases?queue=known-media', headers: auth });
    const caseId = list.json().cases[0].id;
    expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } }), 403, /claim case/);
    const next = await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers });
    assert.equal(next.statusCode, 200, next.body);
    assert.equal(next.json().id, caseId);
    assert.equal(next.json().content.media_available, true);
    const preview = await app.inject({ url: `/console/api/cases/${caseId}/preview`, headers: { cookie } });
    assert.equal(preview.statusCode, 200);
    assert.equal(preview.headers['content-type'], 'image/jpeg');
    assert.equal(preview.headers['cache-control'], 'no-store');
    assert.ok(!preview.rawPayload.equals(png));
    expectProblem(await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } }), 403, /reveal the media/);
    assert.equal((await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/reveal`, headers })).json().exposure_today, 1);
    const media = await app.inject({ url: `/console/api/cases/${caseId}/media`, headers: { cookie } });
    assert.equal(media.statusCode, 200);
    assert.equal(media.headers['content-type'], 'image/png');
    assert.equal(media.headers['cache-control'], 'no-store');
    assert.ok(media.rawPayload.equals(png));
    expectProblem(await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/decision`, headers, payload: { verdict: 'confirm' } }), 400, /must cite a policy/);
    const decided = await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/decision`, headers, payload: { verdict: 'confirm', policy: 'csam', note: 'test decision' } });
    assert.equal(decided.statusCode, 200, decided.body);
    assert.equal(decided.json().case.status, 'decided');
    assert.equal(decided.json().decision.decided_by, 'rev-one');
    await platform.waitFor('remove_content', 'c-1');
    expectProblem(await app.inject({ method: 'POST', url: `/console/api/cases/${caseId}/decision`, headers, payload: { verdict: 'dismiss' } }), 409, /already decided/);
    assert.equal((await app.inject({ method: 'POST', url: '/console/api/queues/known-media/next', headers })).statusCode, 204);
    const actions = (await app.inject({ url: `/v1/actions?case=${caseId}`, headers: auth })).json().actions;
    assert.equal(actions.length, 1);
    assert.equal(actions[0].type, 'remove_content');
  });

  it('keeps the audit log to leads, read-only, and verifiable', async () => {
    const reviewer = await login('rev-one');
    expectProblem(await app.inject({ url: '/console/api/audit', headers: { cookie: reviewer.cookie } }), 403, /leads and admins/);
    const lead = await login('lead-one');
    const entries = (await app.inject({ url: '/console/api/audit?limit=200', headers: { cookie: lead.cookie } })).json().entries;
    assert.ok(entries.some((entry: { action: string; actor: string }) => entry.action === 'case.decided' && entry.actor === 'rev-one'));
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      assert.equal((await app.inject({ method, url: '/v1/audit', headers: auth })).statusCode, 404, `${method} /v1/audit does not exist`);
    }
    assert.deepEqual((await app.inject({ url: '/v1/audit/verify', headers: auth })).json().intact, true);
  });

  it('ends the session on logout', async () => {
    const { cookie, csrf } = await login('rev-one');
    assert.equal((await app.inject({ method: 'POST', url: '/console/api/logout', headers: { cookie, 'x-csrf-token': csrf } })).statusCode, 204);
    expectProblem(await app.inject({ url: '/console/api/session', headers: { cookie } }), 401, /log in again/);
  });
});
