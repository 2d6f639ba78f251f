import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import type { AccountDetails, AccountDetailsSource } from '../src/reporting/ncmec/account-details.ts';
import { ncmecConfig } from '../src/reporting/ncmec/config.ts';
import { NcmecReportService } from '../src/reporting/ncmec/report-service.ts';
import { WebhookAccountDetails } from '../src/reporting/ncmec/webhook-account-details.ts';
import { childText, serializeXml, type XmlElement } from '../src/reporting/ncmec/xml.ts';
import { validateWithXsd } from '../src/reporting/ncmec/xsd-validation.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import type { SqlClient } from '../src/store/sql.ts';
import { decideMatchedUpload, prepareReportingStore } from './helpers/ncmec-cases.ts';
import { NcmecServer } from './helpers/ncmec-server.ts';
import { type AccountDetailsAnswer, PlatformWebhook } from './helpers/platform-webhook.ts';
import { storeTargets } from './helpers/stores.ts';
import { NCMEC_XSD, xmllintSkipReason } from './helpers/xmllint.ts';

const skip = xmllintSkipReason();
const targets = await storeTargets();

const REPORTER = { espName: 'Example Platform', firstName: 'Pat', lastName: 'Placeholder', email: 'reports@platform.example', legalUrl: 'https://platform.example/legal' };

/** The tables (of this store) whose rows, as text, contain the value. */
async function tablesHolding(sql: SqlClient, value: string): Promise<string[]> {
  const tables = (await sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)).rows;
  assert.ok(tables.some((table) => table.table_name === 'ncmec_reports'), 'the scan sees Bulwark’s tables');
  const holding: string[] = [];
  for (const { table_name } of tables) {
    const found = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}" AS row WHERE strpos(row::text, $1) > 0`, [value]);
    if (Number(found.rows[0].n) > 0) holding.push(table_name);
  }
  return holding;
}

const personOrUserReported = (report: XmlElement) => report.children.find((child) => child.name === 'personOrUserReported')!;
const SUPPLIED = new Set(['personOrUserReportedPerson', 'screenName', 'displayName', 'profileUrl', 'ipCaptureEvent']);
/** The elements of a sent report that only the platform's details fill. */
const suppliedElements = (report: XmlElement) => personOrUserReported(report).children.filter((child) => SUPPLIED.has(child.name)).map((child) => child.name);

