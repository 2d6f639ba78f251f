import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { expectProblem } from './helpers/problems.ts';

describe('DSA notices, trusted flaggers, appeals and orders over HTTP', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  const form = (fields: Record<string, string>) => ({
    method: 'POST' as const,
    url: '/notices',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

  before(async () => {
    bulwark = await openBulwark({ notices: { locationPatterns: [/^https:\/\/platform\.example\/p\/(?<content>[\w-]+)$/] } });
    await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  it('serves the public notice form without a key, under a strict content security policy', async () => {
    const page = await app.inject({ url: '/notices' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.match(page.body, /<form method="post" action="\/notices">/);
    assert.match(page.body, /I confirm in good faith/);
  });

  it('refuses an incomplete form, listing what is missing and keeping what was typed', async () => {
    const refused = await app.inject(form({ category: 'illegal_other', locations: 'https://platform.example/p/c-9', explanation: '<b>typed</b>' }));
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /Missing: notifier&#39;s name/);
    assert.match(refused.body, /Missing: notifier&#39;s email/);
    assert.match(refused.body, /Missing: good-faith statement/);
    assert.match(refused.body, /&lt;b&gt;typed&lt;\/b&gt;/, 'what was typed comes back, escaped');
    assert.equal((await bulwark.notices.list()).length, 0);
  });

  it('takes a child-abuse notice from the form without a name and opens its case', async () => {
    const sent = await app.inject(form({ category: 'csam', locations: 'https://platform.example/p/c-form-1\n', explanation: 'abuse material', good_faith: 'yes' }));
    assert.equal(sent.statusCode, 201, sent.body);
    assert.match(sent.body, /Notice \d+ received/);
    const [notice] = await bulwark.notices.list();
    assert.equal(notice.channel, 'web_form');
    assert.deepEqual(notice.subject, { kind: 'content', id: 'c-form-1' });
    assert.ok(notice.case_id);
  });

  it('takes notices, trusted flaggers, appeals and orders through /v1', async () => {
    expectProblem(await app.inject({ method: 'POST', url: '/v1/notices', payload: {} }), 401, /API key/);
    const incomplete = await app.inject({ method: 'POST', url: '/v1/notices', headers: auth, payload: { category: 'illegal_other' } });
    expectProblem(incomplete, 400, /missing explanation/);
    assert.ok(incomplete.json().errors.missing.includes('good-faith statement (good_faith: true)'));
    const flagger = await app.inject({ method: 'POST', url: '/v1/trusted-flaggers', headers: auth, payload: { name: 'hotline-y', awarded_by: 'DSC of XX' } });
    assert.equal(flagger.statusCode, 201, flagger.body);
    const notice = await app.inject({
      method: 'POST',
      url: '/v1/notices',
      headers: auth,
      payload: { category: 'csam', explanation: 'abuse material', locations: ['https://elsewhere.example/x'], good_faith: true, trusted_flagger: 'hotline-y' },
    });
    assert.equal(notice.statusCode, 201, notice.body);
    assert.equal(notice.json().subject, null);
    const unresolved = (await app.inject({ url: '/v1/notices?unresolved=true', headers: auth })).json().notices;
    assert.deepEqual(unresolved.map((n: { id: number }) => n.id), [notice.json().id]);
    const resolved = await app.inject({ method: 'POST', url: `/v1/notices/${notice.json().id}/subject`, headers: auth, payload: { kind: 'account', id: 'acct-x' } });
    assert.equal(resolved.json().trusted_flagger, 'hotline-y');
    assert.ok(resolved.json().case_id);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/appeals', headers: auth, payload: { decision_id: 12345, appellant_id: 'acct-x', statement: 'x' } }), 404, /no decision/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/authority-orders', headers: auth, payload: { kind: 'takedown' } }), 400, /kind/);
    const order = await app.inject({ method: 'POST', url: '/v1/authority-orders', headers: auth, payload: { kind: 'provide_information', member_state: 'FR', authority: 'A prosecutor', category: 'csam', received_at: '2026-11-30T08:00:00Z' } });
    assert.equal(order.statusCode, 201, order.body);
    assert.ok((await app.inject({ method: 'POST', url: `/v1/authority-orders/${order.json().id}/effect`, headers: auth })).json().given_effect_at);
    const openapi = (await app.inject({ url: '/openapi.json' })).json();
    for (const path of ['/v1/notices', '/v1/appeals', '/v1/trusted-flaggers', '/v1/authority-orders']) assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
  });
});
