import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';
import { seedlessPlatform } from './helpers/seedless-platform.ts';

const RULES = `version: 1
queues:
  - { name: networks, description: Candidate networks from discovery, sla_minutes: 1440 }
policies:
  - { id: networks, title: Networks, legal_ground: "test" }
rules: []
`;

describe('HTTP API: seedless discovery and candidate networks', () => {
  const platform = seedlessPlatform({ background: 1000, seed: 5 });
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    bulwark = await openBulwark({ guardrailRefreshMs: 60_000 });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('test platform')).key}` };
    for (const list of platform.termLists) await bulwark.terms.replace(list.name, list.action, list.terms);
    for (let start = 0; start < platform.events.length; start += 5000) await bulwark.platformEvents.ingest(platform.events.slice(start, start + 5000));
    await bulwark.rules.activate(RULES, 'rules.yaml');
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object, headers: auth });
  const get = (url: string) => app.inject({ url, headers: auth });

  it('refuses callers without a key, and says when no run exists yet', async () => {
    for (const [method, url] of [['POST', '/v1/discovery/runs'], ['GET', '/v1/networks/candidates'], ['GET', '/v1/networks/candidates/1'], ['POST', '/v1/networks/candidates/1/cases']] as const) {
      expectProblem(await app.inject({ method, url, payload: {}, headers: { authorization: 'Bearer not-a-key' } }), 401, /key/i);
    }
    expectProblem(await get('/v1/networks/candidates'), 404, /no discovery run/);
  });

  it('runs discovery, keeps candidates with evidence, labels nobody, and opens a case a reviewer can decide', async () => {
    expectProblem(await post('/v1/discovery/runs', { min_candidate_size: 1 }), 400, /min_candidate_size/);
    expectProblem(await post('/v1/discovery/runs', { seeds: ['x'] }), 400, /seeds/);
    const run = await post('/v1/discovery/runs', {});
    assert.equal(run.statusCode, 201, run.body);
    assert.ok(run.json().candidates.length >= 2, run.body);

    const listed = (await get('/v1/networks/candidates')).json();
    assert.equal(listed.run_id, run.json().runId);
    assert.ok(listed.candidates.every((c: { status: string; members?: unknown }) => c.status === 'candidate' && c.members === undefined));
    const star = await Promise.all(listed.candidates.map(async (c: { id: number }) => (await get(`/v1/networks/candidates/${c.id}`)).json()));
    const found = star.find((c: { members: { account: string }[] }) => c.members.some((m) => m.account === platform.star.sellers[0]));
    assert.ok(found, 'the unseeded star is a candidate');
    const seller = found.members.find((m: { account: string }) => m.account === platform.star.sellers[0]);
    assert.equal(seller.role, 'seller');
    assert.ok(seller.evidence.some((e: { signal: string; feature?: { value: string } }) => e.signal === 'shared_link' && e.feature?.value === 'offsite.example/alpha-shop'));
    const sparse = star.find((c: { members: { account: string }[] }) => c.members.some((m) => platform.sparse.includes(m.account)));
    assert.ok(sparse && sparse.summary.features.some((f: { origin: string }) => f.origin === 'term_list'), 'the coded-hashtag network is a candidate');
    assert.ok(!star.some((c: { members: { account: string }[] }) => c.members.some((m) => platform.denseCommunity.includes(m.account))));
    expectProblem(await get('/v1/networks/candidates/999999'), 404, /no candidate network/);
    assert.equal((await get(`/v1/accounts/${platform.star.sellers[0]}`)).json().label, null);

    expectProblem(await post(`/v1/networks/candidates/${found.id}/cases`, { queue: 'nowhere' }), 404, /no review queue/);
    expectProblem(await post(`/v1/networks/candidates/${found.id}/cases`, {}), 400, /queue/);
    const opened = await post(`/v1/networks/candidates/${found.id}/cases`, { queue: 'networks', severity: 'high' });
    assert.equal(opened.statusCode, 201, opened.body);
    assert.deepEqual(opened.json().subject, { kind: 'network_candidate', id: String(found.id) });
    assert.equal(opened.json().network_size, found.members.length);

    const reviewer = await bulwark.reviewers.create({ username: 'rev-networks', password: 'a long enough password 1', role: 'reviewer' });
    const claimed = await bulwark.cases.claim(opened.json().id, reviewer);
    assert.equal(claimed.network?.candidate?.status, 'candidate');
    assert.equal(claimed.network?.size, found.members.length);
    assert.deepEqual(claimed.decision_options.map((o) => o.verdict), ['suspect', 'dismiss', 'escalate']);
    await bulwark.cases.decide(opened.json().id, reviewer, { verdict: 'suspect' });
    const account = (await get(`/v1/accounts/${platform.star.sellers[0]}`)).json();
    assert.equal(account.label, 'suspected', 'suspected, never confirmed');
    assert.equal((await get(`/v1/networks/candidates?status=suspected`)).json().candidates[0].id, found.id);
  });
});
