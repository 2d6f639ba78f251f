import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { storeTargets } from './helpers/stores.ts';

const DAY_MS = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');
const at = (day: number, minute = 0) => new Date(START + day * DAY_MS + minute * 60_000).toISOString();

const RULES = `version: 1
queues:
  - { name: networks, sla_minutes: 60 }
rules:
  - id: network-near-minors
    on: network.detected
    when: { fact: network.minors_contacted, gte: 1 }
    then:
      case: { queue: networks, severity: critical, priority: 85 }
`;

/**
 * Two sellers and six buyers, with minors reached every way "minors contacted" counts:
 * a seller follows one, a minor messages a buyer, a buyer likes one's post, and a buyer
 * followed one and then unfollowed. The detector's old count (members' standing follows
 * and messages out) saw one of these four; the case and the rule counted all of them.
 */
function plantedNetwork(): PlatformEventInput[] {
  const events: PlatformEventInput[] = [];
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `mc-${events.length}` });
  const sellers = ['seller-0', 'seller-1'];
  const buyers = Array.from({ length: 6 }, (_, i) => `buyer-${i}`);
  const ordinary = Array.from({ length: 24 }, (_, i) => `user-${i}`);
  const minors = ['user-3', 'user-9', 'user-13', 'user-23'];
  for (const account of [...sellers, ...buyers, ...ordinary]) push({ type: 'account_created', occurred_at: at(0), account });
  for (const minor of minors) push({ type: 'account_attributes', occurred_at: at(1), account: minor, minor: true, minor_basis: 'declared' });
  ordinary.forEach((account, i) => {
    for (const step of [1, 5, 7]) push({ type: 'follow', occurred_at: at(2, step), actor: account, target: ordinary[(i + step) % ordinary.length] });
  });
  buyers.forEach((buyer, i) => {
    for (const seller of sellers) {
      push({ type: 'follow', occurred_at: at(3, i), actor: buyer, target: seller });
      push({ type: 'message', occurred_at: at(3, i + 10), actor: buyer, target: seller });
    }
    push({ type: 'follow', occurred_at: at(3, 30), actor: buyer, target: buyers[(i + 1) % buyers.length] });
    push({ type: 'hashtag', occurred_at: at(3), actor: buyer, hashtag: '#tag-net-1' });
  });
  push({ type: 'follow', occurred_at: at(4), actor: 'seller-0', target: 'user-3' });
  push({ type: 'message', occurred_at: at(4), actor: 'user-13', target: 'buyer-2' });
  push({ type: 'like', occurred_at: at(4), actor: 'buyer-4', target: 'user-23' });
  push({ type: 'follow', occurred_at: at(4, 1), actor: 'buyer-1', target: 'user-9' });
  push({ type: 'unfollow', occurred_at: at(4, 2), actor: 'buyer-1', target: 'user-9' });
  return events;
}

for (const target of await storeTargets()) {
  describe(`one figure for the minors a network contacted (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: FastifyInstance;
    let auth: Record<string, string>;

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000, identifierKey: 'test-key', hashing: { workers: 0 } });
      app = await buildServer(bulwark);
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
      await bulwark.rules.activate(RULES, 'rules.yaml', 'test');
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await target.cleanup();
    });

    it('the networks API, the network case, its rule reason and the console section agree', async () => {
      await bulwark.platformEvents.ingest(plantedNetwork());
      await bulwark.detection.run({ randomSeed: 3, minNetworkSize: 3, seeds: ['seller-0'] });
      await bulwark.rules.runner.drain();
      const seller = await bulwark.accounts.get('seller-0');
      assert.ok(seller.networkId !== null, 'detection put seller-0 in a network');
      const members = new Set((await bulwark.detection.network(seller.networkId)).members.map((member) => member.account));
      for (const account of ['seller-0', 'buyer-1', 'buyer-2', 'buyer-4']) assert.ok(members.has(account), `${account} is a member`);

      const fromApi = await app.inject({ method: 'GET', url: `/v1/networks/${seller.networkId}`, headers: auth });
      assert.equal(fromApi.statusCode, 200, fromApi.body);
      const summary = fromApi.json().summary as { minorContacts: number; text: string };
      assert.equal(summary.minorContacts, 4, 'follow out, message in, like out and an ended follow each count');
      assert.match(summary.text, /members contact 4 minor accounts outside the network/);

      const cases = await app.inject({ method: 'GET', url: `/v1/cases?subject_kind=network&subject_id=${seller.networkId}`, headers: auth });
      assert.equal(cases.statusCode, 200, cases.body);
      const [opened] = cases.json().cases as { id: number }[];
      assert.ok(opened, 'the rule opened a case on the network');
      const detail = await app.inject({ method: 'GET', url: `/v1/cases/${opened.id}`, headers: auth });
      assert.equal(detail.statusCode, 200, detail.body);
      const body = detail.json() as { reasons: { rule: string; summary: string }[]; network: { minors_contacted: number } };
      assert.equal(body.network.minors_contacted, 4, 'the case (and the console, which draws this section) shows the same figure');
      const reason = body.reasons.find((r) => r.rule === 'network-near-minors');
      assert.ok(reason, JSON.stringify(body.reasons));
      assert.match(reason.summary, /network\.minors_contacted >= 1 \(4\)/, 'the rule reason quotes the same figure');
    });
  });
}
