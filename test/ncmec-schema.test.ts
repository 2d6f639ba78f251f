import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { demoAccountDetails, startDemoPlatform } from '../src/demo/demo-platform.ts';
import { ACCOUNT_DETAILS_ANSWER, type AccountDetails } from '../src/reporting/ncmec/account-details.ts';
import { buildFileDetailsDocument, buildReportDocument, type ReportFacts, type ReportFile } from '../src/reporting/ncmec/report-builder.ts';
import { ncmecConfigFromEnv } from '../src/reporting/ncmec/config.ts';
import { supplementReport } from '../src/reporting/ncmec/report-supplement.ts';
import { WebhookAccountDetails } from '../src/reporting/ncmec/webhook-account-details.ts';
import { BUNDLED_CYBERTIPLINE_XSD, CyberTiplineSchemaSource } from '../src/reporting/ncmec/schema-source.ts';
import { el, serializeXml, textEl } from '../src/reporting/ncmec/xml.ts';
import { redactXmllintError, validateWithXsd } from '../src/reporting/ncmec/xsd-validation.ts';
import { NcmecServer } from './helpers/ncmec-server.ts';
import { NCMEC_XSD, xmllintSkipReason } from './helpers/xmllint.ts';

const skip = xmllintSkipReason();

const file = (overrides: Partial<ReportFile> = {}): ReportFile => ({
  content_id: 'content-a',
  file_name: 'content-a.png',
  media_type: 'image/png',
  md5: '0123456789abcdef0123456789abcdef',
  sha256: 'ab'.repeat(32),
  pdq: 'cd'.repeat(32),
  viewed_by_esp: true,
  uploaded_at: '2024-05-01T09:30:00Z',
  media_held: true,
  ...overrides,
});

const decided = {
  case_id: 7,
  decision_id: 9,
  verdict: 'confirm',
  policy: 'csam',
  decided_at: '2024-05-02T10:00:00Z',
  subject: { kind: 'account', id: 'acct-a' },
  rules: ['verified-near-review'],
};

const facts = (overrides: Partial<ReportFacts> = {}): ReportFacts => ({
  ...decided,
  cases: [{ ...decided, accounts: ['acct-a'] }],
  account: { esp_identifier: 'acct-a', identifiers: [{ kind: 'email', hash: 'ef'.repeat(32) }] },
  files: [file(), file({ content_id: 'content-b', file_name: 'content-b', media_type: null, md5: null, sha256: null, pdq: null, viewed_by_esp: false, media_held: false })],
  matches: [{ bank: 'verified', signal_type: 'pdq', distance: 0 }],
  incident_date_time: '2024-05-01T09:30:00Z',
  networks: [],
  related_accounts: [],
  in_network: false,
  prior_reports: [],
  annotations: [],
  ...overrides,
});

const reporter = { espName: 'Example Platform', firstName: 'Pat', lastName: 'Placeholder', email: 'reports@platform.example', phone: '+1 555 0100', legalUrl: 'https://platform.example/legal' };

/** Every field the callback can supply, so the supplemented report uses all of them. */
const everyDetail: AccountDetails = ACCOUNT_DETAILS_ANSWER.parse({
  account_id: 'acct-a',
  first_name: 'Sam',
  last_name: 'Example',
  date_of_birth: '1990-01-31',
  emails: [{ address: 'sam@platform.example', type: 'Recovery', verified: true, verified_at: '2023-01-01T00:00:00Z' }, { address: 'other@platform.example' }],
  phones: [{ number: '555 0199', type: 'Mobile', country_calling_code: '+1', verified: false }],
  screen_name: 'sam-screen',
  display_names: ['Sam E.'],
  profile_urls: ['https://platform.example/u/sam'],
  ip_events: [
    { ip_address: '192.0.2.44', event: 'Login', at: '2024-05-01T09:00:00Z', port: 51000, possible_proxy: false },
    { ip_address: '2001:db8::44', event: 'Upload', at: '2024-05-01T09:30:00+00:00' },
  ],
});

