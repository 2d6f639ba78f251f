import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { CyberTiplineClient, type CyberTiplineApi } from '../src/reporting/ncmec/client.ts';
import { type NcmecConfig, type NcmecReporterConfig, ncmecConfig, ncmecConfigFromEnv, NCMEC_TEST_URL } from '../src/reporting/ncmec/config.ts';
import { NcmecReportService, type NcmecReportServiceOptions } from '../src/reporting/ncmec/report-service.ts';
import { FILE_DETAILS, REPORT } from '../src/reporting/ncmec/schema.ts';
import { validateDocument } from '../src/reporting/ncmec/validator.ts';
import { childText, el, parseXml, serializeXml, textEl, type XmlElement } from '../src/reporting/ncmec/xml.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { validateWithXsd } from '../src/reporting/ncmec/xsd-validation.ts';
import { decideMatchedUpload, prepareReportingStore } from './helpers/ncmec-cases.ts';
import { NcmecServer } from './helpers/ncmec-server.ts';
import { storeTargets } from './helpers/stores.ts';
import { NCMEC_XSD, xmllintSkipReason } from './helpers/xmllint.ts';

const targets = await storeTargets();

/** Placeholder reporter data: configuration, never code, supplies the real values. */
const REPORTER: NcmecReporterConfig = {
  espName: 'Example Platform',
  firstName: 'Pat',
  lastName: 'Placeholder',
  email: 'reports@platform.example',
  phone: '+1 555 0100',
  legalUrl: 'https://platform.example/legal',
};

const find = (element: XmlElement, path: string): XmlElement | undefined =>
  path.split('/').reduce<XmlElement | undefined>((current, name) => current?.children.find((child) => child.name === name), element);

describe('CyberTipline schema validator', () => {
  const report = (...summary: XmlElement[]) =>
    el('report', {}, el('incidentSummary', {}, ...summary), el('reporter', {}, el('reportingPerson', {}, textEl('email', 'reports@platform.example'))));
  const type = textEl('incidentType', 'Child Pornography (possession, manufacture, and distribution)')!;
  const date = textEl('incidentDateTime', '2024-05-01T10:00:00Z')!;

  it('accepts a minimal report and names what is wrong with others', () => {
    assert.deepEqual(validateDocument(report(type, date), REPORT), []);
    assert.match(validateDocument(report(date, type), REPORT).join('\n'), /out of order/);
    assert.match(validateDocument(report(type), REPORT).join('\n'), /<incidentDateTime> is required/);
    assert.match(validateDocument(report(textEl('incidentType', 'Something Else')!, date), REPORT).join('\n'), /is not one of/);
    assert.match(validateDocument(report(type, textEl('incidentDateTime', '2024-05-01 10:00')!), REPORT).join('\n'), /not an ISO 8601 date-time/);
    assert.match(validateDocument(report(type, textEl('incidentDateTime', '2024-05-01T10:00:00')!), REPORT).join('\n'), /time zone/);
    const noEmail = el('report', {}, el('incidentSummary', {}, type, date), el('reporter', {}, el('reportingPerson', {}, textEl('firstName', 'Pat'))));
    assert.match(validateDocument(noEmail, REPORT).join('\n'), /reportingPerson: <email> is required/);
    const badEmail = el('report', {}, el('incidentSummary', {}, type, date), el('reporter', {}, el('reportingPerson', {}, textEl('email', 'not-an-address'))));
    assert.match(validateDocument(badEmail, REPORT).join('\n'), /not an email address/);
    assert.match(validateDocument(el('report', {}, el('incidentSummary', {}, type, date), el('reporter', {}, el('reportingPerson', {}, textEl('email', 'a@b.example'))), textEl('surprise', 'x')), REPORT).join('\n'), /<surprise> is not allowed/);
  });

  it('checks file details: required ids, booleans and the hash type attribute', () => {
    const details = (...children: XmlElement[]) => el('fileDetails', {}, textEl('reportId', '1'), textEl('fileId', 'f-1'), ...children);
    assert.deepEqual(validateDocument(details(textEl('fileViewedByEsp', true)!, textEl('originalFileHash', 'ab', { hashType: 'MD5' })!), FILE_DETAILS), []);
    assert.match(validateDocument(details(textEl('fileViewedByEsp', 'yes')!), FILE_DETAILS).join('\n'), /not true or false/);
    assert.match(validateDocument(details(textEl('originalFileHash', 'ab')!), FILE_DETAILS).join('\n'), /hashType is required/);
    assert.match(validateDocument(el('fileDetails', {}, textEl('fileId', 'f-1')), FILE_DETAILS).join('\n'), /<reportId> is required/);
  });

  it('escapes what it writes and refuses DOCTYPEs when reading', () => {
    const xml = serializeXml(el('a', { note: '"q" & <b>' }, textEl('b', `<x> & 'y' \u0001`)));
    const parsed = parseXml(xml);
    assert.equal(parsed.attributes.note, '"q" & <b>');
    assert.equal(childText(parsed, 'b'), `<x> & 'y' `);
    assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'), /DOCTYPE/);
  });

  it('reads its configuration from the environment, defaulting to NCMEC’s documented test endpoint', () => {
    const config = ncmecConfigFromEnv({ BULWARK_NCMEC_USERNAME: 'u', BULWARK_NCMEC_PASSWORD: 'p', BULWARK_NCMEC_REPORTER_EMAIL: 'r@platform.example' });
    assert.equal(config.baseUrl, NCMEC_TEST_URL);
    assert.equal(config.reporter.email, 'r@platform.example');
    assert.deepEqual(config.autoReportPolicies, ['csam']);
    assert.equal(ncmecConfigFromEnv({ BULWARK_NCMEC_URL: 'https://ispws.example/ispws' }).baseUrl, 'https://ispws.example/ispws');
  });
});

