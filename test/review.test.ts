import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { caseRank } from '../src/cases/case-service.ts';
import { REVIEWER_CONFIRMED_BANK } from '../src/cases/subjects/content-subject.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { PlatformWebhook } from './helpers/platform-webhook.ts';
import { storeTargets } from './helpers/stores.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';

const targets = await storeTargets();


const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const expectError = async (promise: Promise<unknown>, kind: BulwarkError['kind'], message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));

for (const target of targets) {
  describe(`cases, decisions and enforcement (${target.name})`, () => {
    let bulwark: Bulwark;
    let platform: PlatformWebhook;
    let reviewer: Reviewer;
    let other: Reviewer;
    let lead: Reviewer;
    const exact: { png: Buffer; pdq: string } = { png: Buffer.alloc(0), pdq: '' };
    const near: { png: Buffer; pdq: string } = { png: Buffer.alloc(0), pdq: '' };

    before(async () => {
      platform = await new PlatformWebhook('platform-secret-0123456789').start();
      bulwark = await openBulwark({
        ...target.location(),
        bankRefreshMs: 0,
        mediaKey: randomBytes(32).toString('hex'),
        webhooks: { webhookUrl: platform.url, secret: platform.secret },
        actionOptions: { baseDelayMs: 20 },
        actionDispatchIntervalMs: 50,
      });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      exact.png = await encodeImage(shapesImage(11, 320, 240), 'png');
      near.png = await encodeImage(shapesImage(12, 320, 240), 'png');
      for (const image of [exact, near]) {
        image.pdq = (await hashContent(bulwark.signals, 'photo', image.png)).find((signal) => signal.signalType === 'pdq')!.value;
      }
      await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
      await bulwark.banks.addEntry('verified', { signalType: 'md5', value: md5(exact.png), source: 'test' });
      await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: near.pdq, source: 'test' });
      reviewer = await bulwark.reviewers.create({ username: 'rev-one', password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
      other = await bulwark.reviewers.create({ username: 'rev-two', password: 'correct horse battery', role: 'reviewer', teams: ['network-team'] });
      lead = await bulwark.reviewers.create({ username: 'lead-one', password: 'correct horse battery', role: 'lead', teams: ['media-team'] });
    });
    after(async () => {
      await bulwark.close();
      await platform.stop();
      await target.cleanup();
    });

    it('turns matches into cases and automated removals, recorded with the rule that fired', async () => {
      await bulwark.content.submit({ contentId: 'c-exact', accountId: 'acct-1', contentType: 'photo', media: exact.png });
      await bulwark.content.submit({ contentId: 'c-near', accountId: 'acct-2', contentType: 'photo', media: near.png });
      await bulwark.content.submit({ contentId: 'c-benign', accountId: 'acct-3', contentType: 'photo', media: await encodeImage(shapesImage(99, 320, 240), 'png') });
      await bulwark.rules.runner.drain();
      const cases = await bulwark.cases.list({ queue: 'known-media' });
      assert.deepEqual(cases.map((c) => [c.subject.id, c.severity, c.reasons[0].rule]).sort(), [
        ['c-exact', 'critical', 'verified-exact-remove'],
        ['c-near', 'high', 'verified-near-review'],
      ]);
      const removal = await platform.waitFor('remove_content', 'c-exact');
      assert.equal(removal.body.decided_by, 'rule:verified-exact-remove');
      assert.equal(removal.body.automated, true);
      const detail = await bulwark.cases.detail(cases.find((c) => c.subject.id === 'c-exact')!.id);
      assert.equal(detail.decisions.length, 1);
      assert.equal(detail.decisions[0].rule, 'verified-exact-remove');
      assert.equal(detail.decisions[0].automated, true);
      assert.deepEqual(detail.decisions[0].actions.map((a) => a.type), ['remove_content']);
      assert.equal(platform.received.filter((a) => a.target.id === 'c-benign').length, 0);
      // The same event handled again (a replay) acts once: the idempotency key holds.
      assert.equal(platform.received.filter((a) => a.target.id === 'c-exact').length, 1);
    });

    it('orders a queue: trusted flaggers first, then severity, minors, priority, network size', async () => {
      assert.ok(caseRank('critical', 0, false, null) > caseRank('high', 100, true, 99));
      assert.ok(caseRank('high', 0, true, null) > caseRank('high', 100, false, 99));
      assert.ok(caseRank('high', 50, false, 10) > caseRank('high', 50, false, 3));
      await bulwark.reports.submit({ reporter_kind: 'user', category: 'other', subject: { kind: 'account', id: 'acct-u' } });
      await bulwark.reports.submit({ reporter_kind: 'trusted_flagger', flagger: 'hotline-a', category: 'csam', subject: { kind: 'content', id: 'c-tf' } });
      await bulwark.rules.runner.drain();
      // A second signal about the same subject adds a reason to the open case and can raise it.
      const once = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-twice' }, severity: 'low', priority: 10, reason: { rule: 'manual', summary: 'first' } });
      const twice = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-twice' }, severity: 'high', priority: 5, minorInvolved: true, reason: { rule: 'manual', summary: 'second' } });
      assert.equal(twice.id, once.id);
      assert.deepEqual([twice.severity, twice.priority, twice.minor_involved, twice.reasons.map((r) => r.summary)], ['high', 10, true, ['first', 'second']]);
      const first = await bulwark.cases.claimNext(lead, 'reports');
      assert.equal(first?.subject.id, 'c-tf');
      assert.equal(first?.trusted_flagger, true);
      await bulwark.cases.release(first!.id, lead);
    });

    it('lets a reviewer claim the most urgent case, decide it, and fires its enforcement', async () => {
      const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
      assert.equal(claimed?.subject.id, 'c-exact', 'critical before high');
      assert.equal(claimed?.claimed_by, 'rev-one');
      assert.equal(claimed?.content?.media_available, true);
      assert.deepEqual(claimed?.decision_options.map((o) => o.verdict), ['confirm', 'dismiss', 'escalate']);
      // Claiming again gives back the held case rather than a second one.
      assert.equal((await bulwark.cases.claimNext(reviewer, 'known-media'))?.id, claimed!.id);
      await expectError(bulwark.cases.decide(claimed!.id, lead, { verdict: 'confirm', policy: 'csam' }), 'conflict', /not claimed by you/);
      await expectError(bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'approve' }), 'invalid', /not one of confirm, dismiss, escalate/);
      await expectError(bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'confirm' }), 'invalid', /must cite a policy/);
      await expectError(bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'confirm', policy: 'made-up' }), 'invalid', /unknown policy/);
      await expectError(bulwark.cases.media(claimed!.id, reviewer), 'forbidden', /reveal the media of case \d+ first/);
      await expectError(bulwark.cases.media(claimed!.id, other), 'forbidden', /may not see|claim case/);
      await expectError(bulwark.cases.reveal(claimed!.id, other), 'forbidden', /may not see|claim case/);
      assert.equal(await bulwark.reviewers.exposureToday(other.id), 0, 'a refused reveal counts nothing');
      assert.equal((await bulwark.cases.reveal(claimed!.id, reviewer)).exposureToday, 1);
      const media = await bulwark.cases.media(claimed!.id, reviewer);
      assert.equal(media.mediaType, 'image/png');
      assert.ok(media.media.equals(exact.png), 'the sealed media opens to the uploaded bytes');
      await expectError(bulwark.cases.media(claimed!.id, reviewer), 'forbidden', /reveal the media/);
      assert.equal((await bulwark.cases.reveal(claimed!.id, reviewer)).exposureToday, 2);
      assert.equal(await bulwark.reviewers.exposureToday(lead.id), 0);

      const first = await bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'dismiss', note: 'already removed by rule' });
      assert.equal(first.case.status, 'decided');
      await expectError(bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'dismiss' }), 'conflict', /already decided/);

      const second = await bulwark.cases.claimNext(reviewer, 'known-media');
      assert.equal(second?.subject.id, 'c-near');
      const decided = await bulwark.cases.decide(second!.id, reviewer, { verdict: 'confirm', policy: 'csam', note: 'matches the verified list' });
      assert.equal(decided.decision.decided_by, 'rev-one');
      assert.equal(decided.decision.policy, 'csam');
      assert.equal(decided.decision.legal_ground, '18 U.S.C. 2258A; DSA Art. 16');
      assert.deepEqual(decided.decision.actions.map((a) => [a.type, a.target.id]), [['remove_content', 'c-near']]);
      const removal = await platform.waitFor('remove_content', 'c-near');
      assert.equal(removal.body.decided_by, 'rev-one');
      assert.equal(removal.idempotencyKey.length > 0, true);
      assert.equal((await bulwark.accounts.get('acct-2')).label, 'confirmed');
      assert.equal(await bulwark.cases.claimNext(reviewer, 'known-media'), undefined, 'the queue is empty');
    });

    it('banks confirmed media so its next upload is caught', async () => {
      const entries = await bulwark.banks.listEntries(REVIEWER_CONFIRMED_BANK);
      assert.ok(entries.some((entry) => entry.signalType === 'pdq' && entry.value === near.pdq));
      assert.ok(entries.every((entry) => entry.source?.startsWith('case:')));
      const again = await bulwark.content.submit({ contentId: 'c-near-again', accountId: 'acct-9', contentType: 'photo', media: near.png });
      assert.ok(again.record.matches.some((match) => match.bank === REVIEWER_CONFIRMED_BANK));
    });

    it('returns a case whose claim lapsed to the queue', async () => {
      await bulwark.reports.submit({ reporter_kind: 'user', category: 'other', subject: { kind: 'account', id: 'acct-lapse' } });
      await bulwark.rules.runner.drain();
      const held = await bulwark.cases.claim((await bulwark.cases.list({ subject: { kind: 'account', id: 'acct-lapse' } }))[0].id, lead);
      await expectError(bulwark.cases.claim(held.id, reviewer), 'conflict', /held by lead-one/);
      // The reviewer left without deciding: time passes beyond the claim.
      await bulwark.sql.query(`UPDATE cases SET claimed_until = now() - interval '1 second' WHERE id = $1`, [held.id]);
      assert.equal((await bulwark.cases.detail(held.id)).status, 'open');
      const taken = await bulwark.cases.claim(held.id, reviewer);
      assert.equal(taken.claimed_by, 'rev-one');
      await expectError(bulwark.cases.decide(held.id, lead, { verdict: 'dismiss' }), 'conflict', /not claimed by you/);
      await bulwark.cases.decide(held.id, reviewer, { verdict: 'dismiss' });
      assert.equal((await bulwark.accounts.get('acct-lapse')).label, 'cleared');
    });

    it('lets a lead assign a case to a reviewer who may see its queue', async () => {
      await bulwark.reports.submit({ reporter_kind: 'user', category: 'other', subject: { kind: 'account', id: 'acct-assign' } });
      await bulwark.rules.runner.drain();
      const open = (await bulwark.cases.list({ subject: { kind: 'account', id: 'acct-assign' } }))[0];
      await expectError(bulwark.cases.assign(open.id, reviewer, 'rev-two'), 'forbidden', /only leads/);
      await expectError(bulwark.cases.assign(open.id, lead, 'nobody'), 'not_found', /no reviewer/);
      const assigned = await bulwark.cases.assign(open.id, lead, 'rev-one');
      assert.equal(assigned.claimed_by, 'rev-one');
      assert.equal((await bulwark.cases.claimNext(reviewer, 'reports'))?.id, open.id, 'the assigned case is what the reviewer gets next');
      await bulwark.cases.decide(open.id, reviewer, { verdict: 'dismiss' });
    });

    it('keeps restricted queues to their team and escalations to leads', async () => {
      const network = await bulwark.cases.open({ queue: 'networks', subject: { kind: 'account', id: 'acct-n' }, severity: 'high', reason: { rule: 'manual', summary: 'test' } });
      assert.deepEqual((await bulwark.cases.queues(reviewer)).map((q) => q.name).sort(), ['appeals', 'known-media', 'notices', 'reports']);
      assert.ok((await bulwark.cases.queues(other)).some((q) => q.name === 'networks'));
      await expectError(bulwark.cases.claimNext(reviewer, 'networks'), 'forbidden', /not open to you/);
      await expectError(bulwark.cases.detail(network.id, reviewer), 'forbidden', /may not see/);
      const claimed = await bulwark.cases.claimNext(other, 'networks');
      const escalated = await bulwark.cases.decide(claimed!.id, other, { verdict: 'escalate', note: 'second opinion' });
      assert.ok(escalated.escalatedTo);
      assert.ok(!(await bulwark.cases.queues(other)).some((q) => q.name === 'escalations'));
      const picked = await bulwark.cases.claimNext(lead, 'escalations');
      assert.equal(picked?.escalated_from, claimed!.id);
      assert.match(picked!.reasons[0].summary, /escalated by rev-two/);
      const suspended = await bulwark.cases.decide(picked!.id, lead, { verdict: 'suspend', policy: 'csam' });
      assert.deepEqual(suspended.decision.actions.map((a) => a.type).sort(), ['block_identifier', 'suspend_account']);
      await platform.waitFor('suspend_account', 'acct-n');
    });

    it('writes every decision to an append-only, hash-chained audit log', async () => {
      const entries = await bulwark.audit.list({ limit: 500 });
      const actions = new Set(entries.map((entry) => entry.action));
      for (const action of ['rules.activated', 'case.opened', 'case.claimed', 'media.revealed', 'media.accessed', 'case.decided', 'rule.acted', 'reviewer.created']) {
        assert.ok(actions.has(action), `audit log has ${action}`);
      }
      const decidedEntry = entries.find((entry) => entry.action === 'case.decided' && entry.actor === 'rev-one' && entry.detail.verdict === 'confirm');
      assert.equal(decidedEntry?.detail.policy, 'csam');
      assert.deepEqual(await bulwark.audit.verify(), { entries: entries.length });
      await assert.rejects(bulwark.sql.query(`UPDATE audit_log SET actor = 'someone-else'`), /append-only/);
      await assert.rejects(bulwark.sql.query('DELETE FROM decisions'), /append-only/);
      await assert.rejects(bulwark.sql.query('TRUNCATE audit_log'), /append-only/);
      // A change made around the database (triggers disabled by its owner) breaks the chain.
      await bulwark.sql.transaction(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
        await tx.query(`UPDATE audit_log SET detail = '{"verdict":"dismiss"}' WHERE seq = $1`, [decidedEntry!.seq]);
        await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
      });
      const intactBefore = entries.filter((entry) => entry.seq < decidedEntry!.seq).length;
      assert.deepEqual(await bulwark.audit.verify(), { entries: intactBefore, brokenAt: decidedEntry!.seq });
    });

    it('refuses a broken rule file and keeps the live one', async () => {
      const live = bulwark.rules.current()!.id;
      await expectError(bulwark.rules.activate(REVIEW_RULES.replace('contains: verified }', 'contians: verified }'), 'broken.yaml', 'test'), 'invalid', /broken\.yaml:\d+:\d+/);
      assert.equal(bulwark.rules.current()!.id, live);
      assert.equal((await bulwark.sql.query('SELECT count(*) AS n FROM rule_sets')).rows[0].n, 1);
    });
  });
}

