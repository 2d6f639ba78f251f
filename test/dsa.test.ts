import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { StatementService, type StatementView } from '../src/reporting/dsa/statement-service.ts';
import { postStatements } from '../src/reporting/dsa/tdb-client.ts';
import { templatePartFiles } from '../src/reporting/dsa/transparency-template-parts.ts';
import { MULTI_STATEMENT_PATH, type TdbStatement, validateStatement } from '../src/reporting/dsa/tdb-schema.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { COMMISSION_HEADERS, parseRfc4180, ROW_COUNTS } from './helpers/annex-i-template.ts';
import { storeTargets } from './helpers/stores.ts';
import { TransparencyDbServer } from './helpers/transparency-db-server.ts';

const targets = await storeTargets();

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/** A complete, valid statement in the v2 schema, with benign placeholder text. */
const sample = (overrides: Record<string, unknown> = {}): TdbStatement =>
  ({
    decision_account: 'DECISION_ACCOUNT_SUSPENDED',
    decision_ground: 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
    incompatible_content_ground: 'Terms of service, policy placeholder',
    incompatible_content_explanation: 'placeholder explanation',
    content_type: ['CONTENT_TYPE_OTHER'],
    content_type_other: 'User account',
    category: 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS',
    territorial_scope: ['DE', 'FR'],
    content_date: '2025-07-01',
    application_date: '2025-07-02',
    decision_facts: 'placeholder facts',
    source_type: 'SOURCE_VOLUNTARY',
    automated_detection: 'No',
    automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
    puid: 'sample-1',
    ...overrides,
  }) as TdbStatement;