for (const target of targets) {
  describe(`CyberTipline reports with the platform’s account details (${target.name})`, { skip }, () => {
    let bulwark: Bulwark;
    let ncmecServer: NcmecServer;
    let platform: PlatformWebhook;
    let reviewer: Reviewer;
    let seed = 500;
    const secret = randomBytes(24).toString('base64url');
    const mediaKey = randomBytes(32).toString('hex');
    const logged: string[] = [];

    const service = (options: { deadline?: () => AbortSignal; accountDetails?: AccountDetailsSource } = {}) =>
      new NcmecReportService(bulwark.sql, bulwark.audit, bulwark.events, {
        config: ncmecConfig({ baseUrl: ncmecServer.url, username: ncmecServer.username, password: ncmecServer.password, reporter: REPORTER }),
        mediaKey,
        random: () => 0,
        deadline: ncmecServer.deadline,
        accountDetails: options.accountDetails ?? new WebhookAccountDetails({ url: platform.accountDetailsUrl, secret, deadline: options.deadline }),
        log: (line) => logged.push(line),
      });
    const reportFor = async (name: string, ncmec: NcmecReportService) => {
      const { caseId } = await decideMatchedUpload(bulwark, reviewer, seed++, `content-${name}`, `acct-${name}`);
      return (await ncmec.createFromCase(caseId, 'api-key:test')).report;
    };
    const sentReport = async (ncmec: NcmecReportService, id: number) => ncmecServer.reports.get((await ncmec.get(id)).ncmec_report_id!)!.xml;

    before(async () => {
      ncmecServer = await new NcmecServer().start();
      platform = await new PlatformWebhook(secret).start();
      bulwark = await openBulwark({ ...target.location(), mediaKey, bankRefreshMs: 0 });
      reviewer = await prepareReportingStore(bulwark, 'rev-details');
    });
    after(async () => {
      await bulwark.close();
      await platform.stop();
      await ncmecServer.stop();
      await target.cleanup();
    });

    it('asks the platform at report time, sends its identifiers and IP log to NCMEC, and stores none of them', async () => {
      const token = randomBytes(6).toString('hex');
      const answer = {
        account_id: 'acct-supplied',
        first_name: `first${token}`,
        emails: [{ address: `mail${token}@platform.example`, type: 'Home', verified: true }],
        phones: [{ number: `555 01${token.slice(0, 2).replace(/\D/g, '7')}`, type: 'Mobile', country_calling_code: '+1' }],
        screen_name: `screen${token}`,
        display_names: [`display${token}`],
        profile_urls: [`https://platform.example/u/${token}`],
        ip_events: [
          { ip_address: '198.51.100.23', event: 'Login', at: '2024-05-01T08:00:00Z', port: 50211 },
          { ip_address: '2001:db8::23', event: 'Upload', at: '2024-05-01T09:30:00Z', port: 50212, possible_proxy: false },
        ],
      };
      platform.detailsAnswer = { json: answer };
      const ncmec = service();
      const report = await reportFor('supplied', ncmec);
      assert.equal(await ncmec.submitDue(), 1);
      assert.equal((await ncmec.get(report.id)).status, 'submitted');

      const asked = platform.detailsRequests.at(-1)!;
      assert.deepEqual([asked.report_id, asked.case_id, asked.account_id, asked.content_ids, asked.incident_date_time], [report.id, report.case_id, 'acct-supplied', ['content-supplied'], '2024-05-01T09:30:00Z']);

      const sent = await sentReport(ncmec, report.id);
      assert.deepEqual(await validateWithXsd(serializeXml(sent), NCMEC_XSD), { kind: 'valid' }, 'the supplemented report validates against the published XSD');
      const reported = personOrUserReported(sent);
      const person = reported.children.find((child) => child.name === 'personOrUserReportedPerson')!;
      assert.equal(childText(person, 'firstName'), answer.first_name);
      assert.equal(childText(person, 'email'), answer.emails[0].address);
      assert.equal(childText(person, 'phone'), answer.phones[0].number);
      assert.equal(childText(reported, 'espIdentifier'), 'acct-supplied');
      assert.equal(childText(reported, 'screenName'), answer.screen_name);
      assert.equal(childText(reported, 'displayName'), answer.display_names[0]);
      assert.equal(childText(reported, 'profileUrl'), answer.profile_urls[0]);
      const events = reported.children.filter((child) => child.name === 'ipCaptureEvent');
      assert.deepEqual(
        events.map((event) => [childText(event, 'ipAddress'), childText(event, 'eventName'), childText(event, 'dateTime'), childText(event, 'possibleProxy'), childText(event, 'port')]),
        [['198.51.100.23', 'Login', '2024-05-01T08:00:00Z', undefined, '50211'], ['2001:db8::23', 'Upload', '2024-05-01T09:30:00Z', 'false', '50212']],
      );

      const values = [answer.first_name, answer.emails[0].address, answer.phones[0].number, answer.screen_name, answer.display_names[0], answer.profile_urls[0], '198.51.100.23', '2001:db8::23'];
      for (const value of values) assert.deepEqual(await tablesHolding(bulwark.sql, value), [], `no table holds ${value}`);
      assert.ok((await tablesHolding(bulwark.sql, 'acct-supplied')).includes('content'), 'the scan finds what Bulwark does hold');
      const kept = (await ncmec.documents(report.id)).find((document) => document.kind === 'report')!;
      assert.ok(!kept.document.includes(answer.screen_name), 'the kept copy is the report as Bulwark built it');

      const history = await ncmec.history(report.id);
      assert.deepEqual(history.map((entry) => entry.action), ['ncmec.report_created', 'ncmec.account_details_supplied', 'ncmec.report_submitted']);
      assert.deepEqual(history[1].detail, { report_id: report.id, attempt: 1, counts: { names: 1, emails: 1, phones: 1, screen_name: 1, display_names: 1, profile_urls: 1, ip_events: 2 }, stored: false });
    });

    it('sends the report with what Bulwark holds when the callback does not answer in time, and says so', async () => {
      platform.detailsAnswer = { hold: true };
      // The callback's deadline passes when the platform is holding the request (an event, not a
      // clock), and the platform answers only when released below: nothing races, however slow the machine.
      const whenHeld = () => {
        const deadline = new AbortController();
        void platform.detailsHeld().then(() => deadline.abort(new DOMException('the platform holds the request', 'TimeoutError')));
        return deadline.signal;
      };
      const ncmec = service({ deadline: whenHeld });
      const report = await reportFor('silent', ncmec);
      assert.equal(await ncmec.submitDue(), 1);
      const history = await ncmec.history(report.id);
      const unavailable = history.find((entry) => entry.action === 'ncmec.account_details_unavailable')!;
      assert.deepEqual(unavailable.detail, { report_id: report.id, attempt: 1, reason: 'timeout', sent_with: 'what Bulwark holds' });
      assert.equal((await ncmec.get(report.id)).status, 'submitted');
      const sent = await sentReport(ncmec, report.id);
      assert.equal(childText(personOrUserReported(sent), 'espIdentifier'), 'acct-silent');
      assert.deepEqual(suppliedElements(sent), []);
      assert.equal(platform.releaseHeldDetails(), 1, 'the platform had not answered before Bulwark gave up');
    });

    const nonsense: [string, AccountDetailsAnswer, RegExp][] = [
      ['not JSON', { raw: '<html>oops</html>' }, /^the answer is not JSON$/],
      ['the wrong shape', { json: { account_id: 'acct-wrong-shape', emails: 'someone', ip_events: [{ ip_address: '300.1.2.3', event: 'Login', at: 'yesterday' }] } }, /^invalid answer \(emails: invalid_type; ip_events\.0\.ip_address: custom; ip_events\.0\.at: invalid_format\)$/],
      ['another account', { json: { account_id: 'acct-someone-else' } }, /^the answer is about another account$/],
      ['HTTP 500', { status: 500 }, /^http 500$/],
      ['404', { status: 404 }, /no details for this account \(404\)/],
      ['a huge body', { raw: `{"account_id":"acct-huge","display_names":["${'x'.repeat(300 * 1024)}"]}` }, /larger than 262144 bytes/],
    ];
    for (const [name, answer, reason] of nonsense) {
      it(`sends the report with what Bulwark holds when the callback answers ${name}, and says so`, async () => {
        platform.detailsAnswer = answer;
        const ncmec = service();
        const report = await reportFor(name.replace(/\W+/g, '-'), ncmec);
        await ncmec.submitDue();
        assert.equal((await ncmec.get(report.id)).status, 'submitted');
        const unavailable = (await ncmec.history(report.id)).find((entry) => entry.action === 'ncmec.account_details_unavailable');
        assert.ok(unavailable, 'the history says the details were not supplied');
        assert.match(String(unavailable.detail.reason), reason);
        assert.deepEqual(suppliedElements(await sentReport(ncmec, report.id)), []);
      });
    }

    it('sends the report without details that would break the schema, and says which rule they broke', async () => {
      // A source other than the webhook (whose zod check already refuses this) hands over an email type the XSD does not know.
      const unchecked = { account_id: 'acct-breaking', emails: [{ address: 'breaking@platform.example', type: 'Secret' }], phones: [], display_names: [], profile_urls: [], ip_events: [] } as unknown as AccountDetails;
      const ncmec = service({ accountDetails: { lookUp: async () => ({ kind: 'supplied', details: unchecked }) } });
      const report = await reportFor('breaking', ncmec);
      await ncmec.submitDue();
      assert.equal((await ncmec.get(report.id)).status, 'submitted');
      const unavailable = (await ncmec.history(report.id)).find((entry) => entry.action === 'ncmec.account_details_unavailable')!;
      assert.equal(unavailable.detail.reason, 'the supplied details break the CyberTipline schema');
      assert.deepEqual(unavailable.detail.errors, ["line 18: <email> attribute type: the value breaks the schema's enumeration rule"]);
      assert.deepEqual(suppliedElements(await sentReport(ncmec, report.id)), []);
    });

    it('bounds the callback by its configured timeout', async () => {
      platform.detailsAnswer = { hold: true };
      // The platform never answers before the release below, so the timeout is the only possible outcome.
      const bounded = new WebhookAccountDetails({ url: platform.accountDetailsUrl, secret, timeoutMs: 50 });
      const outcome = await bounded.lookUp({ report_id: 1, case_id: 1, account_id: 'acct-x', content_ids: [], incident_date_time: '2024-05-01T09:30:00Z' });
      assert.deepEqual(outcome, { kind: 'unavailable', reason: 'timeout' });
      platform.releaseHeldDetails();
    });

    it('refuses an unsigned or forged request at the platform, so the signature is what it trusts', async () => {
      const forged = new WebhookAccountDetails({ url: platform.accountDetailsUrl, secret: 'not-the-shared-secret' });
      const refused = platform.refused.length;
      const outcome = await forged.lookUp({ report_id: 1, case_id: 1, account_id: 'acct-x', content_ids: [], incident_date_time: '2024-05-01T09:30:00Z' });
      assert.deepEqual(outcome, { kind: 'unavailable', reason: 'http 401' });
      assert.equal(platform.refused.length, refused + 1);
    });

    it('does not send a report the live schema rejects, says why in its history, and sends it once it validates', async () => {
      platform.detailsAnswer = { demo: true };
      ncmecServer.xsdAnswer = 'stricter';
      const ncmec = service();
      const report = await reportFor('stricter', ncmec);
      const submits = ncmecServer.calls.filter((call) => call.step === 'submit').length;
      await ncmec.submitDue();
      const refused = await ncmec.get(report.id, { includeXml: true });
      assert.equal(refused.status, 'invalid');
      assert.deepEqual(refused.validation_errors, ["line 4: <incidentType>: the value breaks the schema's enumeration rule"]);
      assert.equal(refused.last_error, 'report invalid against the CyberTipline schema');
      assert.equal(ncmecServer.calls.filter((call) => call.step === 'submit').length, submits, 'nothing reached NCMEC');
      assert.ok(refused.xml!.includes('<incidentType>'), 'the report is kept');
      const failed = (await ncmec.history(report.id)).find((entry) => entry.action === 'ncmec.report_failed_schema')!;
      assert.deepEqual(failed.detail, { report_id: report.id, attempt: 1, schema: 'live', errors: refused.validation_errors });

      ncmecServer.xsdAnswer = 'schema';
      const fixed = service();
      await fixed.retry(report.id, 'api-key:test');
      await fixed.submitDue();
      assert.equal((await fixed.get(report.id)).status, 'submitted');
      assert.deepEqual(logged, [], 'the live schema was fetched each time');
    });
  });
}