describe('reviewer accounts', () => {
  let bulwark: Bulwark;
  before(async () => {
    bulwark = await openBulwark({});
  });
  after(async () => bulwark.close());

  it('stores only a scrypt hash, refuses weak or duplicate accounts, and ends sessions on disable', async () => {
    await bulwark.reviewers.create({ username: 'Alice', password: 'a long enough phrase', role: 'reviewer' });
    const stored = (await bulwark.sql.query<{ password_hash: string }>("SELECT password_hash FROM reviewers WHERE username = 'alice'")).rows[0].password_hash;
    assert.match(stored, /^scrypt\$32768\$8\$1\$/);
    assert.ok(!stored.includes('a long enough phrase'));
    await expectError(bulwark.reviewers.create({ username: 'alice', password: 'another long phrase', role: 'reviewer' }), 'conflict', /exists/);
    await expectError(bulwark.reviewers.create({ username: 'bob', password: 'short', role: 'reviewer' }), 'invalid', /at least 12/);
    await expectError(bulwark.reviewers.create({ username: 'bob', password: 'a long enough phrase', role: 'boss' as never }), 'invalid', /role must be/);
    await expectError(bulwark.reviewers.login('alice', 'wrong password here'), 'unauthenticated', /wrong username or password/);
    await expectError(bulwark.reviewers.login('nobody', 'wrong password here'), 'unauthenticated', /wrong username or password/);
    const { token, session } = await bulwark.reviewers.login('ALICE', 'a long enough phrase');
    assert.equal(session.reviewer.username, 'alice');
    assert.equal((await bulwark.reviewers.session(token)).csrfToken, session.csrfToken);
    const tokens = await bulwark.sql.query<{ token_sha256: string }>('SELECT token_sha256 FROM reviewer_sessions');
    assert.ok(tokens.rows.every((row) => row.token_sha256 !== token), 'the token itself is not stored');
    await bulwark.reviewers.disable('alice');
    await expectError(bulwark.reviewers.session(token), 'unauthenticated', /log in again/);
    await expectError(bulwark.reviewers.login('alice', 'a long enough phrase'), 'unauthenticated', /wrong username or password/);
  });

  it('locks a name out after repeated failures', async () => {
    await bulwark.reviewers.create({ username: 'carol', password: 'a long enough phrase', role: 'reviewer' });
    for (let i = 0; i < 10; i++) await expectError(bulwark.reviewers.login('carol', `guess number ${i}`), 'unauthenticated', /wrong/);
    await expectError(bulwark.reviewers.login('carol', 'a long enough phrase'), 'unauthenticated', /wrong/);
    const refused = await bulwark.audit.list({ subject: 'reviewer:carol' });
    assert.ok(refused.some((entry) => entry.action === 'reviewer.login_refused'));
  });
});
