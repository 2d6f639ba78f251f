import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { REVIEWER_CONFIRMED_BANK } from '../src/cases/subjects/content-subject.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { locationPatternsFromEnv } from '../src/legal/notices.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { PlatformWebhook } from './helpers/platform-webhook.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

const expectError = async (promise: Promise<unknown>, kind: BulwarkError['kind'], message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));

const complete = {
  explanation: 'The post shows material that is illegal under national law.',
  locations: ['https://platform.example/p/c-notice-1'],
  category: 'illegal_hate_speech',
  notifier: { name: 'A Notifier', email: 'notifier@example.org' },
  good_faith: true,
};

for (const target of targets) {
  describe(`notices, trusted flaggers, appeals and orders (${target.name})`, () => {
    let bulwark: Bulwark;
    let platform: PlatformWebhook;
    let first: Reviewer;
    let second: Reviewer;

    before(async () => {
      platform = await new PlatformWebhook('platform-secret-0123456789').start();
      bulwark = await openBulwark({
        ...target.location(),
        bankRefreshMs: 0,
        mediaKey: randomBytes(32).toString('hex'),
        webhooks: { webhookUrl: platform.url, secret: platform.secret },
        actionOptions: { baseDelayMs: 20 },
        actionDispatchIntervalMs: 50,
        notices: { locationPatterns: [/^https:\/\/platform\.example\/p\/(?<content>[\w-]+)$/, /^https:\/\/platform\.example\/u\/(?<account>[\w-]+)$/] },
      });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      first = await bulwark.reviewers.create({ username: 'first-reviewer', password: 'correct horse battery', role: 'reviewer' });
      second = await bulwark.reviewers.create({ username: 'second-reviewer', password: 'correct horse battery', role: 'reviewer' });
    });
    after(async () => {
      await bulwark.close();
      await platform.stop();
      await target.cleanup();
    });

    it('refuses an incomplete notice, naming every missing element', async () => {
      await expectError(bulwark.notices.submit({ category: 'illegal_hate_speech' }), 'invalid', /missing explanation.*locations.*notifier's name, notifier's email, good-faith statement/);
      await expectError(bulwark.notices.submit({ ...complete, locations: ['not a url'] }), 'invalid', /is not a URL/);
      await expectError(bulwark.notices.submit({ ...complete, notifier: { name: 'A Notifier', email: 'nope' } }), 'invalid', /not an email address/);
      await expectError(bulwark.notices.submit({ ...complete, good_faith: false }), 'invalid', /good-faith statement/);
      await expectError(bulwark.notices.submit({ ...complete, colour: 'red' }), 'invalid', /colour/);
      assert.equal((await bulwark.notices.list()).length, 0, 'nothing of a refused notice is kept');
    });

    it('takes a child-abuse notice without the notifier’s name or email, acknowledges it and opens a critical case', async () => {
      const { notice, acknowledgement } = await bulwark.notices.submit({ explanation: 'Abuse material.', locations: ['https://platform.example/p/c-csam-1'], category: 'csam', good_faith: true }, 'web_form');
      assert.match(acknowledgement, new RegExp(`Notice ${notice.id} received`));
      assert.ok(notice.acknowledged_at);
      assert.deepEqual(notice.subject, { kind: 'content', id: 'c-csam-1' }, 'the location pattern resolved the content');
      const opened = await bulwark.cases.detail(notice.case_id!);
      assert.equal(opened.queue, 'notices');
      assert.equal(opened.reasons[0].summary, `notice ${notice.id} (csam) about https://platform.example/p/c-csam-1: "Abuse material."`);
      assert.equal(opened.severity, 'critical');
      const stored = await bulwark.sql.query<{ notifier_name: string | null }>('SELECT notifier_name FROM notices WHERE id = $1', [notice.id]);
      assert.equal(stored.rows[0].notifier_name, null);
    });

    it('puts a registered trusted flagger’s notice first, and refuses unknown or revoked flaggers', async () => {
      await expectError(bulwark.notices.submit({ ...complete, trusted_flagger: 'hotline-x' }), 'invalid', /not a registered trusted flagger/);
      await bulwark.trustedFlaggers.register({ name: 'hotline-x', awardedBy: 'Digital Services Coordinator of XX', reference: 'decision 2026/1' });
      await bulwark.trustedFlaggers.register({ name: 'hotline-gone', awardedBy: 'Digital Services Coordinator of XX' });
      await bulwark.trustedFlaggers.revoke('hotline-gone');
      await expectError(bulwark.notices.submit({ ...complete, trusted_flagger: 'hotline-gone' }), 'invalid', /revoked/);
      const ordinary = await bulwark.notices.submit({ ...complete, locations: ['https://platform.example/u/acct-ordinary'] });
      const flagged = await bulwark.notices.submit({ ...complete, category: 'illegal_hate_speech', locations: ['https://platform.example/u/acct-flagged'], notifier: undefined, trusted_flagger: 'hotline-x' });
      assert.equal(flagged.notice.channel, 'trusted_flagger');
      assert.equal(ordinary.notice.channel, 'api');
      // The critical child-abuse notice is older and more severe; the trusted flagger still comes first.
      const next = await bulwark.cases.claimNext(first, 'notices');
      assert.equal(next?.id, flagged.notice.case_id);
      assert.equal(next?.trusted_flagger, true);
      await bulwark.cases.release(next!.id, first);
    });

    it('keeps an unresolved notice until the platform says what it points at, then records the decision on it', async () => {
      const { notice } = await bulwark.notices.submit({ ...complete, locations: ['https://elsewhere.example/x'] });
      assert.equal(notice.subject, null);
      assert.equal(notice.case_id, null);
      assert.ok((await bulwark.notices.list({ unresolved: true })).some((n) => n.id === notice.id));
      const resolved = await bulwark.notices.resolve(notice.id, { kind: 'account', id: 'acct-unresolved' });
      assert.ok(resolved.case_id);
      await expectError(bulwark.notices.resolve(notice.id, { kind: 'account', id: 'acct-other' }), 'conflict', /already points/);
      const claimed = await bulwark.cases.claim(resolved.case_id!, first);
      await bulwark.cases.decide(claimed.id, first, { verdict: 'restrict', policy: 'csam' });
      await bulwark.notices.tracker.drain();
      const decided = await bulwark.notices.get(notice.id);
      assert.equal(decided.decision?.verdict, 'restrict');
      assert.equal(decided.decision?.legal_ground, '18 U.S.C. 2258A; DSA Art. 16');
      const announced = await bulwark.events.read({ types: ['notice.decided'] });
      assert.ok(announced.some((event) => (event.payload as { notice_id: number }).notice_id === notice.id));
    });

    it('takes appeals from the affected user within six months, for a reviewer other than the decider, and undoes a reversed decision', async () => {
      const png = await encodeImage(shapesImage(31, 320, 240), 'png');
      const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
      await bulwark.banks.create('verified');
      await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq });
      await bulwark.content.submit({ contentId: 'c-appealed', accountId: 'acct-appellant', contentType: 'photo', media: png });
      await bulwark.rules.runner.drain();
      const claimed = await bulwark.cases.claimNext(first, 'known-media');
      assert.equal(claimed?.subject.id, 'c-appealed');
      const decided = await bulwark.cases.decide(claimed!.id, first, { verdict: 'confirm', policy: 'csam' });
      await platform.waitFor('remove_content', 'c-appealed');
      assert.ok((await bulwark.banks.listEntries(REVIEWER_CONFIRMED_BANK)).some((entry) => entry.value === pdq));

      await expectError(bulwark.appeals.submit({ decision_id: decided.decision.id, appellant_id: 'acct-someone-else', statement: 'not me' }), 'forbidden', /not affected/);
      await expectError(bulwark.appeals.submit({ decision_id: decided.decision.id, appellant_id: 'acct-appellant', statement: '   ' }), 'invalid', /say why/);
      const appeal = await bulwark.appeals.submit({ decision_id: decided.decision.id, appellant_id: 'acct-appellant', statement: 'The picture is my own drawing.' });
      await expectError(bulwark.appeals.submit({ decision_id: decided.decision.id, appellant_id: 'acct-appellant', statement: 'again' }), 'conflict', /already has a pending appeal/);
      assert.equal(appeal.status, 'pending');

      // The first reviewer decided; the appeal is not theirs to take.
      assert.equal(await bulwark.cases.claimNext(first, 'appeals'), undefined);
      await expectError(bulwark.cases.claim(appeal.review_case_id!, first), 'forbidden', /another reviewer must decide/);
      const review = await bulwark.cases.claimNext(second, 'appeals');
      assert.equal(review?.id, appeal.review_case_id);
      assert.equal(review?.content?.content_id, 'c-appealed', 'the appeal shows what was decided about');
      assert.deepEqual(review?.decision_options.map((o) => o.verdict), ['uphold', 'reverse', 'escalate']);
      assert.match(review!.reasons[0].summary, /against decision \d+ \(confirm under csam by first-reviewer on content c-appealed\): "The picture is my own drawing\."/);
      await bulwark.cases.reveal(review!.id, second);
      assert.ok((await bulwark.cases.media(review!.id, second)).media.equals(png), 'the appeal reviewer can reveal the media under appeal');
      const reversed = await bulwark.cases.decide(review!.id, second, { verdict: 'reverse', note: 'a drawing, not the banked picture' });
      assert.deepEqual(reversed.decision.actions.map((a) => [a.type, a.target.id]), [['restore_content', 'c-appealed']]);
      await platform.waitFor('restore_content', 'c-appealed');
      const after = await bulwark.appeals.get(appeal.id);
      assert.equal(after.status, 'reversed');
      assert.equal(after.resolved_by, 'second-reviewer');
      assert.equal((await bulwark.accounts.get('acct-appellant')).label, 'cleared');
      assert.ok(!(await bulwark.banks.listEntries(REVIEWER_CONFIRMED_BANK)).some((entry) => entry.value === pdq), 'the wrongly banked hash no longer matches');
    });

    it('refuses appeals after six months and against decisions that restricted nothing', async () => {
      const open = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-old' }, reason: { rule: 'manual', summary: 'test' } });
      await bulwark.cases.claim(open.id, first);
      const suspended = await bulwark.cases.decide(open.id, first, { verdict: 'suspend', policy: 'csam' });
      // The decision is back-dated past the window (decisions cannot be edited, so the trigger is bypassed for the test).
      await bulwark.sql.transaction(async (tx) => {
        await tx.query('ALTER TABLE decisions DISABLE TRIGGER decisions_append_only');
        await tx.query(`UPDATE decisions SET decided_at = now() - interval '7 months' WHERE id = $1`, [suspended.decision.id]);
        await tx.query('ALTER TABLE decisions ENABLE TRIGGER decisions_append_only');
      });
      await expectError(bulwark.appeals.submit({ decision_id: suspended.decision.id, appellant_id: 'acct-old', statement: 'late' }), 'invalid', /appeals are taken for 6 months/);
      const other = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-dismissed' }, reason: { rule: 'manual', summary: 'test' } });
      await bulwark.cases.claim(other.id, first);
      const dismissed = await bulwark.cases.decide(other.id, first, { verdict: 'dismiss' });
      await expectError(bulwark.appeals.submit({ decision_id: dismissed.decision.id, appellant_id: 'acct-dismissed', statement: 'x' }), 'invalid', /restricted no content or account/);
      await expectError(bulwark.appeals.submit({ decision_id: 999999, appellant_id: 'acct-old', statement: 'x' }), 'not_found', /no decision/);
    });

    it('upholds an appeal without undoing anything', async () => {
      const open = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-upheld' }, reason: { rule: 'manual', summary: 'test' } });
      await bulwark.cases.claim(open.id, second);
      const restricted = await bulwark.cases.decide(open.id, second, { verdict: 'restrict', policy: 'csam' });
      const appeal = await bulwark.appeals.submit({ decision_id: restricted.decision.id, appellant_id: 'acct-upheld', statement: 'please look again' });
      const review = await bulwark.cases.claim(appeal.review_case_id!, first);
      const upheld = await bulwark.cases.decide(review.id, first, { verdict: 'uphold' });
      assert.deepEqual(upheld.decision.actions, []);
      assert.equal((await bulwark.appeals.get(appeal.id)).status, 'upheld');
      assert.equal((await bulwark.accounts.get('acct-upheld')).label, 'suspected');
    });

    it('reads location patterns from the environment, refusing ones that name no subject', () => {
      const [pattern] = locationPatternsFromEnv('  ^https://platform\\.example/p/(?<content>[\\w-]+)$  ');
      assert.equal(pattern.exec('https://platform.example/p/c-1')?.groups?.content, 'c-1');
      assert.throws(() => locationPatternsFromEnv('^https://x/(\\d+)$'), /needs a named group/);
      assert.throws(() => locationPatternsFromEnv('(?<content>['), /is not a regular expression/);
      assert.deepEqual(locationPatternsFromEnv(undefined), []);
    });

    it('records authority orders and when they were given effect', async () => {
      await expectError(bulwark.authorityOrders.record({ kind: 'act_against_illegal_content', member_state: 'xx', authority: 'Court', category: 'csam', received_at: '2026-11-30T10:00:00Z' }), 'invalid', /member_state/);
      const order = await bulwark.authorityOrders.record({ kind: 'act_against_illegal_content', member_state: 'DE', authority: 'A court', category: 'csam', received_at: '2026-11-30T10:00:00+01:00' });
      assert.equal(order.received_at, '2026-11-30T09:00:00.000Z', 'stored in UTC');
      const done = await bulwark.authorityOrders.giveEffect(order.id);
      assert.ok(done.given_effect_at);
      await expectError(bulwark.authorityOrders.giveEffect(order.id), 'conflict', /already given effect/);
    });
  });
}