// The stand-in NCMEC validates every document with xmllint against the published XSD.
const skipSchema = xmllintSkipReason();

for (const target of targets) {
  describe(`NCMEC CyberTipline reports (${target.name})`, { skip: skipSchema }, () => {
    let bulwark: Bulwark;
    let server: NcmecServer;
    let reviewer: Reviewer;
    const mediaKey = randomBytes(32).toString('hex');
    let clock = new Date();
    let seed = 100;
    const images = new Map<string, Buffer>();

    const service = (config: Partial<NcmecConfig> = {}, options: Partial<NcmecReportServiceOptions> = {}) =>
      new NcmecReportService(bulwark.sql, bulwark.audit, bulwark.events, {
        config: ncmecConfig({ baseUrl: server.url, username: server.username, password: server.password, reporter: REPORTER, ...config }),
        mediaKey,
        now: () => clock,
        random: () => 0,
        // Calls end by event: answered calls are never cut short, and the stand-in passes the
        // deadline of a call it will never answer (no wall-clock timeout decides a test).
        deadline: server.deadline,
        ...options,
      });
    const advance = (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    };

    /** Uploads a benign image that matches the bank, and lets a reviewer decide its case. */
    const decidedCase = async (contentId: string, accountId: string, options: { reveal?: boolean; verdict?: string } = {}) => {
      const { caseId, png } = await decideMatchedUpload(bulwark, reviewer, seed++, contentId, accountId, options);
      images.set(contentId, png);
      return caseId;
    };

    before(async () => {
      server = await new NcmecServer().start();
      bulwark = await openBulwark({ ...target.location(), mediaKey, bankRefreshMs: 0 });
      reviewer = await prepareReportingStore(bulwark, 'rev-ncmec');
    });
    after(async () => {
      await bulwark.close();
      await server.stop();
      await target.cleanup();
    });

    it('builds a report that validates, says who reports whom, and marks a revealed file as viewed', async () => {
      const ncmec = service();
      const revealed = await decidedCase('content-1', 'acct-1', { reveal: true });
      const unseen = await decidedCase('content-2', 'acct-2');
      const { report, created } = await ncmec.createFromCase(revealed, 'api-key:test');
      assert.equal(created, true);
      assert.equal(report.status, 'queued');
      assert.equal((await ncmec.createFromCase(revealed, 'api-key:test')).created, false, 'one live report per case');
      const xml = (await ncmec.get(report.id, { includeXml: true })).xml!;
      assert.equal((await ncmec.get(report.id)).xml, undefined, 'the document only when asked for');
      const document = parseXml(xml);
      assert.deepEqual(await validateWithXsd(xml, NCMEC_XSD), { kind: 'valid' }, 'the report validates against NCMEC’s published XSD');
      assert.deepEqual(document.children.map((child) => child.name), ['incidentSummary', 'reporter', 'personOrUserReported', 'additionalInfo']);
      assert.equal(childText(find(document, 'incidentSummary')!, 'incidentType'), 'Child Pornography (possession, manufacture, and distribution)');
      assert.equal(childText(find(document, 'incidentSummary')!, 'incidentDateTime'), '2024-05-01T09:30:00Z');
      assert.equal(childText(find(document, 'reporter/reportingPerson')!, 'email'), REPORTER.email);
      assert.equal(childText(find(document, 'reporter')!, 'companyTemplate'), 'Reported by Example Platform.');
      assert.equal(childText(find(document, 'personOrUserReported')!, 'espIdentifier'), 'acct-1');
      assert.match(childText(document, 'additionalInfo')!, new RegExp(`Bulwark case ${revealed}, decision \\d+ \\(verdict confirm, policy csam\\)`));
      assert.match(childText(document, 'additionalInfo')!, /rules: verified-near-review.*verified \(pdq, distance 0\)/);
      assert.deepEqual(report.files.map((f) => [f.content_id, f.file_name, f.viewed_by_esp, f.media_held]), [['content-1', 'content-1.png', true, true]]);
      const other = (await ncmec.createFromCase(unseen, 'api-key:test')).report;
      assert.equal(other.files[0].viewed_by_esp, false, 'nobody opened this media');

      assert.equal(await ncmec.submitDue(), 2);
      const details = server.finished().map((r) => [...r.files.values()][0].details!);
      const viewed = new Map(details.map((d) => [childText(d, 'originalFileName'), childText(d, 'fileViewedByEsp')]));
      assert.deepEqual(Object.fromEntries(viewed), { 'content-1.png': 'true', 'content-2.png': 'false' });
      const first = details.find((d) => childText(d, 'originalFileName') === 'content-1.png')!;
      assert.equal(childText(first, 'uploadedToEspTimestamp'), '2024-05-01T09:30:00Z');
      assert.equal(find(first, 'originalFileHash')!.attributes.hashType, 'MD5');
      assert.deepEqual(find(first, 'details')!.children.map((pair) => childText(pair, 'name')), ['SHA-256', 'PDQ']);
    });

    it('never sends an invalid report, records why, and sends it once rebuilt with a corrected configuration', async () => {
      const caseId = await decidedCase('content-3', 'acct-3');
      const misconfigured = service({ reporter: { ...REPORTER, email: undefined } });
      const before = server.calls.length;
      const { report } = await misconfigured.createFromCase(caseId, 'api-key:test');
      assert.equal(report.status, 'invalid');
      assert.match(report.validation_errors.join('\n'), /reportingPerson: <email> is required/);
      assert.equal(await misconfigured.submitDue(), 0);
      assert.equal(server.calls.length, before, 'nothing reached NCMEC');
      const fixed = service();
      const retried = await fixed.retry(report.id, 'api-key:test');
      assert.equal(retried.status, 'queued');
      await fixed.submitDue();
      assert.equal((await fixed.get(report.id)).status, 'submitted');
    });

    it('runs the whole sequence: submit, upload the sealed bytes, file details, finish; and keeps what it sent', async () => {
      const ncmec = service();
      const caseId = await decidedCase('content-4', 'acct-4', { reveal: true });
      const { report } = await ncmec.createFromCase(caseId, 'cli');
      const mark = server.calls.length;
      await ncmec.submitDue();
      assert.deepEqual(server.calls.slice(mark).map((c) => [c.step, c.code]), [['submit', 0], ['upload', 0], ['fileinfo', 0], ['finish', 0]]);
      const done = await ncmec.get(report.id, { includeXml: true });
      assert.equal(done.status, 'submitted');
      assert.equal(done.attempts, 1);
      const atNcmec = server.reports.get(done.ncmec_report_id!)!;
      assert.equal(atNcmec.state, 'finished');
      const [file] = [...atNcmec.files.entries()];
      assert.ok(file[1].bytes.equals(images.get('content-4')!), 'the uploaded bytes are the sealed media');
      assert.equal(done.files[0].ncmec_file_id, file[0]);
      const documents = await ncmec.documents(report.id);
      assert.deepEqual(documents.map((d) => [d.kind, d.ncmec_report_id, d.ncmec_file_id]), [['report', done.ncmec_report_id, null], ['file_details', done.ncmec_report_id, file[0]]]);
      assert.equal(documents[0].document, done.xml);
      assert.equal(childText(parseXml(documents[1].document), 'reportId'), done.ncmec_report_id);
      await assert.rejects(bulwark.sql.query(`UPDATE ncmec_documents SET document = 'x' WHERE report_id = $1`, [report.id]), /append-only/);
      await assert.rejects(bulwark.sql.query(`DELETE FROM ncmec_documents WHERE report_id = $1`, [report.id]), /append-only/);
    });

    for (const [step, mode] of [['fileinfo', 500], ['upload', 'schema'], ['finish', 'timeout']] as const) {
      it(`retracts a report when ${step} fails (${mode}) and delivers it on a later attempt`, async () => {
        const ncmec = service();
        const caseId = await decidedCase(`content-${step}`, `acct-${step}`);
        const { report } = await ncmec.createFromCase(caseId, 'cli');
        server.failNext(step, mode);
        await ncmec.submitDue();
        const failed = await ncmec.get(report.id);
        assert.equal(failed.status, 'retracted');
        assert.match(failed.last_error!, new RegExp(`^${step} `));
        assert.match(failed.last_error!, mode === 500 ? /http=500/ : mode === 'schema' ? /code=4100/ : /timeout/);
        assert.equal(failed.retracted_report_ids.length, 1);
        assert.equal(server.reports.get(failed.retracted_report_ids[0])!.state, 'retracted');
        assert.equal(await ncmec.submitDue(), 0, 'not due before its backoff');
        advance(60 * 60_000);
        await ncmec.submitDue();
        const delivered = await ncmec.get(report.id);
        assert.equal(delivered.status, 'submitted');
        assert.equal(delivered.attempts, 2);
        assert.notEqual(delivered.ncmec_report_id, failed.retracted_report_ids[0]);
        assert.equal(server.reports.get(delivered.ncmec_report_id!)!.state, 'finished');
        assert.equal((await ncmec.documents(report.id)).filter((d) => d.kind === 'report').length, 2, 'both attempts’ documents are kept');
      });
    }

    it('keeps a report queued while NCMEC is unreachable and delivers it later', async () => {
      const ncmec = service();
      const caseId = await decidedCase('content-down', 'acct-down');
      const port = server.port;
      await server.stop();
      const { report } = await ncmec.createFromCase(caseId, 'cli');
      await ncmec.submitDue();
      const waiting = await ncmec.get(report.id);
      assert.equal(waiting.status, 'failed');
      assert.match(waiting.last_error!, /^submit network/);
      assert.ok(new Date(waiting.next_attempt_at!) > clock);
      await server.start(port);
      advance(60 * 60_000);
      await ncmec.submitDue();
      assert.equal((await ncmec.get(report.id)).status, 'submitted');
    });

    it('survives a process stopping mid-sequence: another takes over after the lease, retracts and resubmits', async () => {
      let uploadStarted!: () => void;
      const started = new Promise<void>((resolve) => (uploadStarted = resolve));
      let releaseUpload!: () => void;
      const gate = new Promise<void>((resolve) => (releaseUpload = resolve));
      const real = new CyberTiplineClient({ baseUrl: server.url, username: server.username, password: server.password, deadline: server.deadline });
      const stalled: CyberTiplineApi = {
        submit: (xml) => real.submit(xml),
        upload: async (...args) => {
          uploadStarted();
          await gate;
          return real.upload(...args);
        },
        fileInfo: (xml) => real.fileInfo(xml),
        finish: (id) => real.finish(id),
        retract: (id) => real.retract(id),
      };
      const first = service({}, { api: stalled });
      const caseId = await decidedCase('content-crash', 'acct-crash');
      const { report } = await first.createFromCase(caseId, 'cli');
      const stuck = first.submitDue();
      await started;
      const midway = await first.get(report.id);
      assert.equal(midway.status, 'submitting');
      const second = service();
      assert.equal(await second.submitDue(), 0, 'the lease holds the report');
      advance(11 * 60_000);
      assert.equal(await second.submitDue(), 1);
      const delivered = await second.get(report.id);
      assert.equal(delivered.status, 'submitted');
      assert.equal(delivered.retracted_report_ids.length, 1, 'the report the stopped process opened was retracted');
      assert.equal(server.reports.get(delivered.retracted_report_ids[0])!.state, 'retracted');
      releaseUpload();
      await stuck;
      const after = await second.get(report.id);
      assert.equal(after.status, 'submitted', 'the stale process cannot overwrite the outcome');
      assert.equal(after.ncmec_report_id, delivered.ncmec_report_id);
      assert.equal(server.finished().filter((r) => childText(r.xml, 'additionalInfo')!.includes(`Bulwark case ${caseId},`)).length, 1, 'filed once');
    });

    it('lets several processes deliver at once without filing a report twice', async () => {
      const cases = [await decidedCase('content-p1', 'acct-p1'), await decidedCase('content-p2', 'acct-p2'), await decidedCase('content-p3', 'acct-p3')];
      const one = service();
      const two = service();
      const ids = [];
      for (const caseId of cases) ids.push((await one.createFromCase(caseId, 'cli')).report.id);
      const [a, b] = await Promise.all([one.submitDue(), two.submitDue()]);
      assert.equal(a + b, 3);
      for (const id of ids) {
        const report = await one.get(id);
        assert.equal(report.status, 'submitted');
        assert.equal(report.attempts, 1);
      }
    });

    it('files reports by itself for confirmed cases of the configured policies, from case.decided', async () => {
      const ncmec = service({ autoReport: true });
      const confirmed = await decidedCase('content-auto', 'acct-auto');
      const dismissed = await decidedCase('content-dismissed', 'acct-dismissed', { verdict: 'dismiss' });
      const consumer = ncmec.autoReporter();
      await consumer.drain();
      const [auto] = await ncmec.list({ caseId: confirmed });
      assert.equal(auto.requested_by, 'auto:case.decided');
      assert.equal(auto.status, 'queued');
      assert.deepEqual(await ncmec.list({ caseId: dismissed }), []);
      await consumer.drain();
      assert.equal((await ncmec.list({ caseId: confirmed })).length, 1, 'handled once');
      await assert.rejects(ncmec.createFromCase(dismissed, 'cli'), /reportable verdicts/);
    });
  });
}
