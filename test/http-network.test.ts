import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 12, minute)).toISOString();

describe('HTTP API: events, networks and guardrails', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    bulwark = await openBulwark({ guardrailRefreshMs: 60_000 });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  const post = (url: string, payload: unknown, headers = auth) => app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('refuses callers without a valid key on every new route', async () => {
    for (const [method, url] of [
      ['POST', '/v1/events'],
      ['POST', '/v1/guardrails/recommendations'],
      ['POST', '/v1/guardrails/search'],
      ['POST', '/v1/detection/runs'],
      ['GET', '/v1/networks'],
      ['PUT', '/v1/term-lists/x'],
      ['GET', '/v1/audit/recommendations'],
    ] as const) {
      const response = await app.inject({ method, url, payload: {}, headers: { authorization: 'Bearer not-a-key' } });
      expectProblem(response, 401, /key/i);
    }
  });

  it('takes event batches and names each invalid event', async () => {
    const accepted = await post('/v1/events', {
      events: [
        { event_id: 'x1', type: 'follow', occurred_at: at(0), actor: 'viewer-1', target: 'member-1' },
        { event_id: 'x2', type: 'account_attributes', occurred_at: at(0), account: 'viewer-minor', minor: true },
      ],
    });
    assert.equal(accepted.statusCode, 202, accepted.body);
    assert.deepEqual({ applied: accepted.json().applied, duplicates: accepted.json().duplicates }, { applied: 2, duplicates: 0 });
    const replayed = await post('/v1/events', { events: [{ event_id: 'x1', type: 'follow', occurred_at: at(0), actor: 'viewer-1', target: 'member-1' }] });
    assert.equal(replayed.json().duplicates, 1);

    expectProblem(await post('/v1/events', { events: [{ type: 'teleport', occurred_at: at(1), actor: 'a' }] }), 400, /events\/0/);
    expectProblem(await post('/v1/events', { events: [{ type: 'follow', occurred_at: 'noon', actor: 'a', target: 'b' }] }), 400, /occurred_at/);
    expectProblem(await post('/v1/events', { events: [] }), 400, /events/);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/events', payload: '{"events": [', headers: { ...auth, 'content-type': 'application/json' } }), 400, /JSON/i);
  });

  it('labels, detects and filters recommendations with reasons', async () => {
    const events = [];
    for (let i = 0; i < 6; i++) {
      events.push({ type: 'follow', occurred_at: at(2), actor: `member-${i}`, target: 'member-hub' });
      events.push({ type: 'message', occurred_at: at(3), actor: `member-${i}`, target: 'member-hub' });
      events.push({ type: 'follow', occurred_at: at(3), actor: `member-${i}`, target: `member-${(i + 1) % 6}` });
    }
    events.push({ type: 'profile_link', occurred_at: at(2), actor: 'member-hub', url: 'https://offsite.example/shop' });
    events.push({ type: 'follow', occurred_at: at(2), actor: 'ordinary-1', target: 'ordinary-2' });
    assert.equal((await post('/v1/events', { events })).statusCode, 202);
    const labelled = await post('/v1/accounts/member-0/labels', { label: 'confirmed', note: 'reviewed' });
    assert.equal(labelled.statusCode, 201, labelled.body);
    assert.equal(labelled.json().label, 'confirmed');
    expectProblem(await post('/v1/accounts/member-0/labels', { label: 'guilty' }), 400, /label/);

    const run = await post('/v1/detection/runs', { min_network_size: 3 });
    assert.equal(run.statusCode, 201, run.body);
    assert.ok(run.json().networks.length >= 1);
    const networks = (await app.inject({ url: '/v1/networks', headers: auth })).json().networks;
    const hub = networks.find((n: { members: { account: string }[] }) => n.members.some((m) => m.account === 'member-hub'));
    assert.ok(hub);
    assert.equal((await app.inject({ url: `/v1/networks/${hub.id}`, headers: auth })).json().id, hub.id);
    expectProblem(await app.inject({ url: '/v1/networks/999999', headers: auth }), 404, /no network/);
    const leads = (await app.inject({ url: '/v1/detection/leads?limit=5', headers: auth })).json();
    assert.ok(leads.leads.length > 0 && leads.leads[0].reasons.length > 0);

    const decision = await post('/v1/guardrails/recommendations', {
      viewer: 'viewer-minor',
      candidates: [{ account_id: 'member-hub' }, { account_id: 'ordinary-2' }, { account_id: 'never-seen' }],
    });
    assert.equal(decision.statusCode, 200, decision.body);
    const body = decision.json();
    assert.deepEqual(body.allowed, [{ account_id: 'ordinary-2' }, { account_id: 'never-seen' }]);
    assert.equal(body.removed[0].account_id, 'member-hub');
    assert.ok(body.removed[0].reasons.includes('suspect_candidate_for_minor_viewer'));
    expectProblem(await post('/v1/guardrails/recommendations', { viewer: 'v', candidates: 'everyone' }), 400, /candidates/);

    const account = (await app.inject({ url: '/v1/accounts/member-hub', headers: auth })).json();
    assert.ok(account.network_id);
    expectProblem(await app.inject({ url: '/v1/accounts/nobody-here', headers: auth }), 404, /no account/);

    const audit = await app.inject({ url: '/v1/audit/recommendations?format=html', headers: auth });
    assert.equal(audit.statusCode, 200);
    assert.match(audit.headers['content-type'] as string, /text\/html/);
    assert.match(audit.body, /<figure class="chart">/);
    const csv = await app.inject({ url: '/v1/audit/recommendations?format=csv', headers: auth });
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    const [header, ...rows] = csv.body.trimEnd().split('\r\n');
    assert.equal(header, 'Section,Figure,Code,Before the guardrail,After the guardrail');
    const json = (await app.inject({ url: '/v1/audit/recommendations', headers: auth })).json();
    assert.ok(rows.includes(`All surfaces,Impressions,impressions,${json.before.impressions},${json.after.impressions}`), 'the CSV carries the JSON figures');
    assert.equal(json.labels.minorExposureShare, 'Share of minor viewers shown at least one suspect');
    // Whatever the guardrail removed is named the same way in the JSON, the CSV and the HTML.
    for (const [reason, count] of Object.entries(json.removedByReason)) {
      assert.ok(rows.includes(`Suggestions removed by the guardrail,${json.labels[reason]},${reason},${count},`), reason);
      assert.ok(audit.body.includes(`<div class="chart-label">${json.labels[reason]}</div>`), reason);
    }
    if (Object.keys(json.removedByReason).length === 0) assert.match(audit.body, /What the guardrail removed<\/h2>\n<figure class="chart"><p class="none">None in this period\.<\/p>/);

    // With two labelled seeds, each is held out in turn and risk is calibrated on where it
    // ranks; the run's output and its stored leads show the same calibration.
    assert.equal((await post('/v1/accounts/member-3/labels', { label: 'confirmed' })).statusCode, 201);
    const calibrated = await post('/v1/detection/runs', { min_network_size: 3 });
    assert.equal(calibrated.statusCode, 201, calibrated.body);
    const calibration = calibrated.json().calibration;
    assert.equal(calibration.heldOut, 2);
    assert.equal(calibration.method, 'leave-seeds-out logistic (positive-unlabelled)');
    assert.equal(calibration.recall.heldOut, 2, 'the same held-out seeds estimate detection recall');
    assert.ok(calibration.recall.low <= calibration.recall.estimate && calibration.recall.estimate <= calibration.recall.high);
    const stored = (await app.inject({ url: `/v1/detection/leads?run=${calibrated.json().runId}&limit=50`, headers: auth })).json();
    assert.deepEqual(stored.calibration, calibration);
    assert.ok(stored.leads.length > 0);
    for (let i = 1; i < stored.leads.length; i++) assert.ok(stored.leads[i].risk <= stored.leads[i - 1].risk + 1e-6, 'risk falls with rank');
    for (const lead of stored.leads) assert.ok(lead.risk >= 0 && lead.risk <= 1);
  });

  it('manages term lists and decides searches without echoing terms', async () => {
    const put = await app.inject({ method: 'PUT', url: '/v1/term-lists/test-block', headers: auth, payload: { action: 'block', terms: [{ id: 'a', term: 'term-alpha' }] } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().term_count, 1);
    const lists = (await app.inject({ url: '/v1/term-lists', headers: auth })).json().term_lists;
    assert.deepEqual(lists.map((l: { name: string }) => l.name), ['test-block']);
    assert.ok(!JSON.stringify(lists).includes('term-alpha'), 'listing does not reveal terms');
    const blocked = (await post('/v1/guardrails/search', { query: 'TERM alpha' })).json();
    assert.deepEqual({ outcome: blocked.outcome, show_results: blocked.show_results }, { outcome: 'block', show_results: false });
    assert.ok(!JSON.stringify(blocked).toLowerCase().includes('alpha'), 'the decision does not echo the term');
    assert.equal((await post('/v1/guardrails/search', { query: 'garden tools' })).json().outcome, 'allow');
    expectProblem(await app.inject({ method: 'PUT', url: '/v1/term-lists/test-block', headers: auth, payload: { action: 'hide', terms: [] } }), 400, /action/);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/term-lists/test-block', headers: auth })).statusCode, 204);
    expectProblem(await app.inject({ method: 'DELETE', url: '/v1/term-lists/test-block', headers: auth }), 404, /no term list/);
  });
});