describe('CyberTipline documents against NCMEC’s published XSD (xmllint)', { skip }, () => {
  it('bundles the very schema NCMEC publishes', () => {
    assert.ok(readFileSync(BUNDLED_CYBERTIPLINE_XSD).equals(readFileSync(NCMEC_XSD)), 'src/reporting/ncmec/cybertipline-report.xsd is ../shared/ncmec/cybertipline-report.xsd');
  });

  it('validates every document the builder writes: reports with and without an account, a contact, and file details', async () => {
    const documents = {
      'account report': buildReportDocument(facts(), reporter),
      'content report without an account': buildReportDocument(facts({ account: null, subject: { kind: 'content', id: 'content-a' } }), { ...reporter, contact: { firstName: 'Lee', email: 'contact@platform.example', phone: '+1 555 0101' }, companyTemplate: 'Legal process: platform.example/legal', termsOfService: 'https://platform.example/terms' }),
      'report with every account detail supplied': supplementReport(buildReportDocument(facts(), reporter), everyDetail),
      'report with the demo platform’s details': supplementReport(buildReportDocument(facts(), reporter), demoAccountDetails({ report_id: 1, case_id: 7, account_id: 'acct-a', content_ids: ['content-a'], incident_date_time: '2024-05-01T09:30:00Z' })),
      'file details with extra hashes': buildFileDetailsDocument('70001', 'file-1', file()),
      'file details with an MD5 only, not viewed': buildFileDetailsDocument('70001', 'file-2', file({ sha256: null, pdq: null, viewed_by_esp: false })),
    };
    for (const [name, document] of Object.entries(documents)) {
      assert.deepEqual(await validateWithXsd(serializeXml(document), NCMEC_XSD), { kind: 'valid' }, name);
    }
  });

  it('puts supplied details where the schema’s sequence wants them, after Bulwark’s own', () => {
    const supplemented = supplementReport(buildReportDocument(facts(), reporter), everyDetail);
    const reported = supplemented.children.find((child) => child.name === 'personOrUserReported')!;
    assert.deepEqual(
      reported.children.map((child) => child.name),
      ['personOrUserReportedPerson', 'espIdentifier', 'screenName', 'displayName', 'profileUrl', 'ipCaptureEvent', 'ipCaptureEvent', 'additionalInfo'],
    );
    const person = reported.children[0];
    assert.deepEqual(person.children.map((child) => child.name), ['firstName', 'lastName', 'phone', 'email', 'email', 'dateOfBirth']);
    assert.deepEqual(person.children[2].attributes, { type: 'Mobile', verified: 'false', countryCallingCode: '+1' });
    const built = buildReportDocument(facts(), reporter);
    assert.equal(supplementReport(built, everyDetail) === built, false);
    assert.deepEqual(built.children.find((child) => child.name === 'personOrUserReported')!.children.map((c) => c.name), ['espIdentifier', 'additionalInfo'], 'the built report is not changed');
  });

  it('refuses documents that break the schema, naming line and element but never the value', async () => {
    const secret = 'value-that-must-not-leak';
    const broken = serializeXml(
      el('report', {}, el('incidentSummary', {}, textEl('incidentType', secret), textEl('incidentDateTime', `${secret}-date`)), el('reporter', {}, el('reportingPerson', {}, textEl('email', 'r@platform.example'))), textEl('surprise', secret)),
    );
    const outcome = await validateWithXsd(broken, NCMEC_XSD);
    assert.equal(outcome.kind, 'invalid');
    const errors = outcome.kind === 'invalid' ? outcome.errors : [];
    assert.deepEqual(errors, [
      "line 4: <incidentType>: the value breaks the schema's enumeration rule",
      'line 5: <incidentDateTime>: the value is not a valid xs:dateTime',
      'line 12: <surprise>: this element is not expected; expected personOrUserReported, intendedRecipient, victim, additionalInfo',
    ]);
    assert.ok(!errors.join('\n').includes(secret));
    assert.deepEqual(await validateWithXsd('<report><unclosed></report>', NCMEC_XSD), { kind: 'invalid', errors: ['line 1: not well-formed XML'] });
    assert.equal(redactXmllintError("-:12: element email: Schemas validity error : Element 'email', attribute 'type': [facet 'enumeration'] The value 'Private' is not an element of the set {'Home'}."), "line 12: <email> attribute type: the value breaks the schema's enumeration rule");
    assert.equal(redactXmllintError('something xmllint never writes'), 'schema error');
  });

  it('says when it cannot check: no xmllint, or a schema that does not compile', async () => {
    assert.deepEqual(await validateWithXsd('<report/>', NCMEC_XSD, 'xmllint-not-installed'), { kind: 'unavailable', reason: 'xmllint-not-installed is not installed (Debian: apt-get install libxml2-utils)' });
    assert.deepEqual(await validateWithXsd('<report/>', NCMEC_XSD.replace(/\.xsd$/, '.missing.xsd')), { kind: 'unavailable', reason: 'the schema does not compile' });
  });

  it('accepts the platform’s answer only in the documented shape, and says why not by field path alone', () => {
    const bad = ACCOUNT_DETAILS_ANSWER.safeParse({ account_id: 'acct-a', emails: [{ address: 'not-an-address-secret' }], ip_events: [{ ip_address: '999.0.0.1', event: 'Login', at: 'yesterday' }], extra: 1 });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, ['', 'emails.0.address', 'ip_events.0.at', 'ip_events.0.ip_address']);
  });
});

