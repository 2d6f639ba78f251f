import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { transparencyFigures } from '../src/reporting/dsa/transparency-report.ts';
import { CyberTiplineClient, type CyberTiplineApi } from '../src/reporting/ncmec/client.ts';
import { type NcmecConfig, type NcmecReporterConfig, ncmecConfig, ncmecConfigFromEnv } from '../src/reporting/ncmec/config.ts';
import { NcmecReportService } from '../src/reporting/ncmec/report-service.ts';
import { REPORT } from '../src/reporting/ncmec/schema.ts';
import { validateDocument } from '../src/reporting/ncmec/validator.ts';
import { childText, parseXml, type XmlElement } from '../src/reporting/ncmec/xml.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { NcmecServer } from './helpers/ncmec-server.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

/** Placeholder reporter data: configuration, never code, supplies the real values. */
const REPORTER: NcmecReporterConfig = { espName: 'Example Platform', firstName: 'Pat', lastName: 'Placeholder', email: 'reports@platform.example' };
const HOUR = 3_600_000;

const find = (element: XmlElement, path: string): XmlElement | undefined =>
  path.split('/').reduce<XmlElement | undefined>((current, name) => current?.children.find((child) => child.name === name), element);

describe('NCMEC report settings', () => {
  it('reads the group window, quality floor, hold limit and policy annotations from the environment, and refuses nonsense', () => {
    const config = ncmecConfigFromEnv({
      BULWARK_NCMEC_GROUP_WINDOW: '30m',
      BULWARK_NCMEC_QUALITY_FLOOR: '60',
      BULWARK_NCMEC_MAX_HOLD: '12h',
      BULWARK_NCMEC_POLICY_ANNOTATIONS: 'policy-alpha=sextortion+minorToMinorInteraction, policy-beta=csamSolicitation',
    });
    assert.equal(config.groupWindowMs, 30 * 60_000);
    assert.equal(config.qualityFloor, 60);
    assert.equal(config.maxHoldMs, 12 * HOUR);
    assert.deepEqual(config.policyAnnotations, { 'policy-alpha': ['sextortion', 'minorToMinorInteraction'], 'policy-beta': ['csamSolicitation'] });
    const defaults = ncmecConfigFromEnv({});
    assert.deepEqual([defaults.groupWindowMs, defaults.qualityFloor, defaults.maxHoldMs], [HOUR, 0, 24 * HOUR]);
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_QUALITY_FLOOR: '101' }), /0 to 100/);
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_MAX_HOLD: 'soon' }), /duration/);
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_POLICY_ANNOTATIONS: 'policy-alpha=urgent' }), /annotations are sextortion/);
  });

  it('has CLI commands for the figures and a lead’s confirmation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-ncmec-cli-'));
    try {
      const run = (...args: string[]) => spawnSync(process.execPath, [resolve(import.meta.dirname, '..', 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), ...args], { encoding: 'utf8', cwd: dir });
      const stats = run('--json', 'ncmec', 'stats', '--from', '2030-01-01T00:00:00Z', '--to', '2030-02-01T00:00:00Z');
      assert.equal(stats.status, 0, stats.stderr);
      assert.deepEqual(JSON.parse(stats.stdout), {
        period: { from: '2030-01-01T00:00:00.000Z', to: '2030-02-01T00:00:00.000Z' },
        sent: 0, median_completeness: null, median_hours_decision_to_submission: null, sent_unconfirmed_after_max_hold: 0, retractions: 0,
      });
      const noLead = run('ncmec', 'confirm', '1', '--lead', 'nobody');
      assert.notEqual(noLead.status, 0);
      assert.match(noLead.stderr, /no reviewer named "nobody"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const target of targets) {
  describe(`NCMEC reports per offender, quality and figures (${target.name})`, () => {
    let bulwark: Bulwark;
    let server: NcmecServer;
    let reviewer: Reviewer;
    let lead: Reviewer;
    const mediaKey = randomBytes(32).toString('hex');
    let clock = new Date();
    let seed = 500;

    const service = (config: Partial<NcmecConfig> = {}, api?: CyberTiplineApi) =>
      new NcmecReportService(bulwark.sql, bulwark.audit, bulwark.events, {
        config: ncmecConfig({ baseUrl: server.url, username: server.username, password: server.password, reporter: REPORTER, ...config }),
        mediaKey,
        api,
        now: () => clock,
        random: () => 0,
        deadline: server.deadline,
      });

    /** Uploads a benign image that matches the bank and returns the case it opened. */
    const upload = async (contentId: string, accountId: string, createdAt: Date | null = new Date('2024-05-01T09:30:00.000Z')) => {
      const png = await encodeImage(shapesImage(seed++, 320, 240), 'png');
      const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
      await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq, source: 'test' });
      await bulwark.content.submit({ contentId, accountId, contentType: 'photo', media: png, createdAt: createdAt ?? undefined });
      await bulwark.rules.runner.drain();
      const [opened] = await bulwark.cases.list({ subject: { kind: 'content', id: contentId } });
      assert.ok(opened, `a case was opened for ${contentId}`);
      return opened.id;
    };
    const decide = async (caseId: number, options: { reveal?: boolean; verdict?: string; by?: Reviewer } = {}) => {
      const by = options.by ?? reviewer;
      await bulwark.cases.claim(caseId, by);
      if (options.reveal) await bulwark.cases.reveal(caseId, by);
      await bulwark.cases.decide(caseId, by, { verdict: options.verdict ?? 'confirm', policy: 'csam' });
      return caseId;
    };
    const decidedCase = async (contentId: string, accountId: string, options: { reveal?: boolean; createdAt?: Date | null } = {}) =>
      decide(await upload(contentId, accountId, options.createdAt), options);
    /** Sets when a case's decision was taken, so times measured from it are known exactly. */
    const decidedAt = async (caseId: number, at?: Date): Promise<Date> => {
      if (at) await bulwark.sql.query('UPDATE decisions SET decided_at = $2 WHERE case_id = $1', [caseId, at]);
      return new Date((await bulwark.sql.query<{ decided_at: Date }>('SELECT decided_at FROM decisions WHERE case_id = $1', [caseId])).rows[0].decided_at);
    };
    const documentOf = async (ncmec: NcmecReportService, id: number) => parseXml((await ncmec.get(id, { includeXml: true })).xml!);

    before(async () => {
      server = await new NcmecServer().start();
      // The API's own service has no credentials (it builds, holds and confirms; tests deliver with an injected clock).
      bulwark = await openBulwark({ ...target.location(), mediaKey, bankRefreshMs: 0, ncmec: ncmecConfig({ reporter: REPORTER, qualityFloor: 50 }) });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
      reviewer = await bulwark.reviewers.create({ username: 'rev-offender', password: 'correct horse battery', role: 'reviewer', teams: ['media-team', 'network-team'] });
      lead = await bulwark.reviewers.create({ username: 'lead-offender', password: 'correct horse battery', role: 'lead', teams: ['media-team', 'network-team'] });
    });
    after(async () => {
      await bulwark.close();
      await server.stop();
      await target.cleanup();
    });

    it('gathers an account’s confirmed uploads into one report, sends it when the group window ends, and opens a new one referencing it afterwards', async () => {
      const ncmec = service({ autoReport: true, groupWindowMs: HOUR });
      const consumer = ncmec.autoReporter();
      const first = await decidedCase('g-1', 'acct-g', { reveal: true });
      await consumer.drain();
      const [opened] = await ncmec.list({ accountId: 'acct-g' });
      const firstDecision = await decidedAt(first);
      assert.equal(opened.status, 'queued');
      assert.equal(opened.gather_until, new Date(Math.floor(firstDecision.getTime() / 1000) * 1000 + HOUR).toISOString(), 'due when the window after the first decision ends');
      const second = await decidedCase('g-2', 'acct-g', { createdAt: null });
      await consumer.drain();
      const reports = await ncmec.list({ accountId: 'acct-g' });
      assert.equal(reports.length, 1, 'the second decision supplements the unsent report');
      const gathered = reports[0];
      assert.deepEqual(gathered.case_ids, [first, second]);
      assert.deepEqual(gathered.files.map((f) => [f.content_id, f.case_id, f.viewed_by_esp, f.upload_time_source]), [['g-1', first, true, 'platform'], ['g-2', second, false, 'received']]);
      assert.deepEqual(gathered.history.map((h) => h.event), ['created', 'supplemented']);
      assert.deepEqual((await ncmec.createFromCase(second, 'cli')).report.id, gathered.id, 'asking again for a case returns its report');
      assert.match(childText(await documentOf(ncmec, gathered.id), 'additionalInfo')!, new RegExp(`Bulwark case ${first},.*Bulwark case ${second},`));

      clock = new Date(firstDecision.getTime() + HOUR - 60_000);
      assert.equal(await ncmec.submitDue(), 0, 'gathering: not due before the window ends');
      clock = new Date(firstDecision.getTime() + HOUR + 1000);
      assert.equal(await ncmec.submitDue(), 1);
      const sent = await ncmec.get(gathered.id);
      assert.equal(sent.status, 'submitted');
      const atNcmec = server.reports.get(sent.ncmec_report_id!)!;
      const details = new Map([...atNcmec.files.values()].map((file) => [childText(file.details!, 'originalFileName'), file.details!]));
      assert.deepEqual([...details.keys()].sort(), ['g-1.png', 'g-2.png'], 'one report carries both files');
      assert.equal(childText(details.get('g-1.png')!, 'fileViewedByEsp'), 'true');
      assert.equal(childText(details.get('g-2.png')!, 'fileViewedByEsp'), 'false');
      assert.equal(childText(details.get('g-1.png')!, 'uploadedToEspTimestamp'), '2024-05-01T09:30:00Z');

      const later = await decidedCase('g-3', 'acct-g');
      await consumer.drain();
      const after = await ncmec.list({ accountId: 'acct-g' });
      assert.equal(after.length, 2, 'a decision after sending opens a new report; the sent one is not touched');
      assert.deepEqual(after[0].case_ids, [first, second]);
      assert.deepEqual(after[1].case_ids, [later]);
      assert.deepEqual(after[1].files.map((f) => f.content_id), ['g-3'], 'material already reported is not repeated');
      const document = await documentOf(ncmec, after[1].id);
      assert.equal(childText(find(document, 'personOrUserReported')!, 'priorCTReports'), sent.ncmec_report_id, 'names the earlier report');
      assert.deepEqual(validateDocument(document, REPORT), []);
    });

    it('turns a network takedown into one report per member, each naming the others under one group identifier', async () => {
      const ncmec = service();
      await upload('n-1', 'acct-n1');
      await upload('n-2', 'acct-n2');
      const ids: number[] = [];
      for (const account of ['acct-n1', 'acct-n2', 'acct-n3']) {
        await bulwark.sql.query('INSERT INTO accounts (external_id) VALUES ($1) ON CONFLICT (external_id) DO NOTHING', [account]);
        ids.push((await bulwark.sql.query<{ id: number }>('SELECT id FROM accounts WHERE external_id = $1', [account])).rows[0].id);
      }
      const run = await bulwark.sql.query<{ id: number }>(`INSERT INTO detection_runs (started_at, parameters, stats) VALUES (now(), '{}', '{}') RETURNING id`);
      const network = await bulwark.sql.query<{ id: number }>(`INSERT INTO networks (run_id, member_count, summary) VALUES ($1, 3, '{}') RETURNING id`, [run.rows[0].id]);
      const networkId = Number(network.rows[0].id);
      for (const id of ids) await bulwark.sql.query(`INSERT INTO network_members (network_id, account_id, role, score, reasons) VALUES ($1, $2, 'member', 0.9, '[]')`, [networkId, id]);
      const opened = await bulwark.cases.open({ queue: 'networks', subject: { kind: 'network', id: String(networkId) }, severity: 'high', reason: { rule: 'manual', summary: 'test network' } });
      await bulwark.cases.claim(opened.id, reviewer);
      await bulwark.cases.decide(opened.id, reviewer, { verdict: 'takedown', policy: 'csam' });

      const { reports, created } = await ncmec.createFromCase(opened.id, 'cli');
      assert.equal(created, true);
      assert.deepEqual(reports.map((r) => r.account_id), ['acct-n1', 'acct-n2'], 'a member without material Bulwark holds gets no report of its own');
      for (const report of reports) {
        const document = await documentOf(ncmec, report.id);
        assert.deepEqual(validateDocument(document, REPORT), []);
        const person = find(document, 'personOrUserReported')!;
        assert.equal(childText(person, 'groupIdentifier'), `bulwark-network-${networkId}`);
        const others = ['acct-n1', 'acct-n2', 'acct-n3'].filter((account) => account !== report.account_id);
        assert.match(childText(person, 'additionalInfo')!, new RegExp(`each reported separately under the same group identifier: ${others.join(', ')}\\.`));
        assert.equal(report.quality.checks.find((c) => c.item === 'related_accounts')!.present, 1);
      }
      assert.equal((await ncmec.createFromCase(opened.id, 'cli')).created, false, 'asking again files nothing new');
    });

    it('scores each report, names what it lacks, holds one below the floor for a lead, and sends it unconfirmed once the hold limit passes', async () => {
      const ncmec = service({ qualityFloor: 50, maxHoldMs: 2 * HOUR });
      const viewed = (await ncmec.createFromCase(await decidedCase('q-1', 'acct-q1', { reveal: true }), 'cli')).report;
      // Applicable weights: 90 (no network). Present: account 10, upload time 10, viewed 20, hashes 5, incident 5 = 50.
      assert.equal(viewed.quality.score, 56);
      assert.equal(viewed.status, 'queued');
      assert.deepEqual(viewed.quality.missing.map((m) => m.item), ['account_identifiers', 'ip_addresses', 'location', 'annotations']);
      assert.equal(viewed.quality.checks.find((c) => c.item === 'related_accounts')!.present, null, 'not in a network: not applicable');

      const unseenCase = await decidedCase('q-2', 'acct-q2');
      const decided = await decidedAt(unseenCase);
      clock = new Date(decided.getTime() + 1000);
      const held = (await ncmec.createFromCase(unseenCase, 'cli')).report;
      assert.equal(held.quality.score, 33);
      assert.equal(held.status, 'held');
      assert.equal(held.needs_confirmation, true);
      assert.match(held.quality.missing.find((m) => m.item === 'files_viewed')!.detail, /1 of 1 file\(s\) not viewed/);
      assert.equal(held.hold_until, new Date(Math.floor(decided.getTime() / 1000) * 1000 + 2 * HOUR).toISOString());
      await assert.rejects(ncmec.retry(held.id, 'cli'), /held below the quality floor/);
      await assert.rejects(ncmec.confirm(held.id, reviewer), (error: Error & { kind?: string }) => error.kind === 'forbidden');
      await ncmec.submitDue();
      assert.equal((await ncmec.get(held.id)).status, 'held', 'not sent while held');

      const confirmed = await ncmec.confirm(held.id, lead);
      assert.equal(confirmed.status, 'queued');
      assert.equal(confirmed.confirmed_by, 'lead-offender');
      await ncmec.submitDue();
      assert.equal((await ncmec.get(held.id)).status, 'submitted');

      const lapsedCase = await decidedCase('q-3', 'acct-q3');
      const lapsedDecision = await decidedAt(lapsedCase);
      clock = new Date(lapsedDecision.getTime() + 1000);
      const lapsed = (await ncmec.createFromCase(lapsedCase, 'cli')).report;
      assert.equal(lapsed.status, 'held');
      clock = new Date(lapsedDecision.getTime() + 2 * HOUR - 60_000);
      await ncmec.submitDue();
      assert.equal((await ncmec.get(lapsed.id)).status, 'held', 'held until the limit');
      clock = new Date(lapsedDecision.getTime() + 2 * HOUR + 1000);
      await ncmec.submitDue();
      const sent = await ncmec.get(lapsed.id);
      assert.equal(sent.status, 'submitted', 'the limit wins over the floor: sent with what there is');
      assert.equal(sent.confirmed_by, null);
      const lapse = sent.history.find((h) => h.event === 'max_hold_reached')!;
      assert.deepEqual(lapse.detail, { completeness: 33, floor: 50 });
      assert.deepEqual(sent.history.map((h) => h.event), ['created', 'held_below_floor', 'max_hold_reached', 'submitted']);
      const around = await ncmec.figures(new Date(clock.getTime() - 1000), new Date(clock.getTime() + 1000));
      assert.equal(around.sent_unconfirmed_after_max_hold, 1, 'the figures count it');
    });

    it('never supplements a report being sent: a decision during delivery opens a new report that names the first', async () => {
      let submitted!: () => void;
      const submittedOnce = new Promise<void>((resolve) => (submitted = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const real = new CyberTiplineClient({ baseUrl: server.url, username: server.username, password: server.password, deadline: server.deadline });
      const stalled: CyberTiplineApi = {
        submit: async (xml) => {
          const answer = await real.submit(xml);
          submitted();
          await gate;
          return answer;
        },
        upload: (...args) => real.upload(...args),
        fileInfo: (xml) => real.fileInfo(xml),
        finish: (id) => real.finish(id),
        retract: (id) => real.retract(id),
      };
      const ncmec = service({}, stalled);
      const first = (await ncmec.createFromCase(await decidedCase('s-1', 'acct-s'), 'cli')).report;
      const delivering = ncmec.submitDue();
      await submittedOnce;
      const during = await ncmec.createFromCase(await decidedCase('s-2', 'acct-s'), 'cli');
      assert.equal(during.created, true, 'the report in flight is not changed');
      assert.notEqual(during.report.id, first.id);
      release();
      await delivering;
      const delivered = await ncmec.get(first.id);
      assert.equal(delivered.status, 'submitted');
      assert.deepEqual(delivered.files.map((f) => f.content_id), ['s-1']);
      // The delivery pass goes on to the second report; it was built before NCMEC numbered the first, and is sent naming it.
      const second = await ncmec.get(during.report.id, { includeXml: true });
      assert.equal(second.status, 'submitted');
      assert.deepEqual(second.files.map((f) => f.content_id), ['s-2']);
      const filed = server.reports.get(second.ncmec_report_id!)!;
      assert.equal(childText(find(filed.xml, 'personOrUserReported')!, 'priorCTReports'), delivered.ncmec_report_id);
      assert.deepEqual(validateDocument(filed.xml, REPORT), []);
      assert.equal(childText(find(parseXml(second.xml!), 'personOrUserReported')!, 'priorCTReports'), delivered.ncmec_report_id, 'the kept document is the one sent');
      assert.equal(server.finished().filter((r) => childText(find(r.xml, 'personOrUserReported')!, 'espIdentifier') === 'acct-s').length, 2, 'each filed once');
    });

    it('counts, per period, reports sent, their median completeness, the median time from decision to submission and retractions; the transparency report shows them', async () => {
      const ncmec = service();
      // Submissions are made far after their decisions (the clock is injected), in a period no earlier test reaches.
      const offset = 1000 * HOUR;
      const latest = (await bulwark.sql.query<{ at: Date }>('SELECT max(decided_at) AS at FROM decisions')).rows[0].at;
      clock = new Date(new Date(latest).getTime() + offset - HOUR);
      await ncmec.submitDue();
      const plan = [
        { content: 'f-1', account: 'acct-f1', reveal: true, hours: 2 },
        { content: 'f-2', account: 'acct-f2', reveal: false, hours: 4 },
        { content: 'f-3', account: 'acct-f3', reveal: true, hours: 6, fail: true },
      ];
      let base: Date | undefined;
      for (const step of plan) {
        const { report } = await ncmec.createFromCase(await decidedCase(step.content, step.account, { reveal: step.reveal }), 'cli');
        const decided = new Date(report.first_decided_at!);
        base ??= new Date(decided.getTime() + offset);
        clock = new Date(decided.getTime() + offset + (step.fail ? step.hours - 1 : step.hours) * HOUR);
        if (step.fail) {
          server.failNext('fileinfo', 500);
          await ncmec.submitDue();
          assert.equal((await ncmec.get(report.id)).status, 'retracted');
          clock = new Date(decided.getTime() + offset + step.hours * HOUR);
        }
        await ncmec.submitDue();
        assert.equal((await ncmec.get(report.id)).status, 'submitted');
      }
      const period = { from: base!, to: new Date(base!.getTime() + 24 * HOUR) };
      const figures = await ncmec.figures(period.from, period.to);
      assert.deepEqual(figures, {
        period: { from: period.from.toISOString(), to: period.to.toISOString() },
        sent: 3,
        median_completeness: 56,
        median_hours_decision_to_submission: 1004,
        sent_unconfirmed_after_max_hold: 0,
        retractions: 1,
      });
      const nextDay = await ncmec.figures(period.to, new Date(period.to.getTime() + 24 * HOUR));
      assert.equal(nextDay.sent, 0);
      assert.equal(nextDay.median_completeness, null);
      const dsa = await transparencyFigures(bulwark.sql, period.from, period.to);
      assert.deepEqual(dsa.ncmec, figures);
    });

    it('shows each report’s completeness and gaps in the API and the console, and lets a lead confirm one held below the floor', async () => {
      const app = await buildServer(bulwark);
      try {
        const auth = { authorization: `Bearer ${(await bulwark.apiKeys.create(`ncmec-${target.name}`)).key}` };
        const caseId = await decidedCase('h-1', 'acct-h1');
        const created = await app.inject({ method: 'POST', url: '/v1/ncmec/reports', headers: auth, payload: { case_id: caseId } });
        assert.equal(created.statusCode, 201, created.body);
        const report = created.json();
        assert.equal(report.status, 'held');
        assert.equal(report.needs_confirmation, true);
        assert.deepEqual({ score: report.quality.score, floor: report.quality.floor, below: report.quality.below_floor }, { score: 33, floor: 50, below: true });
        assert.ok(report.quality.missing.some((gap: { item: string }) => gap.item === 'files_viewed'));
        assert.deepEqual(report.reports.map((r: { id: number }) => r.id), [report.id]);
        const listed = (await app.inject({ url: '/v1/ncmec/reports?account=acct-h1', headers: auth })).json().reports;
        assert.deepEqual(listed.map((r: { id: number; quality: { score: number } }) => [r.id, r.quality.score]), [[report.id, 33]]);
        // The console shows leads the same completeness and gaps, and refuses reviewers.
        const session = async (username: string) => {
          const login = await app.inject({ method: 'POST', url: '/console/api/login', payload: { username, password: 'correct horse battery' } });
          assert.equal(login.statusCode, 200, login.body);
          const header = [login.headers['set-cookie']].flat().find((line) => line?.startsWith('bulwark_session='))!;
          return { cookie: header.split(';')[0], 'x-csrf-token': login.json().csrf_token as string };
        };
        const asLead = await session('lead-offender');
        const shown = await app.inject({ url: '/console/api/ncmec/reports', headers: { cookie: asLead.cookie } });
        assert.equal(shown.statusCode, 200, shown.body);
        const row = shown.json().reports.find((r: { id: number }) => r.id === report.id);
        assert.deepEqual(
          { score: row.quality.score, floor: row.quality.floor, needs: row.needs_confirmation, files: row.files, viewed: row.files_viewed, account: row.account_id },
          { score: 33, floor: 50, needs: true, files: 1, viewed: 0, account: 'acct-h1' },
        );
        assert.ok(row.quality.missing.some((gap: { item: string; detail: string }) => gap.item === 'files_viewed' && /not viewed/.test(gap.detail)));
        assert.equal(row.xml, undefined, 'never the document');
        assert.equal(shown.json().reports[0].id, Math.max(...shown.json().reports.map((r: { id: number }) => r.id)), 'newest first');
        const asReviewer = await session('rev-offender');
        assert.equal((await app.inject({ url: '/console/api/ncmec/reports', headers: { cookie: asReviewer.cookie } })).statusCode, 403);
        assert.equal((await app.inject({ method: 'POST', url: `/console/api/ncmec/reports/${report.id}/confirm`, headers: asReviewer })).statusCode, 403);
        assert.equal((await app.inject({ method: 'POST', url: `/console/api/ncmec/reports/${report.id}/confirm`, headers: { cookie: asLead.cookie } })).statusCode, 403, 'the CSRF token is required');

        const confirm = (payload: object) => app.inject({ method: 'POST', url: `/v1/ncmec/reports/${report.id}/confirm`, headers: auth, payload });
        assert.equal((await confirm({})).statusCode, 400);
        assert.equal((await confirm({ confirmed_by: 'rev-offender' })).statusCode, 403, 'a reviewer is not a lead');
        assert.equal((await confirm({ confirmed_by: 'nobody' })).statusCode, 404);
        const confirmed = await confirm({ confirmed_by: 'lead-offender' });
        assert.equal(confirmed.statusCode, 200, confirmed.body);
        assert.equal(confirmed.json().status, 'queued');
        assert.equal((await confirm({ confirmed_by: 'lead-offender' })).statusCode, 409, 'only a held report is confirmed');
        const second = (await app.inject({ method: 'POST', url: '/v1/ncmec/reports', headers: auth, payload: { case_id: await decidedCase('h-2', 'acct-h2') } })).json();
        assert.equal(second.status, 'held');
        const viaConsole = await app.inject({ method: 'POST', url: `/console/api/ncmec/reports/${second.id}/confirm`, headers: asLead });
        assert.equal(viaConsole.statusCode, 200, viaConsole.body);
        assert.deepEqual([viaConsole.json().status, viaConsole.json().confirmed_by], ['queued', 'lead-offender']);
        const stats = await app.inject({ url: '/v1/ncmec/stats?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z', headers: auth });
        assert.equal(stats.statusCode, 200, stats.body);
        assert.deepEqual(Object.keys(stats.json()), ['period', 'sent', 'median_completeness', 'median_hours_decision_to_submission', 'sent_unconfirmed_after_max_hold', 'retractions']);
        assert.equal((await app.inject({ url: '/v1/ncmec/stats?from=yesterday', headers: auth })).statusCode, 400);
      } finally {
        await app.close();
      }
    });

    it('marks the report annotations the deciding policy implies', async () => {
      const ncmec = service({ policyAnnotations: { csam: ['minorToMinorInteraction'] } });
      const { report } = await ncmec.createFromCase(await decidedCase('a-1', 'acct-a1', { reveal: true }), 'cli');
      const document = await documentOf(ncmec, report.id);
      assert.deepEqual(find(document, 'incidentSummary/reportAnnotations')!.children.map((c) => [c.name, c.text]), [['minorToMinorInteraction', 'true']]);
      assert.equal(report.quality.checks.find((c) => c.item === 'annotations')!.present, 1);
      assert.equal(report.quality.score, 61);
      assert.deepEqual(validateDocument(document, REPORT), []);
    });
  });
}
