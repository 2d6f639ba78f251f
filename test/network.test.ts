import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { auditRecommendations } from '../src/audit/recommendation-audit.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { LABEL_CONFIRMED } from '../src/graph/account-graph.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

const at = (day: number, minute = 0) => new Date(Date.UTC(2026, 0, 1 + day, 0, minute)).toISOString();

/**
 * A small platform: 240 ordinary accounts in 8 interest communities, and a planted group of
 * 2 sellers and 12 buyers who also follow ordinary accounts. One buyer is removed for
 * enforcement and comes back with the same device; a decoy shares only its IP range.
 */
function smallPlatform(): { events: PlatformEventInput[]; sellers: string[]; buyers: string[]; minors: string[] } {
  const random = seededRandom(7);
  const events: PlatformEventInput[] = [];
  const ordinary = Array.from({ length: 240 }, (_, i) => `user-${i}`);
  const sellers = ['seller-0', 'seller-1'];
  const buyers = Array.from({ length: 12 }, (_, i) => `buyer-${i}`);
  const minors = ordinary.filter((_, i) => i % 10 === 3);
  let n = 0;
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `e-${n++}` });
  for (const account of [...ordinary, ...sellers, ...buyers]) push({ type: 'account_created', occurred_at: at(0), account });
  for (const minor of minors) push({ type: 'account_attributes', occurred_at: at(1), account: minor, minor: true, minor_basis: 'declared' });
  ordinary.forEach((account, i) => {
    const community = i % 8;
    for (let k = 0; k < 8; k++) {
      const other = ordinary[(Math.floor(random() * 30) * 8 + community) % ordinary.length];
      if (other !== account) push({ type: 'follow', occurred_at: at(2, k), actor: account, target: other });
    }
    push({ type: 'hashtag', occurred_at: at(2), actor: account, hashtag: `#topic-${community}` });
    push({ type: 'identifier', occurred_at: at(2), account, kind: 'device', value: `device-${account}` });
    push({ type: 'identifier', occurred_at: at(2), account, kind: 'ip24', value: `10.0.${i % 20}.0/24` });
  });
  for (const seller of sellers) {
    push({ type: 'profile_link', occurred_at: at(3), actor: seller, url: `https://offsite.example/${seller}` });
    push({ type: 'identifier', occurred_at: at(3), account: seller, kind: 'offsite_handle', value: `handle-${seller}` });
  }
  buyers.forEach((buyer, i) => {
    push({ type: 'identifier', occurred_at: at(3), account: buyer, kind: 'device', value: `device-${buyer}` });
    push({ type: 'identifier', occurred_at: at(3), account: buyer, kind: 'ip24', value: `10.9.${i}.0/24` });
    for (const seller of sellers) {
      push({ type: 'follow', occurred_at: at(4, i), actor: buyer, target: seller, via: 'recommendation:suggested' });
      push({ type: 'message', occurred_at: at(4, i + 1), actor: buyer, target: seller });
    }
    push({ type: 'hashtag', occurred_at: at(4), actor: buyer, hashtag: '#tag-net-1' });
    for (let k = 0; k < 3; k++) push({ type: 'follow', occurred_at: at(4, 30 + k), actor: buyer, target: ordinary[Math.floor(random() * ordinary.length)] });
    const other = buyers[(i + 1) % buyers.length];
    push({ type: 'follow', occurred_at: at(4, 40), actor: buyer, target: other });
  });
  // A seller follows minors: what the guardrail and the network summary must notice.
  for (const minor of minors.slice(0, 3)) push({ type: 'follow', occurred_at: at(5), actor: 'seller-0', target: minor });
  // Removal and return: buyer-11 is removed and comes back as buyer-11-again on the same device.
  push({ type: 'account_deleted', occurred_at: at(10), account: 'buyer-11', reason: 'enforcement' });
  push({ type: 'account_created', occurred_at: at(12), account: 'buyer-11-again' });
  push({ type: 'identifier', occurred_at: at(12), account: 'buyer-11-again', kind: 'device', value: 'device-buyer-11' });
  push({ type: 'follow', occurred_at: at(12, 5), actor: 'buyer-11-again', target: 'seller-0' });
  push({ type: 'account_created', occurred_at: at(12), account: 'decoy' });
  push({ type: 'identifier', occurred_at: at(12), account: 'decoy', kind: 'ip24', value: '10.9.11.0/24' });
  // Recommendation impressions: the recommender shows sellers to buyers and to some minors.
  for (const buyer of buyers.slice(0, 6)) push({ type: 'recommendation_impression', occurred_at: at(6), viewer: buyer, shown: 'seller-1', surface: 'recommendation:suggested' });
  for (const minor of minors.slice(0, 4)) push({ type: 'recommendation_impression', occurred_at: at(6), viewer: minor, shown: 'seller-0', surface: 'recommendation:suggested' });
  for (const account of ordinary.slice(0, 20)) push({ type: 'recommendation_impression', occurred_at: at(6), viewer: account, shown: ordinary[(ordinary.indexOf(account) + 8) % 240], surface: 'search' });
  return { events, sellers, buyers, minors };
}

