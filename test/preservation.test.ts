import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { MediaVault } from '../src/media/media-vault.ts';
import { FilesystemBlobStore } from '../src/preservation/blob-store.ts';
import { blobStoreFromEnv, preservationOptionsFromEnv } from '../src/preservation/config.ts';
import { PreservationService, type PreservationOptions } from '../src/preservation/preservation-service.ts';
import { S3BlobStore } from '../src/preservation/s3-blob-store.ts';
import { sha256Hex, signV4 } from '../src/preservation/sigv4.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const expectError = async (promise: Promise<unknown>, kind: BulwarkError['kind'], message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));

/** Every file under a folder, recursively. */
function filesUnder(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else found.push(path);
  }
  return found;
}

const DAY = 86_400_000;

for (const target of targets) {
  describe(`evidence preservation (${target.name})`, () => {
    let bulwark: Bulwark;
    let reviewer: Reviewer;
    let png: Buffer;
    let blobRoot: string;
    let mediaKey: string;
    let caseId: number;
    let clock = new Date('2025-01-15T12:00:00.000Z');
    const keyA = randomBytes(32).toString('hex');
    const keyB = randomBytes(32).toString('base64');
    const keyC = randomBytes(32).toString('hex');
    const service = (overrides: Partial<PreservationOptions> = {}) =>
      new PreservationService(bulwark.sql, bulwark.audit, {
        key: keyA,
        blobStore: new FilesystemBlobStore(blobRoot),
        vault: new MediaVault(mediaKey),
        now: () => clock,
        processName: 'test-process',
        ...overrides,
      });

    before(async () => {
      blobRoot = mkdtempSync(join(tmpdir(), 'bulwark-preservation-'));
      mediaKey = randomBytes(32).toString('hex');
      bulwark = await openBulwark({ ...target.location(), mediaKey, bankRefreshMs: 0 });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      png = await encodeImage(shapesImage(21, 320, 240), 'png');
      assert.ok((await hashContent(bulwark.signals, 'photo', png)).some((signal) => signal.signalType === 'pdq'));
      await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
      await bulwark.banks.addEntry('verified', { signalType: 'md5', value: md5(png), source: 'test' });
      reviewer = await bulwark.reviewers.create({ username: 'rev-p', password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
      await bulwark.content.submit({ contentId: 'content-7', accountId: 'acct-1', contentType: 'photo', media: png });
      await bulwark.rules.runner.drain();
      await bulwark.hashMatchLabeller.drain();
      const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
      assert.equal(claimed?.subject.id, 'content-7');
      await bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'confirm', policy: 'csam', note: 'matches the verified list' });
      caseId = claimed!.id;
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
      rmSync(blobRoot, { recursive: true, force: true });
    });

    it('snapshots a confirmed case, its content, media and account, and opens it to the same bytes', async () => {
      const preservation = service();
      const record = await preservation.preserve({ caseId, reason: 'ncmec_report', requestedBy: 'ncmec-reporter', ncmecReportId: 'report-1' });
      assert.equal(record.case_id, caseId);
      assert.equal(record.status, 'preserved');
      assert.equal(record.preserved_at, '2025-01-15T12:00:00.000Z');
      assert.equal(record.expires_at, '2026-01-15T12:00:00.000Z');
      assert.equal(record.media_count, 1);
      assert.equal(record.account_count, 1);
      assert.equal(record.on_hold, false);
      const listed = await preservation.list({ caseId });
      assert.deepEqual(listed.map((r) => r.id), [record.id]);
      assert.equal('snapshot' in listed[0], false, 'listing shows metadata only');

      const opened = await preservation.open(record.id, { by: 'legal-1', purpose: 'answer to a court order', withMedia: true });
      assert.equal(opened.snapshot.case.id, caseId);
      assert.equal(opened.snapshot.case.subject_id, 'content-7');
      assert.deepEqual(opened.snapshot.decisions.map((d) => d.verdict), ['automated', 'confirm'], "the rule's removal, then the reviewer's confirmation");
      assert.ok(opened.snapshot.actions.some((a) => a.type === 'remove_content'));
      assert.equal(opened.snapshot.content[0].content_id, 'content-7');
      assert.ok((opened.snapshot.content[0].matches as { bank: string }[]).some((m) => m.bank === 'verified'));
      assert.equal(opened.snapshot.accounts[0].account_id, 'acct-1');
      assert.equal(opened.snapshot.accounts[0].account?.label, 'confirmed');
      assert.ok(opened.snapshot.accounts[0].labels.length >= 1);
      assert.equal(opened.snapshot.media[0].sha256, createHash('sha256').update(png).digest('hex'));
      assert.equal(opened.media?.length, 1);
      assert.equal(opened.media![0].media_type, 'image/png');
      assert.ok(opened.media![0].bytes.equals(png), 'the preserved media opens to the uploaded bytes');
      assert.match(opened.snapshot.taken_at, /Z$/);
      const withoutMedia = await preservation.open(record.id, { by: 'legal-1', purpose: 'metadata review' });
      assert.equal(withoutMedia.media, undefined);
    });

    it('keeps nothing readable at rest: rows and blob files show neither media nor ids', async () => {
      const rows = await bulwark.sql.query<{ text: string; sealed: Uint8Array }>('SELECT to_jsonb(r)::text AS text, r.snapshot_sealed AS sealed FROM preservation_records r');
      const blobRows = await bulwark.sql.query<{ text: string }>('SELECT to_jsonb(b)::text AS text FROM preservation_blobs b');
      assert.ok(rows.rows.length > 0 && blobRows.rows.length > 0);
      const pngSlice = png.subarray(png.length - 200, png.length - 100);
      for (const row of [...rows.rows, ...blobRows.rows]) {
        for (const secret of ['content-7', 'acct-1', 'verified', md5(png)]) assert.ok(!row.text.includes(secret), `a preservation row shows ${secret}`);
      }
      for (const row of rows.rows) {
        const sealed = Buffer.from(row.sealed);
        assert.ok(!sealed.includes(Buffer.from('content-7')) && !sealed.includes(Buffer.from('acct-1')), 'the sealed snapshot is not plain JSON');
      }
      const files = filesUnder(blobRoot);
      assert.ok(files.length >= 1);
      for (const file of files) {
        assert.ok(!file.includes('content-7') && !file.includes('acct-1'), 'blob names show no ids');
        const bytes = readFileSync(file);
        assert.ok(!bytes.includes(pngSlice) && !bytes.includes(png.subarray(0, 16)), 'a blob file holds no media bytes in the clear');
        assert.equal(statSync(file).mode & 0o777, 0o600);
      }
    });

    it('refuses to preserve without a key, and to open under the wrong key, clearly', async () => {
      await expectError(service({ key: undefined }).preserve({ caseId, reason: 'operator', requestedBy: 'op' }), 'unavailable', /BULWARK_PRESERVATION_KEY/);
      await expectError(service({ key: '' }).preserve({ caseId, reason: 'operator', requestedBy: 'op' }), 'unavailable', /BULWARK_PRESERVATION_KEY/);
      assert.throws(() => service({ key: 'not-a-key' }), (error: unknown) => error instanceof BulwarkError && error.kind === 'invalid' && /32 bytes/.test(error.message));
      const [record] = await service().list({ caseId, status: 'preserved' });
      await expectError(service({ key: keyC }).open(record.id, { by: 'legal-1', purpose: 'wrong key check' }), 'unavailable', /sealed under key [0-9a-f]+, which is neither/);
      await expectError(service().preserve({ caseId: 999_999, reason: 'operator', requestedBy: 'op' }), 'not_found', /no case/);
      await expectError(service().open(record.id, { by: 'legal-1', purpose: '' }), 'invalid', /purpose/);
      // A sealed snapshot moved to another record does not open.
      const second = await service().preserve({ caseId, reason: 'operator', requestedBy: 'op' });
      await bulwark.sql.query(
        `UPDATE preservation_records SET snapshot_nonce = o.snapshot_nonce, snapshot_sealed = o.snapshot_sealed, snapshot_tag = o.snapshot_tag
         FROM preservation_records o WHERE preservation_records.id = $1 AND o.id = $2`,
        [second.id, record.id],
      );
      await expectError(service().open(second.id, { by: 'legal-1', purpose: 'tamper check' }), 'unavailable', /altered or moved/);
    });

    it('opens records sealed under an old key after rotation, and re-wraps them under the new one', async () => {
      const [record] = (await service().list({ caseId, status: 'preserved' })).slice(-1);
      const rotated = service({ key: keyB, oldKeys: [keyA] });
      assert.ok((await rotated.open(record.id, { by: 'legal-1', purpose: 'after rotation', withMedia: true })).media![0].bytes.equals(png));
      const fresh = await rotated.preserve({ caseId, reason: 'legal_request', requestedBy: 'legal-1' });
      assert.notEqual(fresh.key_id, record.key_id);
      const result = await rotated.rewrapKeys('ops');
      assert.ok(result.rewrapped >= 1);
      const onlyB = service({ key: keyB });
      assert.ok((await onlyB.open(record.id, { by: 'legal-1', purpose: 'old key retired', withMedia: true })).media![0].bytes.equals(png));
      assert.equal((await onlyB.get(record.id)).key_id, fresh.key_id);
      await expectError(service({ key: keyA }).open(record.id, { by: 'legal-1', purpose: 'retired key' }), 'unavailable', /neither/);
    });

    it('writes every access to the access table and the audit log', async () => {
      const [record] = await service({ key: keyB }).list({ caseId, status: 'preserved', limit: 1 });
      await service({ key: keyB }).open(record.id, { by: 'legal-2', purpose: 'access log check', withMedia: true });
      const detail = await service({ key: keyB }).get(record.id);
      assert.deepEqual(detail.accesses.at(-1), { accessed_by: 'legal-2', purpose: 'access log check', with_media: true, accessed_at: clock.toISOString() });
      const audit = await bulwark.audit.list({ subject: `preservation:${record.id}` });
      const entry = audit.find((e) => e.action === 'preservation.accessed' && e.actor === 'legal-2');
      assert.ok(entry, 'preservation.accessed is audited');
      assert.deepEqual(entry!.detail, { case_id: caseId, purpose: 'access log check', with_media: true });
      assert.ok(!JSON.stringify(audit).includes('content-7'), 'the audit log names no content');
      await assert.rejects(bulwark.sql.query('DELETE FROM preservation_access'), /append-only/);
    });

    it('keeps held records past expiry, purges the rest to a tombstone, and deletes their blobs', async () => {
      const preservation = service({ key: keyB });
      const held = await preservation.preserve({ caseId, reason: 'legal_request', requestedBy: 'legal-1' });
      const dated = await preservation.preserve({ caseId, reason: 'ncmec_report', requestedBy: 'ncmec-reporter' });
      const free = await preservation.preserve({ caseId, reason: 'operator', requestedBy: 'op' });
      const hold = await preservation.hold(held.id, { reason: 'litigation hold', by: 'legal-1' });
      const until = new Date(clock.getTime() + 2 * 365 * DAY);
      await preservation.hold(dated.id, { reason: 'law enforcement request', until, by: 'legal-1' });
      await expectError(preservation.hold(free.id, { reason: 'in the past', until: new Date(clock.getTime() - DAY), by: 'legal-1' }), 'invalid', /future/);
      const freeBlobs = (await bulwark.sql.query<{ blob_key: string }>('SELECT blob_key FROM preservation_blobs WHERE record_id = $1', [free.id])).rows;
      assert.equal(freeBlobs.length, 1);
      const blobStore = new FilesystemBlobStore(blobRoot);
      assert.ok(await blobStore.get(freeBlobs[0].blob_key));

      assert.deepEqual((await preservation.purgeExpired(clock)).purged, [], 'nothing has expired yet');
      clock = new Date(clock.getTime() + 366 * DAY);
      const dry = await preservation.purgeExpired(clock, { dryRun: true });
      assert.ok(dry.purged.some((p) => p.record_id === free.id));
      assert.equal((await preservation.get(free.id)).status, 'preserved', 'a dry run deletes nothing');

      const first = await preservation.purgeExpired(clock, { by: 'ops' });
      const purgedIds = first.purged.map((p) => p.record_id);
      assert.ok(purgedIds.includes(free.id));
      assert.ok(!purgedIds.includes(held.id) && !purgedIds.includes(dated.id), 'held records stay past expiry');
      assert.equal(first.held, 2);
      assert.equal(await blobStore.get(freeBlobs[0].blob_key), undefined, 'the media object is gone');
      const sealed = await bulwark.sql.query<{ wrapped_key: unknown; snapshot_sealed: unknown; status: string }>('SELECT wrapped_key, snapshot_sealed, status FROM preservation_records WHERE id = $1', [free.id]);
      assert.deepEqual(sealed.rows[0], { wrapped_key: null, snapshot_sealed: null, status: 'purged' });
      assert.equal((await bulwark.sql.query('SELECT 1 FROM preservation_blobs WHERE record_id = $1', [free.id])).rows.length, 0);
      const gone = await preservation.get(free.id);
      assert.equal(gone.tombstone?.purged_at, clock.toISOString());
      assert.match(gone.tombstone!.why, /retention period ended 2026-01-15T12:00:00.000Z/);
      assert.equal(gone.tombstone!.purged_by, 'ops via test-process');
      assert.equal((gone.tombstone!.deleted.blobs as unknown[]).length, 1);
      await expectError(preservation.open(free.id, { by: 'legal-1', purpose: 'after purge' }), 'not_found', /purged/);
      await expectError(preservation.hold(free.id, { reason: 'too late', by: 'legal-1' }), 'conflict', /already purged/);
      await assert.rejects(bulwark.sql.query('UPDATE preservation_tombstones SET why = $1', ['changed']), /append-only/);
      assert.ok((await bulwark.audit.list({ subject: `preservation:${free.id}` })).some((e) => e.action === 'preservation.purged' && e.actor === 'ops'));

      // The open-ended hold lasts until released; the dated one until its end.
      await preservation.release(hold.id, 'legal-1');
      await expectError(preservation.release(hold.id, 'legal-1'), 'conflict', /already released/);
      const second = await preservation.purgeExpired(clock);
      assert.ok(second.purged.some((p) => p.record_id === held.id));
      assert.ok(!second.purged.some((p) => p.record_id === dated.id));
      assert.equal((await preservation.get(dated.id)).on_hold, true);
      clock = new Date(until.getTime() + DAY);
      const third = await preservation.purgeExpired(clock);
      assert.deepEqual(third.purged.map((p) => p.record_id), [dated.id]);
      assert.equal((await preservation.list({ status: 'preserved' })).length, 0);
      const leftFiles = filesUnder(blobRoot);
      assert.deepEqual(leftFiles, [], 'every media object of purged records is deleted');
    });
  });
}