describe('the Transparency Database schema v2 (from 1 July 2025)', () => {
  it('takes the v2 categories and keywords and refuses those v2 removed or renamed', () => {
    assert.deepEqual(validateStatement(sample({ category_specification: ['KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE'] })), {});
    for (const category of ['STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'STATEMENT_CATEGORY_CYBER_VIOLENCE', 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE', 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS']) {
      assert.deepEqual(validateStatement(sample({ category, category_addition: [category] })), {}, category);
    }
    for (const category of ['STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT', 'STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR', 'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE', 'STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS']) {
      assert.deepEqual(validateStatement(sample({ category })), { category: ['The selected category is invalid.'] }, category);
    }
    for (const keyword of ['KEYWORD_IMAGE_BASED_SEXUAL_ABUSE', 'KEYWORD_ONLINE_BULLYING_INTIMIDATION', 'KEYWORD_INSUFFICIENT_INFORMATION_TRADERS', 'KEYWORD_DISINFORMATION']) {
      assert.deepEqual(validateStatement(sample({ category_specification: [keyword] })), { category_specification: ['The selected category specification is invalid.'] }, keyword);
    }
  });

  it('takes content_id as an EAN-13 key and value only', () => {
    // The documentation's own example value.
    assert.deepEqual(validateStatement(sample({ content_id: { 'EAN-13': '0123456789123' } })), {});
    assert.match(validateStatement(sample({ content_id: { 'EAN-13': '12345' } })).content_id[0], /13 digits/);
    assert.match(validateStatement(sample({ content_id: { ISBN: '0123456789123' } })).content_id[0], /not accepted/);
    assert.match(validateStatement(sample({ content_id: ['0123456789123'] })).content_id[0], /object/);
  });

  it('is posted to the v1 multi-statement path, where the stand-in refuses a v1 category per statement', async () => {
    assert.equal(MULTI_STATEMENT_PATH, '/api/v1/statements');
    const tdb = await new TransparencyDbServer().start();
    try {
      const outcome = await postStatements({ url: tdb.url, token: tdb.token }, [
        sample({ puid: 'v2-ok' }),
        sample({ puid: 'v1-category', category: 'STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT' }),
      ]);
      assert.equal(outcome.kind, 'rejected');
      assert.deepEqual(outcome.kind === 'rejected' ? [...outcome.errors.keys()] : [], [1]);
      assert.equal(tdb.accepted.size, 0, 'a refused batch creates none');
      const created = await postStatements({ url: tdb.url, token: tdb.token }, [sample({ puid: 'v2-ok', content_id: { 'EAN-13': '0123456789123' } })]);
      assert.equal(created.kind, 'created');
      assert.equal(tdb.requests.at(-1)?.path, '/api/v1/statements');
    } finally {
      await tdb.stop();
    }
  });
});

for (const target of targets) {
  describe(`DSA statements of reasons and transparency report (${target.name})`, () => {
    let bulwark: Bulwark;
    let tdb: TransparencyDbServer;
    let reviewer: Reviewer;
    let clock = new Date();
    const now = () => clock;
    const service = (configured = true) =>
      new StatementService(bulwark.sql, bulwark.events, { now, baseDelayMs: 1000, ...(configured ? { tdb: { url: tdb.url, token: tdb.token, deadline: tdb.deadline } } : {}) });

    before(async () => {
      tdb = await new TransparencyDbServer().start();
      // The instance's own statement service stays idle: the test drives its own, with an injected clock and database.
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, mediaKey: randomBytes(32).toString('hex'), dispatchActions: false });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
      reviewer = await bulwark.reviewers.create({ username: 'rev-one', password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
    });
    after(async () => {
      await bulwark.close();
      await tdb.stop();
      await target.cleanup();
    });

    it('gives one valid statement per restriction, none for a dismissal, and never sends an invalid one', async () => {
      const exact = await encodeImage(shapesImage(21, 320, 240), 'png');
      const reviewed = await encodeImage(shapesImage(22, 320, 240), 'png');
      const dismissed = await encodeImage(shapesImage(23, 320, 240), 'png');
      const overlong = await encodeImage(shapesImage(24, 320, 240), 'png');
      for (const png of [exact, reviewed, dismissed, overlong]) await bulwark.banks.addEntry('verified', { signalType: 'md5', value: md5(png), source: 'test' });
      // content-auto is removed by the rule on its own; the others wait for a reviewer (their rule only opens cases once removed... see below).
      await bulwark.content.submit({ contentId: 'content-auto', accountId: 'acct-1', contentType: 'photo', media: exact });
      // An item id the database refuses as a puid (a dot): its statement is invalid and never sent.
      await bulwark.content.submit({ contentId: 'content.9', accountId: 'acct-1', contentType: 'photo', media: overlong });
      await bulwark.rules.runner.drain();
      // A notice (Art. 16) about a reported account: a user report opens the case, the notice row points at it.
      const notice = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-7' }, severity: 'high', reason: { rule: 'manual', summary: 'notice' } });
      await bulwark.sql.query(
        `INSERT INTO notices (explanation, locations, subject_kind, subject_id, category, good_faith, channel, case_id) VALUES ('placeholder', ARRAY['https://example.test/acct-7'], 'account', 'acct-7', 'protection_of_minors', true, 'api', $1)`,
        [notice.id],
      );
      const statements = service(false);
      await statements.consumer.drain();

      const auto = (await statements.list()).filter((s) => s.subject.id === 'content-auto');
      assert.equal(auto.length, 1);
      const automated = auto[0].statement;
      assert.deepEqual(validateStatement(automated), {});
      assert.equal(auto[0].status, 'pending_configuration');
      assert.deepEqual(automated.decision_visibility, ['DECISION_VISIBILITY_CONTENT_REMOVED']);
      assert.equal(automated.automated_decision, 'AUTOMATED_DECISION_FULLY');
      assert.equal(automated.automated_detection, 'Yes');
      assert.equal(automated.source_type, 'SOURCE_VOLUNTARY');
      assert.equal(automated.decision_ground, 'DECISION_GROUND_INCOMPATIBLE_CONTENT');
      assert.equal(automated.category, 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS');
      assert.deepEqual(automated.content_type, ['CONTENT_TYPE_IMAGE']);
      assert.equal(automated.puid, 'content-auto');

      // A human decision on the auto case (confirm with the csam policy): illegal content, CSAM keyword, not automated.
      const kase = await bulwark.cases.claimNext(reviewer, 'known-media');
      assert.ok(['content-auto', 'content.9'].includes(kase!.subject.id));
      await bulwark.cases.decide(kase!.id, reviewer, { verdict: 'confirm', policy: 'csam' });
      // Suspension of the noticed account: one statement, block_identifier counted with it.
      const claimedNotice = await bulwark.cases.claimNext(reviewer, 'reports');
      assert.equal(claimedNotice?.subject.id, 'acct-7');
      await bulwark.cases.decide(claimedNotice!.id, reviewer, { verdict: 'suspend', policy: 'csam' });
      // A dismissal gives none; a decision citing the overlong policy gives an invalid one.
      const dismissal = await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: 'acct-8' }, severity: 'low', reason: { rule: 'manual', summary: 'x' } });
      await bulwark.cases.decide((await bulwark.cases.claimNext(reviewer, 'reports'))!.id, reviewer, { verdict: 'dismiss' });
      await statements.consumer.drain();

      const all = await statements.list();
      const human = all.find((s) => s.subject.id === kase!.subject.id && s.statement.automated_decision === 'AUTOMATED_DECISION_NOT_AUTOMATED')!;
      assert.ok(human, 'a second statement about the same item');
      if (kase!.subject.id === 'content-auto') assert.match(human.puid, /^content-auto-decision-\d+$/);
      assert.equal(human.statement.decision_ground, 'DECISION_GROUND_ILLEGAL_CONTENT');
      assert.equal(human.statement.illegal_content_legal_ground, '18 U.S.C. 2258A; DSA Art. 16');
      assert.deepEqual(human.statement.category_specification, ['KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL']);
      assert.equal(human.statement.automated_decision, 'AUTOMATED_DECISION_NOT_AUTOMATED');
      assert.equal(human.statement.automated_detection, 'Yes', 'the case was opened by a rule on a bank match');

      const suspended = all.filter((s) => s.subject.id === 'acct-7');
      assert.equal(suspended.length, 1);
      assert.equal(suspended[0].action_ids.length, 2, 'suspend_account and block_identifier in one statement');
      assert.equal(suspended[0].statement.decision_account, 'DECISION_ACCOUNT_SUSPENDED');
      assert.equal(suspended[0].statement.source_type, 'SOURCE_ARTICLE_16');
      assert.equal(suspended[0].statement.automated_detection, 'No');
      assert.deepEqual(validateStatement(suspended[0].statement), {});

      assert.equal(all.filter((s) => s.subject.id === 'acct-8').length, 0, 'a dismissal gives no statement');
      assert.ok(dismissal);
      const invalid = all.find((s) => s.subject.id === 'content.9')!;
      assert.equal(invalid.status, 'invalid');
      assert.match(invalid.errors!.puid[0], /format is invalid/);

      // Configured now: everything valid goes in one batch; the invalid one is never sent.
      const configured = service();
      const accepted = await configured.submitDue();
      assert.equal(accepted, all.filter((s) => s.status !== 'invalid').length);
      assert.equal(tdb.requests.filter((r) => r.status === 201).length, 1);
      assert.equal(tdb.requests[0].authorization, `Bearer ${tdb.token}`);
      assert.equal(tdb.accepted.has('content.9'), false);
      assert.equal((await configured.get(invalid.id)).status, 'invalid');
      for (const s of await configured.list({ status: 'submitted' })) assert.ok(s.tdb_uuid);
    });

    it('retries after 500, 429 with Retry-After and a timeout, and loses nothing across a restart', async () => {
      const first = service();
      const suspendNext = async (account: string) => {
        await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: account }, severity: 'low', reason: { rule: 'manual', summary: 'x' } });
        await bulwark.cases.decide((await bulwark.cases.claimNext(reviewer, 'reports'))!.id, reviewer, { verdict: 'suspend', policy: 'csam' });
      };
      await suspendNext('acct-20');
      await first.consumer.drain();
      tdb.failNext({ kind: '500' }, { kind: '429', retryAfterSeconds: 120 }, { kind: 'timeout' });
      assert.equal(await first.submitDue(), 0);
      let [row] = await first.list({ status: 'retrying' });
      assert.equal(row.last_error, '500');
      assert.equal(new Date(row.next_attempt_at!).getTime() - clock.getTime(), 1000);
      assert.equal(await first.submitDue(), 0, 'not due yet');
      clock = new Date(clock.getTime() + 1000);
      await first.submitDue();
      [row] = await first.list({ status: 'retrying' });
      assert.equal(row.last_error, '429');
      assert.equal(new Date(row.next_attempt_at!).getTime() - clock.getTime(), 120_000, 'Retry-After wins over the shorter backoff');
      clock = new Date(clock.getTime() + 120_000);
      await first.submitDue();
      [row] = await first.list({ status: 'retrying' });
      assert.equal(row.last_error, 'timeout');
      // A new process (a restart) finds the statement and submits it.
      clock = new Date(clock.getTime() + 3_600_000);
      const restarted = service();
      assert.equal(await restarted.submitDue(), 1);
      assert.equal((await restarted.get(row.id)).status, 'submitted');
      assert.equal(row.attempts, 3);
    });

    it('marks the statements of a decision reversed on appeal: a waiting one is never sent, an accepted one keeps its reversal', async () => {
      const statements = service();
      const appealReviewer = await bulwark.reviewers.create({ username: 'rev-two', password: 'correct horse battery', role: 'reviewer' });
      const suspend = async (account: string) => {
        await bulwark.cases.open({ queue: 'reports', subject: { kind: 'account', id: account }, severity: 'low', reason: { rule: 'manual', summary: 'x' } });
        const decided = await bulwark.cases.decide((await bulwark.cases.claimNext(reviewer, 'reports'))!.id, reviewer, { verdict: 'suspend', policy: 'csam' });
        return decided.decision.id;
      };
      const reverse = async (decisionId: number, account: string) => {
        const appeal = await bulwark.appeals.submit({ decision_id: decisionId, appellant_id: account, statement: 'placeholder reason' });
        const review = await bulwark.cases.claim(appeal.review_case_id!, appealReviewer);
        await bulwark.cases.decide(review.id, appealReviewer, { verdict: 'reverse' });
        return appeal;
      };
      const only = async (decisionId: number): Promise<StatementView> => {
        const found = await statements.list({ decisionId });
        assert.equal(found.length, 1);
        return found[0];
      };

      const acceptedDecision = await suspend('acct-40');
      await statements.consumer.drain();
      await statements.submitDue();
      assert.equal((await only(acceptedDecision)).status, 'submitted');
      const waitingDecision = await suspend('acct-41');
      await statements.consumer.drain();
      const waiting = await only(waitingDecision);
      assert.equal(waiting.status, 'pending');

      const firstAppeal = await reverse(acceptedDecision, 'acct-40');
      const secondAppeal = await reverse(waitingDecision, 'acct-41');
      // The reversal is committed but not yet consumed: it alone keeps the statement from being sent.
      const sentBefore = tdb.requests.length;
      assert.equal(await statements.submitDue(), 0);
      assert.equal(tdb.requests.length, sentBefore, 'nothing was sent');

      await statements.consumer.drain();
      const kept = await only(acceptedDecision);
      assert.equal(kept.status, 'submitted', 'the database cannot withdraw it, so it stays accepted');
      assert.ok(kept.tdb_uuid);
      assert.equal(kept.reversal?.appeal_id, firstAppeal.id);
      assert.equal(kept.reversal?.reversed_by, 'rev-two');
      const withdrawn = await only(waitingDecision);
      assert.equal(withdrawn.status, 'withdrawn');
      assert.equal(withdrawn.reversal?.appeal_id, secondAppeal.id);
      assert.equal(withdrawn.reversal?.reversed_by, 'rev-two');
      assert.equal(withdrawn.reversal?.reversed_at, (await bulwark.appeals.get(secondAppeal.id)).resolved_at);
      assert.equal(withdrawn.next_attempt_at, null);
      await assert.rejects(statements.retry(withdrawn.id), /withdrawn: appeal \d+ reversed its decision/);

      // Later, and in another process, it is still never sent.
      clock = new Date(clock.getTime() + 86_400_000);
      assert.equal(await service().submitDue(), 0);
      assert.equal(tdb.accepted.has(withdrawn.puid), false);
      assert.equal(tdb.requests.length, sentBefore);

      // The listing shows both, over HTTP as well.
      const app = await buildServer(bulwark);
      try {
        const auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
        const listed = await app.inject({ url: '/v1/dsa/statements?status=withdrawn', headers: auth });
        assert.equal(listed.statusCode, 200);
        const shown = (listed.json().statements as StatementView[]).find((s) => s.id === withdrawn.id);
        assert.deepEqual(shown?.reversal, withdrawn.reversal);
        const accepted = (await app.inject({ url: `/v1/dsa/statements/${kept.id}`, headers: auth })).json() as StatementView;
        assert.equal(accepted.reversal?.appeal_id, firstAppeal.id);
      } finally {
        await app.close();
      }
    });

    it('counts the figures of a period, excludes an event exactly at `to`, and renders CSV and HTML', async () => {
      const statements = service();
      // A separate, seeded period far from the other tests' data.
      const from = new Date('2030-03-01T00:00:00+01:00'); // 2030-02-28T23:00Z
      const to = new Date('2030-04-01T00:00:00+02:00'); // 2030-03-31T22:00Z
      const at = (iso: string) => new Date(iso);
      const tf = await bulwark.sql.query<{ id: number }>(`INSERT INTO trusted_flaggers (name, awarded_by) VALUES ('flagger-alpha', 'DSC-XX') RETURNING id`);
      const notice = (received: string, category: string, trusted: boolean) =>
        bulwark.sql.query(`INSERT INTO notices (explanation, locations, category, good_faith, channel, trusted_flagger_id, received_at) VALUES ('x', ARRAY['loc'], $1, true, $2, $3, $4)`, [
          category, trusted ? 'trusted_flagger' : 'api', trusted ? tf.rows[0].id : null, at(received),
        ]);
      await notice('2030-02-28T23:00:00Z', 'protection_of_minors', true); // exactly at from: in
      await notice('2030-03-10T12:00:00Z', 'protection_of_minors', false);
      await notice('2030-03-20T12:00:00Z', 'term-alpha', false);
      await notice('2030-03-31T22:00:00Z', 'protection_of_minors', false); // exactly at to: out
      await notice('2030-02-28T22:59:59Z', 'protection_of_minors', false); // before: out
      const decision = await bulwark.sql.query<{ id: number }>(`SELECT id FROM decisions ORDER BY id LIMIT 1`);
      const appeal = (received: string, status: string, resolved: string | null) =>
        bulwark.sql.query(`INSERT INTO appeals (decision_id, appellant_id, statement, received_at, status, resolved_at) VALUES ($1, 'acct-1', 'x', $2, $3, $4)`, [
          decision.rows[0].id, at(received), status, resolved ? at(resolved) : null,
        ]);
      await appeal('2030-03-02T00:00:00Z', 'upheld', '2030-03-02T10:00:00Z'); // 10 h
      await appeal('2030-03-03T00:00:00Z', 'reversed', '2030-03-04T06:00:00Z'); // 30 h
      await appeal('2030-03-05T00:00:00Z', 'upheld', '2030-03-05T20:00:00Z'); // 20 h
      await appeal('2030-03-30T00:00:00Z', 'pending', null);
      await appeal('2030-03-31T00:00:00Z', 'upheld', '2030-03-31T22:00:00Z'); // resolved exactly at to: not counted as resolved
      // The trusted flagger's notice was dismissed, and the dismissal appealed: a complaint about not acting on a notice.
      const dismissal = await bulwark.sql.query<{ id: number }>(
        `INSERT INTO decisions (verdict, decided_by, automated, decided_at) VALUES ('dismiss', 'rev-one', false, '2030-03-01T06:00:00Z') RETURNING id`,
      );
      await bulwark.sql.query('UPDATE notices SET decision_id = $1 WHERE trusted_flagger_id = $2', [dismissal.rows[0].id, tf.rows[0].id]);
      await bulwark.sql.query(`INSERT INTO appeals (decision_id, appellant_id, statement, received_at, status, resolved_at) VALUES ($1, 'acct-9', 'x', $2, 'upheld', $3)`, [
        dismissal.rows[0].id, at('2030-03-06T00:00:00Z'), at('2030-03-07T00:00:00Z'),
      ]); // 24 h
      const order = (kind: string, state: string, received: string, effect: string | null) =>
        bulwark.sql.query(`INSERT INTO authority_orders (kind, member_state, authority, category, received_at, acknowledged_at, given_effect_at) VALUES ($1, $2, 'authority-a', 'protection_of_minors', $3, $3, $4)`, [
          kind, state, at(received), effect ? at(effect) : null,
        ]);
      await order('act_against_illegal_content', 'DE', '2030-03-01T00:00:00Z', '2030-03-01T04:00:00Z'); // 4 h
      await order('act_against_illegal_content', 'FR', '2030-03-02T00:00:00Z', '2030-03-02T08:00:00Z'); // 8 h
      await order('provide_information', 'DE', '2030-03-03T00:00:00Z', null);

      const report = await statements.transparencyReport({ from, to });
      const f = report.figures;
      assert.equal(f.period.from, '2030-02-28T23:00:00.000Z');
      assert.equal(f.notices.total, 3);
      assert.deepEqual(f.notices.by_category, { protection_of_minors: 2, 'term-alpha': 1 });
      assert.equal(f.notices.by_trusted_flagger, 1);
      assert.equal(f.notices.by_others, 2);
      assert.equal(f.appeals.received, 6);
      assert.equal(f.appeals.pending, 2, 'one pending, one resolved exactly at to');
      assert.equal(f.appeals.upheld, 3);
      assert.equal(f.appeals.reversed, 1);
      assert.equal(f.appeals.median_hours_to_resolve, 22);
      assert.equal(f.orders.total, 3);
      assert.deepEqual(f.orders.by_member_state, { DE: 2, FR: 1 });
      assert.deepEqual(f.orders.by_kind, { act_against_illegal_content: 2, provide_information: 1 });
      assert.equal(f.orders.median_hours_to_effect, 6);
      assert.equal(f.decisions.total, 1, 'the seeded dismissal');
      assert.equal(f.decisions.restrictive, 0);

      // The CSV: one RFC 4180 file, CRLF, one row per cell of the Annex I template.
      assert.ok(report.csv.endsWith('\r\n'));
      assert.doesNotMatch(report.csv.replace(/\r\n/g, ''), /\n/, 'no bare line feeds');
      const [header, ...rows] = parseRfc4180(report.csv);
      assert.deepEqual(header, ['Section', 'Section title', 'Template part', 'Applicability', 'Reporting period', 'Category', 'Keyword', 'Scope', 'Indicator', 'Value', 'Contextual information', 'Category name', 'Keyword name']);
      for (const row of rows) assert.equal(row.length, header.length, row.join('|'));
      assert.ok(rows.every((row) => row[4] === '2030-02-28/2030-03-31'), 'the period is the first and the last UTC day of [from, to)');
      assert.ok(report.csv.includes(',"Only for providers of hosting services, including online platforms",'), 'a comma in a cell is quoted');
      const cell = (part: string, indicator: string, where: { category?: string; keyword?: string; scope?: string } = {}) => {
        const found = rows.filter((row) => row[2] === part && row[8] === indicator && row[5] === (where.category ?? row[5]) && row[6] === (where.keyword ?? '') && row[7] === (where.scope ?? row[7]));
        assert.equal(found.length, 1, `one row for ${part} / ${indicator} / ${JSON.stringify(where)}, found ${found.length}`);
        return { section: found[0][0], applicability: found[0][3], value: found[0][9], context: found[0][10] };
      };
      // 1.1 Report identification.
      assert.equal(cell('1_report_identification', 'Starting date of reporting period').value, '2030-02-28');
      assert.equal(cell('1_report_identification', 'Ending date of reporting period').value, '2030-03-31');
      const provider = cell('1_report_identification', 'Name of the service provider');
      assert.equal(provider.section, '1.1');
      assert.equal(provider.value, '');
      assert.match(provider.context, /^Not collected by Bulwark/);
      // 1.2 Member State orders, for all Member States and for each.
      const orders = (indicator: string, scope: string, category = 'TOTAL') => cell('3_member_states_orders', indicator, { category, scope });
      assert.equal(orders('Number of orders to act against illegal content received', 'TOTAL').value, '2');
      assert.equal(orders('Number of orders to act against illegal content received', 'TOTAL').section, '1.2.1');
      assert.equal(orders('Number of orders to provide information', 'TOTAL').section, '1.2.2');
      assert.equal(orders('Number of orders to act against illegal content received', 'DE').value, '1');
      assert.equal(orders('Number of orders to provide information', 'DE').value, '1');
      assert.equal(orders('Number of orders to act against illegal content received', 'FR', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS').value, '1');
      assert.equal(orders('Median time to give effect to the order to act against illegal content', 'TOTAL').value, '6');
      assert.equal(orders('Median time to give effect to the order to provide information', 'TOTAL').value, '', 'no information order was given effect');
      const items = orders('Number of specific items of information included in the total number of orders to act against illegal content', 'TOTAL');
      assert.equal(items.value, '');
      assert.match(items.context, /^Not collected by Bulwark/);
      // 1.3 Notices, by category: Bulwark's own category names land on the template's rows.
      const notices = (indicator: string, category = 'TOTAL') => cell('4_notices', indicator, { category });
      assert.equal(notices('Number of notices received').value, '3');
      assert.equal(notices('Number of notices received').section, '1.3');
      assert.equal(notices('Number of notices received').applicability, 'Only for providers of hosting services, including online platforms');
      assert.equal(notices('Number of notices received from Trusted flaggers').value, '1');
      assert.equal(notices('Number of specific items of information included in the total number of notices').value, '3');
      assert.equal(notices('Number of notices received', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS').value, '2');
      const unspecified = notices('Number of notices received', 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE');
      assert.equal(unspecified.value, '1');
      assert.match(unspecified.context, /term-alpha \(1\)/);
      assert.equal(notices('Number of actions taken on the basis of the law').value, '0', 'the dismissal is no action');
      assert.equal(notices('Median time to take action').value, '');
      // 1.5.1 Complaints: totals, outcomes and medians, by what the complaint is about.
      const complaints = (indicator: string, scope: string) => cell('7_appeals_and_recidivism', indicator, { scope });
      const submitted = 'Number of complaints submitted to the internal-complaints mechanism';
      assert.equal(complaints(submitted, 'Total number').value, '6');
      assert.equal(complaints(submitted, 'Total number').applicability, 'All');
      assert.equal(complaints(submitted, 'Decisions upheld').value, '3');
      assert.equal(complaints(submitted, 'Decisions reversed').value, '1');
      assert.equal(complaints(submitted, 'Median time').value, '22');
      assert.match(complaints(submitted, 'Decision omitted').context, /2 complaint\(s\) received in the period were still pending/);
      const appealed = await bulwark.sql.query(`SELECT 1 FROM dsa_statements WHERE decision_id = $1 AND payload ? 'decision_visibility'`, [decision.rows[0].id]);
      assert.ok(appealed.rows.length > 0, 'the appealed decision removed content');
      const removal = 'Complaint regarding a decision to remove or disable access to or restrict visibility of information';
      assert.equal(complaints(removal, 'Total number').value, '5');
      assert.equal(complaints(removal, 'Decisions reversed').value, '1');
      assert.equal(complaints(removal, 'Median time').value, '20');
      assert.equal(complaints('Complaint regarding a decision to suspend or terminate an account', 'Total number').value, '0');
      assert.equal(complaints('Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16', 'Total number').value, '1');
      assert.equal(complaints('Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16', 'Median time').value, '24');
      assert.match(complaints('Number of disputes submitted to out-of-court dispute settlement bodies', 'Total number').context, /^Not collected by Bulwark/);
      assert.equal(complaints('Number of suspensions enacted for the provision of manifestly illegal content', 'Total number').value, '0');
      // 1.6 Automated means: the dismissal of the trusted flagger's notice was a reviewer's.
      const automated = (indicator: string, scope: string) => cell('8_automated_means', indicator, { scope });
      assert.equal(automated('Number of notices not processed by automated means', 'NAM Trusted Flagger').value, '1');
      assert.equal(automated('Number of notices solely processed by automated means', 'NAM Total').value, '0');
      assert.match(automated('Accuracy of the automated means - Precision', 'Total number').context, /^Not collected by Bulwark/);
      // 1.7 Human resources: asked of very large platforms, not held.
      const moderators = cell('9_human_resources', 'Number of internal moderators employed by the provider');
      assert.equal(moderators.section, '1.7');
      assert.equal(moderators.value, '');
      assert.equal(report.figures.annex_i.length, rows.length, 'the JSON carries the same rows');
      assert.match(report.html, /<figure class="chart" aria-label="Notices by category">/);
      assert.match(report.html, /<div class="chart-label">Protection of minors<\/div>/, 'categories under their labels, not their codes');
      assert.match(report.html, /<figure class="chart" aria-label="Appeal outcomes">/);
      assert.match(report.html, /From 28 February 2030, 23:00 UTC up to, not including, 31 March 2030, 22:00 UTC/);
      assert.equal(f.labels.protection_of_minors, 'Protection of minors');
      assert.equal(f.labels.DE, 'Germany (DE)');
      assert.equal(f.labels.act_against_illegal_content, 'Order to act against illegal content');
      assert.match(report.html, /Median handling time<\/th><td>22 h/);
      assert.match(report.html, /<li>1.7 Number of internal moderators employed by the provider<\/li>/);
      assert.doesNotMatch(report.html, /<script|https?:\/\/(?!example)/);

      // The whole-history period sees the earlier tests' restrictions, split by means.
      const everything = await statements.transparencyReport({ from: new Date('2020-01-01T00:00:00Z'), to: new Date(Date.now() + 60_000) });
      assert.ok(everything.figures.decisions.automated >= 1);
      assert.ok(everything.figures.decisions.human >= 3);
      assert.ok(everything.figures.account_suspensions >= 2);
      const [, ...allRows] = parseRfc4180(everything.csv);
      const value = (part: string, indicator: string, category: string, keyword = '', scope = '') =>
        Number(allRows.find((row) => row[2] === part && row[8] === indicator && row[5] === category && row[6] === keyword && row[7] === scope)?.[9] ?? Number.NaN);
      // 1.4 Own initiative: the rule's removal was on the terms, the reviewer's confirmation under the csam policy on the law.
      assert.ok(value('6_own_initiative_TC', 'Visibility restriction Removal', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS') >= 1);
      assert.ok(value('6_own_initiative_TC', 'Number of measures taken after detection with solely automated means', 'TOTAL') >= 1);
      assert.ok(value('5_own_initiative_illegal', "Number of measures taken at the provider's own initiative", 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL') >= 1);
      // The noticed account's suspension came from a notice, not from Bulwark's own initiative; it counts with the suspensions.
      assert.ok(value('4_notices', 'Number of actions taken on the basis of the law', 'TOTAL') >= 1);
      assert.ok(value('7_appeals_and_recidivism', 'Number of suspensions enacted for the provision of manifestly illegal content', '', '', 'Total number') >= 2);
      assert.ok(value('8_automated_means', 'Number of measures solely taken by automated means', '', '', 'Total number') >= 1);
      assert.ok(value('8_automated_means', 'Number of measures not taken by automated means', '', '', 'Total number') >= 3);
    });

    it('writes the same cells as the Commission\'s CSV parts: their headers, all their rows in their order, the figures in the right cells', async () => {
      // The period seeded by the test above.
      const report = await service().transparencyReport({ from: new Date('2030-03-01T00:00:00+01:00'), to: new Date('2030-04-01T00:00:00+02:00') });
      assert.deepEqual(report.template.map((part) => part.number), [1, 3, 4, 5, 6, 7, 8, 9, 10]);
      const parts = new Map<number, { header: string[]; rows: string[][] }>();
      for (const part of report.template) {
        const expected = COMMISSION_HEADERS[part.number];
        assert.equal(part.file_name, expected.file);
        assert.ok(part.csv.startsWith(`${expected.header}\r\n`), `part ${part.number}: the header is the Commission's, byte for byte`);
        assert.doesNotMatch(part.csv.replace(/\r\n/g, ''), /[\r\n]/, 'no bare line breaks');
        const [header, ...rows] = parseRfc4180(part.csv);
        assert.equal(rows.length, ROW_COUNTS[part.number], `part ${part.number} row count`);
        for (const row of rows) assert.equal(row.length, header.length, `part ${part.number}: ${row.join('|')}`);
        if (part.number !== 1) assert.ok(rows.every((row) => row[2] === '2030-02-28/2030-03-31'), `part ${part.number}: the reporting period`);
        parts.set(part.number, { header, rows });
      }
      const part = (n: number) => parts.get(n)!;
      const column = (n: number, label: string) => {
        const index = part(n).header.indexOf(label);
        assert.ok(index >= 0, `part ${n} has a column ${JSON.stringify(label)}`);
        return index;
      };

      // Part 1: the dates; the provider's name and publication dates are the operator's.
      assert.deepEqual(part(1).rows.map((row) => [row[2], row[3]]), [
        ['Name of the service provider', ''], ['Date of the publication of the report', ''], ['Date of the publication of the latest previous report', ''],
        ['Starting date of reporting period', '2030-02-28'], ['Ending date of reporting period', '2030-03-31'],
      ]);

      // Part 3: a TOTAL block, then one block per Member State from AT to SE; DE and FR sent the seeded orders.
      const orders = part(3).rows;
      assert.deepEqual(orders[0].slice(0, 6), ['All', '', '2030-02-28/2030-03-31', 'TOTAL', '', 'TOTAL']);
      assert.deepEqual([orders[90][3], orders[90][5]], ['STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER', 'TOTAL']);
      assert.deepEqual([orders[91][3], orders[91][5]], ['TOTAL', 'AT']);
      assert.deepEqual([orders.at(-1)![3], orders.at(-1)![5]], ['STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER', 'SE']);
      assert.equal(orders.filter((row) => row[3] === 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE').length, 1, 'only the TOTAL block lists this keyword, as the template does');
      const order = (category: string, scope: string, label: string) => orders.find((row) => row[3] === category && row[5] === scope)![column(3, label)];
      const actReceived = 'Number of orders to act against illegal content received';
      assert.equal(order('TOTAL', 'TOTAL', actReceived), '2');
      assert.equal(order('TOTAL', 'TOTAL', 'Median time to give effect to the order to act against illegal content'), '6');
      assert.equal(order('TOTAL', 'DE', actReceived), '1');
      assert.equal(order('TOTAL', 'DE', 'Number of orders to provide information'), '1');
      assert.equal(order('STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'FR', actReceived), '1');
      assert.equal(order('TOTAL', 'AT', actReceived), '', 'a Member State without orders is left empty');
      assert.match(order('TOTAL', 'TOTAL', 'Contextual information on number of specific items of information included in the total number of orders to act against illegal content'), /^Not collected by Bulwark/);

      // Part 4: TOTAL first, the unspecified category last, Bulwark's categories on the template's rows.
      const notices = part(4).rows;
      assert.equal(notices[0][3], 'TOTAL');
      assert.equal(notices.at(-1)![3], 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE');
      assert.equal(notices[0][0], 'Only for providers of hosting services, including online platforms');
      const notice = (category: string, label: string) => notices.find((row) => row[3] === category)![column(4, label)];
      assert.equal(notice('TOTAL', 'Number of notices received '), '3');
      assert.equal(notice('TOTAL', 'Number of notices received from Trusted flaggers'), '1');
      assert.equal(notice('TOTAL', 'Number of specific items of information included in the total number of notices'), '3');
      assert.equal(notice('STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'Number of notices received '), '2');
      assert.equal(notice('STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE', 'Number of notices received '), '1');
      assert.match(notice('STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE', 'Contextual information on Number of notices received '), /term-alpha \(1\)/);
      assert.equal(notice('STATEMENT_CATEGORY_ANIMAL_WELFARE', 'Number of notices received '), '');
      // The "Other" keyword rows keep the template's placeholder: Bulwark has nothing to say about them.
      for (const n of [3, 4, 5, 6]) {
        const others = part(n).rows.filter((row) => row[3] === 'KEYWORD_OTHER');
        assert.ok(others.length > 0 && others.every((row) => row[4] === 'Text to detail the "Other" keyword.'), `part ${n}`);
        assert.ok(part(n).rows.filter((row) => row[3] !== 'KEYWORD_OTHER').every((row) => row[4] === ''), `part ${n}: no other row has a description`);
      }

      // Parts 5 and 6 list the same categories; 6 adds the terms-only one last.
      assert.deepEqual([part(5).rows[0][3], part(5).rows.at(-1)![3]], ['TOTAL', 'KEYWORD_OTHER']);
      assert.equal(part(6).rows.at(-8)![3], 'STATEMENT_CATEGORY_OTHER_VIOLATION_TC');
      assert.deepEqual(part(5).rows.map((row) => row[3]), part(6).rows.slice(0, -8).map((row) => row[3]));

      // Part 7: one row per indicator and scope.
      const complaint = (indicator: string, scope: string) => part(7).rows.find((row) => row[4] === indicator && row[5] === scope)!;
      const submitted = 'Number of complaints submitted to the internal-complaints mechanism';
      assert.deepEqual(complaint(submitted, 'Total number').slice(0, 7), ['All', '', '2030-02-28/2030-03-31', 'Internal complaints mechanism', submitted, 'Total number', '6']);
      assert.equal(complaint(submitted, 'Median time')[6], '22');
      assert.equal(complaint('Complaint regarding a decision to suspend or terminate an account ', 'Total number')[6], '0', 'the template\'s label, trailing space included');
      assert.equal(complaint('Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16', 'Median time')[6], '24');
      assert.equal(part(7).rows.at(-1)![4], 'Number of suspensions enacted for the provision of manifestly unfounded complaints');

      // Part 8: the figures for all providers, and the very large platforms' per-language rows, not collected.
      const automated = (indicator: string, scope: string) => part(8).rows.find((row) => row[4] === indicator && row[5] === scope)!;
      assert.equal(automated('Number of notices not processed by automated means', 'NAM Trusted Flagger')[6], '1');
      assert.equal(automated('Number of measures solely taken by automated means ', 'Own-initiative ')[6], '0');
      assert.deepEqual(automated('Accuracy of the automated means - Recall', 'sv').slice(0, 1), ['Only for VLOPs']);
      assert.match(automated('Accuracy of the automated means - Recall', 'sv')[7], /^Not collected by Bulwark/);

      // Parts 9 and 10: very large platforms only; empty values, and the note where there is a column for it.
      assert.ok(part(9).rows.every((row) => row[6] === '' && /^Not collected by Bulwark/.test(row[7])));
      assert.deepEqual(part(9).rows.map((row) => row[5]).slice(2, 4), ['Total number', 'bg']);
      assert.deepEqual(part(10).rows.map((row) => row[5]).slice(0, 2), ['TOTAL', 'AT']);
      assert.equal(part(10).rows.at(-1)![5], 'SE');
      assert.ok(part(10).rows.every((row) => row.length === 7 && row[6] === ''));

      // Every figure and note of the long CSV is in its cell of the parts, found here by the template's own labels.
      const [longHeader, ...longRows] = parseRfc4180(report.csv);
      const at = (name: string) => longHeader.indexOf(name);
      const numberOf = (templatePart: string) => Number(templatePart.split('_')[0]);
      let compared = 0;
      for (const row of longRows) {
        const value = row[at('Value')];
        const context = row[at('Contextual information')];
        if (value === '' && context === '') continue;
        const n = numberOf(row[at('Template part')]);
        const { header, rows } = part(n);
        const indicator = row[at('Indicator')];
        const keyword = row[at('Keyword')];
        const code = keyword || row[at('Category')];
        let target: string[] | undefined;
        let valueIndex: number;
        let contextIndex: number;
        if (n === 1) {
          target = rows.find((candidate) => candidate[2] === indicator);
          valueIndex = 3;
          contextIndex = -1;
        } else if (n <= 6) {
          // A keyword row follows its category's row: look below the category within the block.
          const block = rows.filter((candidate) => n !== 3 || candidate[5] === row[at('Scope')]);
          const categoryIndex = block.findIndex((candidate) => candidate[3] === row[at('Category')]);
          target = keyword ? block.slice(categoryIndex + 1).find((candidate) => candidate[3] === code) : block[categoryIndex];
          valueIndex = header.findIndex((label) => label.trim() === indicator);
          contextIndex = header.findIndex((label) => /^Contextual information on /i.test(label) && label.slice('Contextual information on '.length).trim().toLowerCase() === indicator.toLowerCase());
        } else {
          target = rows.find((candidate) => candidate[4].trim() === indicator && candidate[5].trim() === row[at('Scope')]);
          valueIndex = 6;
          contextIndex = header.length > 7 ? 7 : -1;
        }
        assert.ok(target, `part ${n} has a row for ${code} ${row[at('Scope')]} ${indicator}`);
        assert.ok(valueIndex >= 0, `part ${n} has a column for ${indicator}`);
        assert.equal(target[valueIndex], value, `part ${n} ${code} ${indicator}`);
        if (contextIndex >= 0) assert.equal(target[contextIndex], context, `part ${n} ${code} ${indicator} contextual information`);
        compared++;
      }
      assert.ok(compared > 100, `${compared} long-CSV cells compared`);
    });
  });
}

describe('bulwark dsa transparency-report --template-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-template-'));
  const dataDir = join(dir, 'data');
  const out = join(dir, 'out', 'parts');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one file per template part under the Commission\'s names and says which', async () => {
    // A store on disk with one notice in the period, seeded and closed before the command opens it.
    const seeded = await openBulwark({ dataDir, bankRefreshMs: 0, dispatchActions: false });
    try {
      await seeded.sql.query(
        `INSERT INTO notices (explanation, locations, category, good_faith, channel, received_at) VALUES ('placeholder', ARRAY['https://example.test/a', 'https://example.test/b'], 'csam', true, 'api', '2031-01-10T00:00:00Z')`,
      );
    } finally {
      await seeded.close();
    }
    const run = spawnSync(process.execPath, [resolve(import.meta.dirname, '..', 'bin', 'bulwark.js'), '--data-dir', dataDir, 'dsa', 'transparency-report', '--from', '2031-01-01T00:00:00Z', '--to', '2031-02-01T00:00:00Z', '--template-dir', out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const names = Object.values(COMMISSION_HEADERS).map((expected) => expected.file);
    assert.deepEqual(run.stdout.trim().split('\n'), names.map((name) => `wrote ${join(out, name)}`));
    assert.deepEqual(readdirSync(out).sort(), [...names].sort());
    for (const [number, expected] of Object.entries(COMMISSION_HEADERS)) {
      const text = readFileSync(join(out, expected.file), 'utf8');
      assert.ok(text.startsWith(`${expected.header}\r\n`), expected.file);
      assert.equal(parseRfc4180(text).length - 1, ROW_COUNTS[Number(number)], expected.file);
    }
    const [header, ...rows] = parseRfc4180(readFileSync(join(out, COMMISSION_HEADERS[4].file), 'utf8'));
    const received = header.indexOf('Number of notices received ');
    const items = header.indexOf('Number of specific items of information included in the total number of notices');
    const row = (code: string) => rows.find((candidate) => candidate[3] === code)!;
    assert.deepEqual([row('TOTAL')[2], row('TOTAL')[received], row('TOTAL')[items]], ['2031-01-01/2031-01-31', '1', '2']);
    assert.equal(row('KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL')[received], '1', 'Bulwark\'s csam category on its keyword row');
    assert.equal(row('STATEMENT_CATEGORY_PROTECTION_OF_MINORS')[received], '1');
  });
});

describe('the template parts as a pivot of the long CSV', () => {
  const cell = (scope: string, keyword: string, indicator = 'Number of orders to act against illegal content received') => ({
    section: '1.2.1', section_title: 'orders', template_part: '3_member_states_orders', applicability: 'All',
    category: 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS', keyword, scope, indicator, value: 1, contextual_information: '',
  });
  const ordersPart = (annex: ReturnType<typeof cell>[]) => templatePartFiles({ reporting_period: '2031-01-01/2031-01-31', annex_i: annex }).find((part) => part.number === 3)!;

  it('notes a keyword the template has no Member State row for on its category row, and gives a code outside the EU 27 its own block after SE', () => {
    const part = ordersPart([cell('DE', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE'), cell('NO', '')]);
    const category = part.rows.find((row) => row[5] === 'DE' && row[3] === 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS')!;
    assert.equal(category[part.header.indexOf('Number of orders to act against illegal content received')], '');
    assert.match(category[part.header.indexOf('Contextual information on number of orders to act against illegal content received')], /no KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE row here; for it: 1/);
    const states = [...new Set(part.rows.map((row) => row[5]))];
    assert.deepEqual(states.slice(-3), ['ES', 'SE', 'NO']);
    assert.equal(part.rows.find((row) => row[5] === 'NO' && row[3] === 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS')![6], '1');
  });

  it('refuses a long-CSV cell that has no place in the parts, so the two cannot drift apart', () => {
    assert.throws(() => ordersPart([cell('TOTAL', '', 'An indicator the template does not have')]), /no cell in part 3/);
  });
});