for (const target of targets) {
  describe(`account graph on ${target.name}`, () => {
    let bulwark: Bulwark;
    before(async () => {
      bulwark = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000, identifierKey: 'test-key' });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('hands out an account id only once the transaction that created the account has committed', async () => {
      // Its own store: a label here would be one more seed for the tests of this graph.
      const own = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000 });
      try {
        // A transaction creates an account and rolls back: its id names no row, and must not be reused.
        await assert.rejects(
          own.sql.transaction(async (tx) => {
            await own.accounts.ensure(tx, ['rolled-back-account']);
            throw new Error('rolled back on purpose');
          }),
          /rolled back on purpose/,
        );
        await own.accounts.label('rolled-back-account', 'suspected', 'review');
        assert.equal((await own.accounts.get('rolled-back-account')).label, 'suspected');
      } finally {
        await own.close();
      }
    });

    it('applies a batch, skips redelivered events and refuses an invalid batch whole', async () => {
      const first = await bulwark.platformEvents.ingest([
        { event_id: 'a1', type: 'follow', occurred_at: '2026-02-01T10:00:00Z', actor: 'alice', target: 'bob' },
        { event_id: 'a2', type: 'message', occurred_at: '2026-02-01T10:01:00Z', actor: 'alice', target: 'bob' },
        { event_id: 'a2', type: 'message', occurred_at: '2026-02-01T10:01:00Z', actor: 'alice', target: 'bob' },
        { type: 'like', occurred_at: '2026-02-01T10:02:00Z', actor: 'carol', target: 'carol' },
      ]);
      assert.deepEqual({ applied: first.applied, duplicates: first.duplicates, ignored: first.ignored.map((i) => i.index) }, { applied: 2, duplicates: 1, ignored: [3] });
      const again = await bulwark.platformEvents.ingest([{ event_id: 'a2', type: 'message', occurred_at: '2026-02-01T10:01:00Z', actor: 'alice', target: 'bob' }]);
      assert.equal(again.duplicates, 1);
      const alice = await bulwark.accounts.get('alice');
      assert.deepEqual(alice.interactions, [{ kind: 'follow', outgoing: 1, incoming: 0 }, { kind: 'message', outgoing: 1, incoming: 0 }]);
      const messages = await bulwark.sql.query<{ count: number }>("SELECT count FROM account_edges WHERE kind = 'message'");
      assert.equal(messages.rows[0].count, 1, 'a redelivered message is not counted twice');

      await assert.rejects(
        bulwark.platformEvents.ingest([
          { type: 'follow', occurred_at: '2026-02-01T11:00:00Z', actor: 'dave', target: 'erin' },
          { type: 'message', occurred_at: '2026-02-01T11:00:00Z', actor: 'dave', target: 'erin', text: 'message text is never accepted' },
          { type: 'follow', occurred_at: 'yesterday', actor: 'dave', target: 'erin' },
        ]),
        (error: unknown) => {
          assert.ok(error instanceof BulwarkError && error.kind === 'invalid');
          const problems = (error.details as { problems: { index: number; path: string }[] }).problems;
          assert.deepEqual(problems.map((p) => p.index), [1, 2]);
          assert.match(error.message, /none were applied/);
          return true;
        },
      );
      await assert.rejects(bulwark.accounts.get('dave'), /no account/);
    });

    it('keeps the newest state whatever order follows, unfollows and attributes arrive in', async () => {
      await bulwark.platformEvents.ingest([
        { type: 'unfollow', occurred_at: '2026-03-01T12:00:00Z', actor: 'frank', target: 'gina' },
        { type: 'account_attributes', occurred_at: '2026-03-02T00:00:00Z', account: 'gina', minor: true, minor_basis: 'estimated' },
      ]);
      // Older events, delivered late: a follow before the unfollow, and an attribute before the newer one.
      await bulwark.platformEvents.ingest([
        { type: 'follow', occurred_at: '2026-03-01T09:00:00Z', actor: 'frank', target: 'gina' },
        { type: 'account_attributes', occurred_at: '2026-03-01T00:00:00Z', account: 'gina', minor: false, verified: true },
      ]);
      const edge = await bulwark.sql.query<{ active: boolean; count: number }>(
        "SELECT e.active, e.count FROM account_edges e JOIN accounts a ON a.id = e.src WHERE a.external_id = 'frank'",
      );
      assert.deepEqual(edge.rows[0], { active: false, count: 1 });
      const gina = await bulwark.accounts.get('gina');
      assert.equal(gina.minor, true);
      assert.equal(gina.minorBasis, 'estimated');
      assert.equal(gina.verified, true);
    });

    it('stores identifiers only as keyed hashes', async () => {
      await bulwark.platformEvents.ingest([{ type: 'identifier', occurred_at: '2026-03-01T00:00:00Z', account: 'hana', kind: 'email', value: 'hash-of-an-email' }]);
      const stored = await bulwark.sql.query<{ value: string }>("SELECT value FROM account_features WHERE kind = 'identifier:email'");
      assert.equal(stored.rows.length, 1);
      assert.match(stored.rows[0].value, /^[0-9a-f]{32}$/);
      assert.ok(!stored.rows[0].value.includes('hash-of-an-email'));
    });

    it('labels the uploader of matched content confirmed', async () => {
      await bulwark.banks.create('graph-test-bank');
      await bulwark.banks.addEntry('graph-test-bank', { signalType: 'md5', value: 'a'.repeat(32) });
      await bulwark.content.submit({ contentId: 'upload-1', accountId: 'uploader-1', contentType: 'photo', signals: [{ signalType: 'md5', value: 'a'.repeat(32) }] });
      await bulwark.hashMatchLabeller.drain();
      const uploader = await bulwark.accounts.get('uploader-1');
      assert.equal(uploader.label, 'confirmed');
      assert.equal(uploader.labelSource, 'hash_match');
      assert.equal(await bulwark.hashMatchLabeller.drain(), 0, 'an event is handled once');
    });

    it('finds the planted network, its roles and the returning account from one seed', async () => {
      const { events, sellers, buyers, minors } = smallPlatform();
      for (let i = 0; i < events.length; i += 1000) await bulwark.platformEvents.ingest(events.slice(i, i + 1000));
      await bulwark.accounts.label('buyer-0', 'confirmed', 'review');
      // Both are confirmed seeds; only the reviewer's may make a seedless candidate a reported network.
      const graph = await bulwark.detection.loadGraph();
      const labelled = ['buyer-0', 'uploader-1'].map((id) => graph.externalIds.indexOf(id));
      assert.deepEqual(labelled.map((a) => graph.label[a]), [LABEL_CONFIRMED, LABEL_CONFIRMED]);
      assert.deepEqual(labelled.map((a) => graph.labelAutomatic[a]), [0, 1], "the hash match's label is loaded as automatic, the reviewer's is not");

      const summary = await bulwark.detection.run({ randomSeed: 3 });
      assert.equal(summary.seeds, 2, 'buyer-0 and uploader-1 are the labelled seeds');

      const { leads } = await bulwark.detection.leads({ limit: 13 });
      const planted = new Set([...sellers, ...buyers.slice(1, 11), 'buyer-11-again']);
      const found = leads.filter((lead) => planted.has(lead.account)).length;
      assert.ok(found >= 11, `top 13 leads hold ${found} of the 13 planted accounts: ${leads.map((l) => l.account).join(', ')}`);
      const seller = leads.find((lead) => lead.account === 'seller-0')!;
      assert.ok(seller.reasons.some((reason) => reason.via === 'account' || reason.via === 'feature'), 'each lead says where its score came from');
      assert.ok(leads.every((lead) => lead.reasons.length > 0));

      const networks = await bulwark.detection.networks();
      const network = networks.find((n) => n.members.some((m) => m.account === 'seller-0'));
      assert.ok(network, 'the planted group forms a network');
      const members = new Set(network.members.map((m) => m.account));
      const covered = [...sellers, ...buyers.slice(0, 11)].filter((a) => members.has(a)).length;
      assert.ok(covered >= 11, `network holds ${covered} of 13 planted members`);
      const ordinaryInside = network.members.filter((m) => m.account.startsWith('user-')).length;
      assert.ok(ordinaryInside <= 2, `${ordinaryInside} ordinary accounts were pulled into the network`);
      assert.deepEqual(network.members.filter((m) => m.role === 'seller').map((m) => m.account).sort(), sellers);
      assert.ok(network.members.filter((m) => m.role === 'buyer').length >= 8);
      assert.ok(network.summary.minorContacts >= 3, 'the summary counts minors the members contact');

      const evasions = await bulwark.detection.evasions();
      const returned = evasions.find((e) => e.account === 'buyer-11-again');
      assert.ok(returned, 'the returning account is flagged');
      assert.equal(returned.removedAccount, 'buyer-11');
      assert.ok(returned.evidence.some((e) => e.kind === 'identifier' && e.identifier === 'device'));
      assert.ok(!evasions.some((e) => e.account === 'decoy'), 'a shared IP range alone flags nobody');

      // Guardrails now keep the network away from minors and from each other.
      await bulwark.guardrail.refresh();
      const minor = minors[0];
      const forMinor = bulwark.guardrail.decide(minor, [{ accountId: 'seller-0' }, { accountId: 'user-5' }, { accountId: 'buyer-11-again' }]);
      assert.deepEqual(forMinor.allowed.map((c) => c.accountId), ['user-5']);
      const sellerRemoved = forMinor.removed.find((r) => r.candidate.accountId === 'seller-0')!;
      assert.ok(sellerRemoved.reasons.includes('candidate_in_suspect_network'));
      assert.ok(sellerRemoved.reasons.includes('suspect_candidate_for_minor_viewer'));
      assert.ok(forMinor.removed.find((r) => r.candidate.accountId === 'buyer-11-again')!.reasons.includes('candidate_suspected_ban_evasion'));
      const forBuyer = bulwark.guardrail.decide('buyer-3', [{ accountId: minor }, { accountId: 'user-6' }]);
      assert.deepEqual(forBuyer.removed.map((r) => [r.candidate.accountId, r.reasons]), [[minor, ['minor_candidate_for_suspect_viewer']]]);
      const content = bulwark.guardrail.decide('user-1', [{ accountId: 'user-2', contentId: 'upload-1' }]);
      assert.deepEqual(content.removed[0].reasons, ['content_matched_bank']);

      // The audit sees what the recommender did and what the guardrail would have removed.
      const report = await auditRecommendations(bulwark.sql, bulwark.guardrail);
      assert.equal(report.before.impressions, 30);
      assert.equal(report.before.suspectToSuspectShare, 1);
      assert.equal(report.before.minorViewersExposed, 4);
      assert.equal(report.after.minorViewersExposed, 0);
      assert.equal(report.after.suspectToSuspectShare, 0);
      assert.equal(report.after.impressions, 20);
      // 11 live buyers follow both sellers through suggestions; 10 ring follows among them and
      // the returning account's follow came from elsewhere.
      assert.deepEqual(report.follows, { betweenSuspects: 33, fromRecommendations: 22, fromRecommendationsShare: 0.6667 });

      // A reviewer clears an account: it is ordinary to the guardrail at once.
      await bulwark.accounts.label('seller-1', 'cleared', 'review');
      await bulwark.guardrail.refresh();
      assert.equal(bulwark.guardrail.decide('user-9', [{ accountId: 'seller-1' }]).allowed.length, 1);
    });

    it('decides searches by the operator’s term lists', async () => {
      await bulwark.terms.replace('blocked-terms', 'block', [{ id: 't1', term: 'term-alpha' }]);
      await bulwark.terms.replace('warned-terms', 'interstitial', [{ id: 't2', term: 'term bravo' }]);
      const blocked = await bulwark.searchGuardrail.decide('where is T3RM-ALPHA');
      assert.equal(blocked.outcome, 'block');
      assert.equal(blocked.showResults, false);
      assert.deepEqual(blocked.lists, [{ list: 'blocked-terms', action: 'block' }]);
      const warned = await bulwark.searchGuardrail.decide('Term.Bravo pictures');
      assert.equal(warned.outcome, 'interstitial');
      assert.equal(warned.showResults, true);
      assert.ok(warned.message);
      const both = await bulwark.searchGuardrail.decide('term bravo term-alpha');
      assert.equal(both.outcome, 'block', 'the strictest list wins');
      assert.equal((await bulwark.searchGuardrail.decide('weather tomorrow')).outcome, 'allow');
      await assert.rejects(bulwark.terms.replace('Bad Name', 'block', []), /term list name/);
    });
  });
}
