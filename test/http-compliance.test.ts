import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { buildServer } from '../src/http/server.ts';
import { ncmecConfig } from '../src/reporting/ncmec/config.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { COMMISSION_HEADERS, parseRfc4180, ROW_COUNTS } from './helpers/annex-i-template.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { expectProblem } from './helpers/problems.ts';

/**
 * A confirmed case followed through the compliance routes: its statement of reasons, the
 * transparency report that counts it, and its evidence preserved, held and opened.
 */
describe('compliance over HTTP: statements of reasons, transparency report, preservation', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  let caseId: number;
  let png: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-compliance-'));
  const saved = { key: process.env.BULWARK_PRESERVATION_KEY, dir: process.env.BULWARK_PRESERVATION_DIR };

  before(async () => {
    process.env.BULWARK_PRESERVATION_KEY = randomBytes(32).toString('hex');
    process.env.BULWARK_PRESERVATION_DIR = dir;
    bulwark = await openBulwark({
      bankRefreshMs: 0,
      mediaKey: randomBytes(32).toString('hex'),
      dispatchActions: false,
      // No credentials: reports are built, validated and queued, never sent.
      ncmec: ncmecConfig({ reporter: { espName: 'Example Platform', firstName: 'Trust', lastName: 'Safety', email: 'reports@platform.example' } }),
    });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
    await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
    png = await encodeImage(shapesImage(41, 320, 240), 'png');
    const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
    await bulwark.banks.create('verified');
    await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq });
    await bulwark.content.submit({ contentId: 'c-compliance', accountId: 'acct-compliance', contentType: 'photo', media: png });
    await bulwark.rules.runner.drain();
    const reviewer = await bulwark.reviewers.create({ username: 'rev-c', password: 'correct horse battery', role: 'reviewer' });
    const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
    caseId = claimed!.id;
    await bulwark.cases.decide(caseId, reviewer, { verdict: 'confirm', policy: 'csam' });
    await bulwark.dsa.consumer.drain();
  });
  after(async () => {
    await app.close();
    await bulwark.close();
    process.env.BULWARK_PRESERVATION_KEY = saved.key;
    process.env.BULWARK_PRESERVATION_DIR = saved.dir;
    if (saved.key === undefined) delete process.env.BULWARK_PRESERVATION_KEY;
    if (saved.dir === undefined) delete process.env.BULWARK_PRESERVATION_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the statement of reasons the decision produced, waiting for the database to be configured', async () => {
    const listed = await app.inject({ url: '/v1/dsa/statements', headers: auth });
    assert.equal(listed.statusCode, 200, listed.body);
    const statements = listed.json().statements;
    assert.equal(statements.length, 1);
    assert.equal(statements[0].status, 'pending_configuration');
    const one = (await app.inject({ url: `/v1/dsa/statements/${statements[0].id}`, headers: auth })).json();
    assert.equal(one.statement.decision_ground, 'DECISION_GROUND_ILLEGAL_CONTENT');
    assert.equal(one.statement.automated_decision, 'AUTOMATED_DECISION_NOT_AUTOMATED');
  });

  it('reports the period’s figures as JSON, CSV and HTML, and refuses bounds without a time zone', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    expectProblem(await app.inject({ url: `/v1/dsa/transparency-report?from=2026-01-01T00:00:00&to=${to}`, headers: auth }), 400, /from/);
    const json = await app.inject({ url: `/v1/dsa/transparency-report?from=${from}&to=${to}`, headers: auth });
    assert.equal(json.statusCode, 200, json.body);
    const csv = await app.inject({ url: `/v1/dsa/transparency-report?from=${from}&to=${to}&format=csv`, headers: auth });
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.match(csv.body.split('\r\n')[0], /^Section,Section title,Template part,/);
    const html = await app.inject({ url: `/v1/dsa/transparency-report?from=${from}&to=${to}&format=html`, headers: auth });
    assert.match(html.body, /<figure class="chart" aria-label="Notices by category">/);
  });

  it('gives each part of the Annex I template as the Commission\'s CSV file, with the confirmed case counted in part 5', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const url = (query: string) => `/v1/dsa/transparency-report?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=template${query}`;
    expectProblem(await app.inject({ url: url(''), headers: auth }), 400, /part/);
    expectProblem(await app.inject({ url: url('&part=2'), headers: auth }), 400, /part/);
    expectProblem(await app.inject({ url: url('&part=11'), headers: auth }), 400, /part/);
    for (const [number, expected] of Object.entries(COMMISSION_HEADERS)) {
      const response = await app.inject({ url: url(`&part=${number}`), headers: auth });
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^text\/csv/);
      assert.equal(response.headers['content-disposition'], `attachment; filename="${expected.file}"`);
      assert.ok(response.body.startsWith(`${expected.header}\r\n`), `part ${number}: the Commission's header`);
      assert.equal(parseRfc4180(response.body).length - 1, ROW_COUNTS[Number(number)], `part ${number} rows`);
    }
    // The reviewer confirmed the case under the csam policy on their own initiative: illegal content, part 5.
    const [header, ...rows] = parseRfc4180((await app.inject({ url: url('&part=5'), headers: auth })).body);
    const measures = header.indexOf("Number of measures taken at the provider's own initiative ");
    const removal = header.indexOf('Visibility restriction Removal');
    const row = (code: string) => rows.find((candidate) => candidate[3] === code)!;
    assert.deepEqual([row('TOTAL')[measures], row('TOTAL')[removal]], ['1', '1']);
    assert.equal(row('STATEMENT_CATEGORY_PROTECTION_OF_MINORS')[measures], '1');
    assert.equal(row('KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL')[measures], '1');
    assert.equal(row('STATEMENT_CATEGORY_ANIMAL_WELFARE')[measures], '');
  });

  it('preserved the confirmed case on its own, because its policy is one NCMEC reports are made for', async () => {
    const records = (await app.inject({ url: '/v1/preservations', headers: auth })).json().preservations;
    assert.ok(records.some((record: { case_id: number; reason: string }) => record.case_id === caseId && record.reason === 'ncmec_report'), JSON.stringify(records));
  });

  it('builds a CyberTipline report for the case and keeps it queued without credentials', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/ncmec/reports', headers: auth, payload: { case_id: caseId } });
    assert.ok(created.statusCode < 300, created.body);
    const report = created.json();
    assert.equal(report.status, 'queued', JSON.stringify(report));
    const shown = (await app.inject({ url: `/v1/ncmec/reports/${report.id}?include=xml`, headers: auth })).json();
    assert.match(shown.xml, /<espIdentifier>acct-compliance<\/espIdentifier>/);
    assert.match(shown.xml, /<incidentType>Child Pornography \(possession, manufacture, and distribution\)<\/incidentType>/);
    assert.equal((await app.inject({ url: `/v1/ncmec/reports/${report.id}`, headers: auth })).json().xml, undefined, 'the XML only on request');
    const history = (await app.inject({ url: `/v1/ncmec/reports/${report.id}/history`, headers: auth })).json().history;
    assert.deepEqual(history.map((entry: { action: string; detail: { report_id: number } }) => [entry.action, entry.detail.report_id]), [['ncmec.report_created', report.id]]);
    expectProblem(await app.inject({ url: '/v1/ncmec/reports/99999/history', headers: auth }), 404, /report/);
  });

  it('preserves the case’s evidence, opens it only with a purpose (logged), and holds it', async () => {
    expectProblem(await app.inject({ method: 'POST', url: '/v1/preservations', headers: auth, payload: { case_id: 99999, reason: 'operator' } }), 404, /case/);
    const created = await app.inject({ method: 'POST', url: '/v1/preservations', headers: auth, payload: { case_id: caseId, reason: 'ncmec_report' } });
    assert.equal(created.statusCode, 201, created.body);
    const record = created.json();
    const metadata = (await app.inject({ url: `/v1/preservations/${record.id}`, headers: auth })).json();
    assert.ok(!JSON.stringify(metadata).includes('acct-compliance'), 'metadata does not show the preserved account data');
    expectProblem(await app.inject({ url: `/v1/preservations/${record.id}/snapshot`, headers: auth }), 400, /purpose/);
    const snapshot = await app.inject({ url: `/v1/preservations/${record.id}/snapshot?purpose=legal%20request%2042&media=true`, headers: auth });
    assert.equal(snapshot.statusCode, 200, snapshot.body);
    assert.ok(snapshot.body.includes(png.toString('base64')), 'the preserved media comes back whole');
    const hold = await app.inject({ method: 'POST', url: `/v1/preservations/${record.id}/holds`, headers: auth, payload: { reason: 'court order 7' } });
    assert.equal(hold.statusCode, 201, hold.body);
    const audit = (await app.inject({ url: '/v1/audit?limit=200', headers: auth })).json().entries;
    assert.ok(audit.some((entry: { action: string }) => entry.action === 'preservation.accessed'));
  });
});