describe('schema and account-details settings', () => {
  it('reads BULWARK_NCMEC_SCHEMA and the callback’s URL, key and timeout, refusing what would not work', () => {
    assert.equal(ncmecConfigFromEnv({}).schema, 'live');
    assert.equal(ncmecConfigFromEnv({}).accountDetails, undefined);
    assert.equal(ncmecConfigFromEnv({ BULWARK_NCMEC_SCHEMA: 'bundled' }).schema, 'bundled');
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_SCHEMA: 'remote' }), /BULWARK_NCMEC_SCHEMA must be live or bundled/);
    const url = 'https://platform.example/bulwark/account-details';
    assert.deepEqual(ncmecConfigFromEnv({ BULWARK_NCMEC_ACCOUNT_DETAILS_URL: url, BULWARK_NCMEC_ACCOUNT_DETAILS_SECRET: 'k1', BULWARK_NCMEC_ACCOUNT_DETAILS_TIMEOUT_MS: '2500' }).accountDetails, { url, secret: 'k1', timeoutMs: 2500 });
    assert.deepEqual(ncmecConfigFromEnv({ BULWARK_NCMEC_ACCOUNT_DETAILS_URL: url, BULWARK_WEBHOOK_SECRET: 'k2' }).accountDetails, { url, secret: 'k2', timeoutMs: undefined });
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_ACCOUNT_DETAILS_URL: url }), /signing key/);
    assert.throws(() => ncmecConfigFromEnv({ BULWARK_NCMEC_ACCOUNT_DETAILS_URL: url, BULWARK_WEBHOOK_SECRET: 'k', BULWARK_NCMEC_ACCOUNT_DETAILS_TIMEOUT_MS: 'soon' }), /positive number of milliseconds/);
  });
});

describe('the demo platform’s account-details callback', () => {
  it('answers a signed request with made-up details in the documented shape, and refuses a forged one', async () => {
    const lines: string[] = [];
    const platform = await startDemoPlatform('demo-secret', () => undefined, (line) => lines.push(line));
    try {
      const asked = { report_id: 3, case_id: 4, account_id: 'acct-demo', content_ids: ['content-demo'], incident_date_time: '2024-05-01T09:30:00Z' };
      const outcome = await new WebhookAccountDetails({ url: platform.accountDetailsUrl, secret: 'demo-secret' }).lookUp(asked);
      assert.deepEqual(outcome, { kind: 'supplied', details: ACCOUNT_DETAILS_ANSWER.parse(demoAccountDetails(asked)) });
      assert.deepEqual(lines, ['demo platform: account details for report 3 (account acct-demo)']);
      assert.deepEqual(await new WebhookAccountDetails({ url: platform.accountDetailsUrl, secret: 'forged' }).lookUp(asked), { kind: 'unavailable', reason: 'http 401' });
    } finally {
      await platform.close();
    }
  });
});

describe('the live CyberTipline schema', { skip }, () => {
  let server: NcmecServer;
  let clock = new Date('2026-01-01T00:00:00Z');
  const logged: string[] = [];
  const source = () =>
    new CyberTiplineSchemaSource({ mode: 'live', baseUrl: server.url, username: server.username, password: server.password, now: () => clock, log: (line) => logged.push(line), refreshMs: 60_000, retryMs: 10_000, deadline: server.deadline });

  before(async () => {
    server = await new NcmecServer().start();
  });
  after(() => server.stop());

  it('is fetched from ISPWS’s /xsd with the credentials, kept for its refresh period, then fetched again', async () => {
    const live = source();
    const first = await live.current();
    assert.equal(first.origin, 'live');
    assert.ok(readFileSync(first.path).equals(readFileSync(NCMEC_XSD)));
    assert.equal(server.xsdRequests, 1);
    await live.current();
    assert.equal(server.xsdRequests, 1, 'kept within its refresh period');
    clock = new Date(clock.getTime() + 60_000);
    assert.equal((await live.current()).origin, 'live');
    assert.equal(server.xsdRequests, 2);
    assert.deepEqual(logged, []);
    await live.close();
  });

  for (const answer of [503, 'not-a-schema'] as const) {
    it(`falls back to the bundled schema and says so when /xsd answers ${answer}, then tries again later`, async () => {
      logged.length = 0;
      server.xsdAnswer = answer;
      const live = source();
      const requests = server.xsdRequests;
      assert.deepEqual(await live.current(), { path: BUNDLED_CYBERTIPLINE_XSD, origin: 'bundled' });
      assert.equal(logged.length, 1);
      assert.match(logged[0], answer === 503 ? /could not be fetched \(http 503\); validating against the bundled schema/ : /not a schema xmllint can compile/);
      assert.ok(!logged[0].includes(server.password) && !logged[0].includes(server.url), 'no credentials or URL in the log');
      await live.current();
      assert.equal(server.xsdRequests, requests + 1, 'not asked again before the retry period');
      server.xsdAnswer = 'schema';
      clock = new Date(clock.getTime() + 10_000);
      assert.equal((await live.current()).origin, 'live');
      await live.close();
    });
  }

  it('uses only the bundled schema in bundled mode', async () => {
    const requests = server.xsdRequests;
    const bundled = new CyberTiplineSchemaSource({ mode: 'bundled', baseUrl: server.url });
    assert.deepEqual(await bundled.current(), { path: BUNDLED_CYBERTIPLINE_XSD, origin: 'bundled' });
    assert.equal(server.xsdRequests, requests);
  });
});
