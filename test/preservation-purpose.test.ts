import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { loggableUrl } from '../src/http/request-log.ts';
import { buildServer } from '../src/http/server.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { expectProblem } from './helpers/problems.ts';

// Issue 12, item 7: the purpose of opening preserved evidence went into the request log
// through the query string. It now travels in a POST body; the old GET still works and its
// purpose is redacted from the log.

describe('loggableUrl', () => {
  it('redacts the purpose, however its name is written, and leaves the rest', () => {
    assert.equal(loggableUrl('/v1/preservations/3/snapshot?purpose=court%20order&media=true'), '/v1/preservations/3/snapshot?purpose=[redacted]&media=true');
    assert.equal(loggableUrl('/v1/x?media=1&%70urpose=a&PURPOSE=b'), '/v1/x?media=1&%70urpose=[redacted]&PURPOSE=[redacted]');
    assert.equal(loggableUrl('/v1/x?purposes=kept&%zz=odd'), '/v1/x?purposes=kept&%zz=odd');
    assert.equal(loggableUrl('/v1/cases?status=open'), '/v1/cases?status=open');
    assert.equal(loggableUrl('/healthz'), '/healthz');
  });
});

describe('opening preserved evidence keeps its purpose out of the request log', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  let recordId: number;
  const logLines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-purpose-'));
  const saved = { key: process.env.BULWARK_PRESERVATION_KEY, dir: process.env.BULWARK_PRESERVATION_DIR };
  const PURPOSE = 'production order 7731 for account lookup';

  before(async () => {
    process.env.BULWARK_PRESERVATION_KEY = randomBytes(32).toString('hex');
    process.env.BULWARK_PRESERVATION_DIR = dir;
    bulwark = await openBulwark({ bankRefreshMs: 0, mediaKey: randomBytes(32).toString('hex'), dispatchActions: false, hashing: { workers: 0 } });
    app = await buildServer(bulwark, { logger: { level: 'info', stream: { write: (line: string) => logLines.push(line) } } });
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
    await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
    const png = await encodeImage(shapesImage(43, 320, 240), 'png');
    const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
    await bulwark.banks.create('verified');
    await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq });
    await bulwark.content.submit({ contentId: 'c-purpose', accountId: 'acct-purpose', contentType: 'photo', media: png });
    await bulwark.rules.runner.drain();
    const reviewer = await bulwark.reviewers.create({ username: 'rev-p', password: 'correct horse battery', role: 'reviewer' });
    const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
    await bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'confirm', policy: 'csam' });
    recordId = (await bulwark.preservation.preserve({ caseId: claimed!.id, reason: 'operator', requestedBy: 'test' })).id;
  });
  after(async () => {
    await app.close();
    await bulwark.close();
    for (const [name, value] of [['BULWARK_PRESERVATION_KEY', saved.key], ['BULWARK_PRESERVATION_DIR', saved.dir]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const accesses = async () => (await bulwark.preservation.get(recordId)).accesses.map((access: { purpose: string; with_media: boolean }) => [access.purpose, access.with_media]);

  it('takes the purpose in a POST body and records it with the access, not in the log', async () => {
    expectProblem(await app.inject({ method: 'POST', url: `/v1/preservations/${recordId}/snapshot`, headers: auth, payload: {} }), 400, /purpose/);
    const opened = await app.inject({ method: 'POST', url: `/v1/preservations/${recordId}/snapshot`, headers: auth, payload: { purpose: PURPOSE, media: true } });
    assert.equal(opened.statusCode, 200, opened.body);
    assert.equal(opened.headers['cache-control'], 'no-store');
    assert.equal(opened.json().media.length, 1);
    assert.deepEqual((await accesses()).at(-1), [PURPOSE, true]);
    assert.ok(logLines.some((line) => line.includes(`/v1/preservations/${recordId}/snapshot`)), 'the request itself is logged');
    assert.ok(logLines.every((line) => !line.includes('7731')), 'the purpose is not in the log');
  });

  it('still opens through the old GET, marked deprecated, with the purpose redacted from the log', async () => {
    const opened = await app.inject({ url: `/v1/preservations/${recordId}/snapshot?purpose=${encodeURIComponent(PURPOSE)}`, headers: auth });
    assert.equal(opened.statusCode, 200, opened.body);
    assert.equal(opened.headers.deprecation, 'true');
    assert.equal(opened.json().media, undefined);
    assert.deepEqual((await accesses()).at(-1), [PURPOSE, false]);
    assert.ok(logLines.some((line) => line.includes(`/v1/preservations/${recordId}/snapshot?purpose=[redacted]`)));
    assert.ok(logLines.every((line) => !line.includes('7731')), 'the purpose is not in the log');
    const spec = (await app.inject({ url: '/openapi.json' })).json();
    assert.equal(spec.paths['/v1/preservations/{id}/snapshot'].get.deprecated, true);
    assert.ok(spec.paths['/v1/preservations/{id}/snapshot'].post.requestBody, 'the POST documents its body');
  });
});