describe('preservation settings', () => {
  it('keeps evidence at least one calendar year', async () => {
    const sqlStub = {} as never;
    const options = { key: randomBytes(32).toString('hex'), blobStore: new FilesystemBlobStore(tmpdir()) };
    assert.throws(() => new PreservationService(sqlStub, sqlStub, { ...options, retentionDays: 364 }), /at least one year/);
    const service = new PreservationService(sqlStub, sqlStub, options);
    assert.equal(service.expiryFor(new Date('2024-02-29T23:30:00Z')).toISOString(), '2025-03-01T23:30:00.000Z');
    const longer = new PreservationService(sqlStub, sqlStub, { ...options, retentionDays: 400 });
    assert.equal(longer.expiryFor(new Date('2025-01-01T00:00:00Z')).toISOString(), '2026-02-05T00:00:00.000Z');
  });

  it('reads its settings from the environment', () => {
    const options = preservationOptionsFromEnv({ BULWARK_PRESERVATION_KEY: 'k', BULWARK_PRESERVATION_OLD_KEYS: 'a, b  c', BULWARK_PRESERVATION_DIR: '/srv/evidence' });
    assert.deepEqual(options.oldKeys, ['a', 'b', 'c']);
    assert.ok(options.blobStore instanceof FilesystemBlobStore && options.blobStore.root === '/srv/evidence');
    assert.ok((blobStoreFromEnv({}, '/var/bulwark') as FilesystemBlobStore).root === '/var/bulwark/preservation');
    const s3 = blobStoreFromEnv({ BULWARK_S3_ENDPOINT: 'http://127.0.0.1:9000', BULWARK_S3_BUCKET: 'evidence', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    assert.equal(s3.kind, 's3');
    assert.throws(() => blobStoreFromEnv({ BULWARK_S3_ENDPOINT: 'http://127.0.0.1:9000', BULWARK_S3_BUCKET: 'evidence' }), /credentials/);
    assert.throws(() => preservationOptionsFromEnv({ BULWARK_PRESERVATION_RETENTION_DAYS: 'a year' }), /whole number/);
  });
});

describe('filesystem blob store', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'bulwark-blobs-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes whole objects atomically, owner-only, and replaces them whole', async () => {
    const store = new FilesystemBlobStore(root);
    await store.put('records/1/a.sealed', Buffer.from('first version'));
    await store.put('records/1/a.sealed', Buffer.from('second'));
    assert.equal((await store.get('records/1/a.sealed'))?.toString(), 'second');
    assert.deepEqual(readdirSync(join(root, 'records/1')), ['a.sealed'], 'no temporary file is left behind');
    assert.equal(statSync(join(root, 'records/1/a.sealed')).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'records/1')).mode & 0o777, 0o700);
    assert.equal(await store.get('records/1/missing.sealed'), undefined);
    await store.delete('records/1/a.sealed');
    await store.delete('records/1/a.sealed');
    assert.equal(await store.get('records/1/a.sealed'), undefined);
  });

  it('leaves neither a partial object nor a temporary file when a write fails', async () => {
    const store = new FilesystemBlobStore(root);
    // A folder where the object should go makes the final rename fail after the data was written.
    mkdirSync(join(root, 'records/2/b.sealed'), { recursive: true });
    await assert.rejects(store.put('records/2/b.sealed', Buffer.from('object bytes')));
    assert.deepEqual(readdirSync(join(root, 'records/2')), ['b.sealed']);
    assert.ok(statSync(join(root, 'records/2/b.sealed')).isDirectory());
  });

  it('refuses keys that leave its folder', async () => {
    const store = new FilesystemBlobStore(root);
    for (const key of ['../escape', 'records/../../escape', '/etc/passwd', 'Records/UPPER', '']) {
      await assert.rejects(store.put(key, Buffer.from('x')), /invalid blob key/);
    }
  });
});

describe('S3 signature version 4', () => {
  // AWS's published Signature Version 4 test suite (service "service", 2015-08-30T12:36:00Z).
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const base = { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' };
  const vectors: { name: string; method: string; path: string; query?: [string, string][]; headers?: Record<string, string>; body?: string; signature: string }[] = [
    { name: 'get-vanilla', method: 'GET', path: '/', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
    { name: 'get-vanilla-query-order-key-case', method: 'GET', path: '/', query: [['Param2', 'value2'], ['Param1', 'value1']], signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
    { name: 'get-vanilla-utf8-query', method: 'GET', path: '/', query: [['ሴ', 'bar']], signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
    { name: 'get-unreserved', method: 'GET', path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
    { name: 'get-header-value-trim', method: 'GET', path: '/', headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' }, signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736' },
    { name: 'post-vanilla', method: 'POST', path: '/', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
    { name: 'post-vanilla-query-nonunreserved', method: 'POST', path: '/', query: [['@#$%^', ''], ['+', '/,?><`";:\\|][{}']], signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e' },
    { name: 'post-x-www-form-urlencoded', method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Param1=value1', signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a' },
  ];
  for (const vector of vectors) {
    it(`matches the AWS test vector ${vector.name}`, () => {
      const signed = signV4(
        { method: vector.method, path: vector.path, query: vector.query, headers: { ...base, ...vector.headers }, payloadHash: sha256Hex(vector.body ?? '') },
        { credentials, region: 'us-east-1', service: 'service' },
      );
      assert.equal(signed.signature, vector.signature);
    });
  }

  it('matches the S3 GetObject example of the S3 API reference', () => {
    const empty = sha256Hex('');
    const signed = signV4(
      { method: 'GET', path: '/test.txt', headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': empty, 'x-amz-date': '20130524T000000Z' }, payloadHash: empty },
      { credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, region: 'us-east-1', service: 's3' },
    );
    assert.equal(signed.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    assert.equal(
      signed.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe('S3 blob store against a local stand-in server (not a real S3 implementation)', () => {
  const credentials = { accessKeyId: 'test-access', secretAccessKey: 'test-secret-0123456789' };
  const objects = new Map<string, Buffer>();
  const seen: { method: string; path: string; verified: boolean }[] = [];
  let server: Server;
  let endpoint: string;

  const body = (request: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks)));
    });

  before(async () => {
    // Checks what a server checks: the payload hash and the signature over the request it received.
    server = createServer(async (request, response) => {
      const bytes = await body(request);
      const path = decodeURIComponent(new URL(request.url!, 'http://x').pathname);
      const headers = { host: request.headers.host!, 'x-amz-date': String(request.headers['x-amz-date']), 'x-amz-content-sha256': String(request.headers['x-amz-content-sha256']) };
      const expected = signV4({ method: request.method!, path, headers, payloadHash: sha256Hex(bytes) }, { credentials, region: 'eu-test-1', service: 's3' });
      const verified = request.headers.authorization === expected.authorization && headers['x-amz-content-sha256'] === sha256Hex(bytes);
      seen.push({ method: request.method!, path, verified });
      if (!verified) return response.writeHead(403).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
      if (request.method === 'PUT') objects.set(path, bytes);
      if (request.method === 'DELETE') objects.delete(path);
      if (request.method === 'GET') {
        const found = objects.get(path);
        if (!found) return response.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
        return response.writeHead(200).end(found);
      }
      response.writeHead(request.method === 'DELETE' ? 204 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('puts, gets and deletes signed objects path-style, and reports refusals', async () => {
    const store = new S3BlobStore({ endpoint, bucket: 'evidence', region: 'eu-test-1', credentials, prefix: 'bulwark' });
    const payload = randomBytes(1000);
    await store.put('records/5/x.sealed', payload);
    assert.deepEqual(seen.at(-1), { method: 'PUT', path: '/evidence/bulwark/records/5/x.sealed', verified: true });
    assert.ok((await store.get('records/5/x.sealed'))?.equals(payload));
    await store.delete('records/5/x.sealed');
    assert.equal(await store.get('records/5/x.sealed'), undefined);
    const wrong = new S3BlobStore({ endpoint, bucket: 'evidence', region: 'eu-test-1', credentials: { ...credentials, secretAccessKey: 'wrong-secret' } });
    await expectError(wrong.put('records/5/y.sealed', payload), 'unavailable', /HTTP 403 SignatureDoesNotMatch/);
    await expectError(new S3BlobStore({ endpoint: 'http://127.0.0.1:1', bucket: 'b', region: 'r', credentials }).get('records/1/z.sealed'), 'unavailable', /unreachable/);
  });
});
