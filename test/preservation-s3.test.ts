import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { BulwarkError } from '../src/errors.ts';
import { MediaVault } from '../src/media/media-vault.ts';
import { PreservationService } from '../src/preservation/preservation-service.ts';
import { S3BlobStore } from '../src/preservation/s3-blob-store.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { S3TestServer } from './helpers/s3-server.ts';

// Bulwark's S3 blob store and preservation service against s3rver, an S3-compatible server
// that checks SigV4 signatures itself (test/helpers/s3-server.ts). Nothing here is skipped:
// the server runs in this process, so CI runs these tests wherever it runs the suite.

const expectError = async (promise: Promise<unknown>, kind: BulwarkError['kind'], message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const BUCKET = 'evidence';

describe('S3 blob store against an S3-compatible server (s3rver)', () => {
  const s3 = new S3TestServer();
  const store = (overrides: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}) =>
    new S3BlobStore({ endpoint: s3.endpoint, bucket: BUCKET, region: s3.region, credentials: s3.credentials, prefix: 'bulwark/preservation', ...overrides });

  before(async () => {
    await s3.start();
    await s3.createBucket(BUCKET);
  });
  after(() => s3.stop());

  it('stores objects under the prefix and returns them byte for byte', async () => {
    const objects = new Map([
      ['records/1/one-byte.sealed', randomBytes(1)],
      ['records/1/small.sealed', randomBytes(64 * 1024)],
      ['records/2/large.sealed', randomBytes(6 * 1024 * 1024 + 7)],
    ]);
    for (const [key, bytes] of objects) await store().put(key, bytes);
    assert.deepEqual(await s3.keys(BUCKET, 'bulwark/'), [...objects.keys()].map((key) => `bulwark/preservation/${key}`).sort());
    for (const [key, bytes] of objects) {
      const back = await store().get(key);
      assert.ok(back?.equals(bytes), `${key} comes back as written (${bytes.length} bytes)`);
    }
    assert.ok((await store({ prefix: '/bulwark/preservation/' }).get('records/1/small.sealed'))?.equals(objects.get('records/1/small.sealed')!), 'slashes around the prefix do not change the key');
  });

  it('replaces an object written again under the same name, and keeps one copy', async () => {
    const first = randomBytes(2048);
    const second = randomBytes(1024);
    await store().put('records/3/again.sealed', first);
    await store().put('records/3/again.sealed', first);
    assert.ok((await store().get('records/3/again.sealed'))?.equals(first), 'writing the same bytes twice leaves them as they were');
    await store().put('records/3/again.sealed', second);
    assert.ok((await store().get('records/3/again.sealed'))?.equals(second), 'the last write wins, whole');
    assert.deepEqual(await s3.keys(BUCKET, 'bulwark/preservation/records/3/'), ['bulwark/preservation/records/3/again.sealed']);
  });

  it('deletes objects, and deleting one that is not there is no error', async () => {
    await store().put('records/4/gone.sealed', randomBytes(300));
    await store().delete('records/4/gone.sealed');
    assert.equal(await store().get('records/4/gone.sealed'), undefined);
    assert.deepEqual(await s3.keys(BUCKET, 'bulwark/preservation/records/4/'), []);
    await store().delete('records/4/gone.sealed');
    await store().delete('records/4/never-written.sealed');
  });

  it('answers undefined for a missing object but fails on a missing bucket', async () => {
    assert.equal(await store().get('records/5/never-written.sealed'), undefined, 'NoSuchKey: the object is absent');
    // S3 answers 404 for both; reading NoSuchBucket as "no object" would hide a wrong bucket,
    // and treating it as a successful delete would let a purge record deletions it never made.
    const wrongBucket = store({ bucket: 'no-such-bucket' });
    await expectError(wrongBucket.get('records/5/x.sealed'), 'unavailable', /return an object: HTTP 404 NoSuchBucket/);
    await expectError(wrongBucket.delete('records/5/x.sealed'), 'unavailable', /delete an object: HTTP 404 NoSuchBucket/);
    await expectError(wrongBucket.put('records/5/x.sealed', randomBytes(10)), 'unavailable', /store an object: HTTP 404 NoSuchBucket/);
  });

  it('is refused by the server with a wrong secret, an unknown key or a skewed clock', async () => {
    const kept = randomBytes(500);
    await store().put('records/6/kept.sealed', kept);
    const wrongSecret = store({ credentials: { ...s3.credentials, secretAccessKey: `${s3.credentials.secretAccessKey}x` } });
    await expectError(wrongSecret.put('records/6/forged.sealed', randomBytes(10)), 'unavailable', /HTTP 403 SignatureDoesNotMatch/);
    await expectError(wrongSecret.get('records/6/kept.sealed'), 'unavailable', /HTTP 403 SignatureDoesNotMatch/);
    await expectError(wrongSecret.delete('records/6/kept.sealed'), 'unavailable', /HTTP 403 SignatureDoesNotMatch/);
    const unknownKey = store({ credentials: { accessKeyId: 'not-a-key-of-this-server', secretAccessKey: s3.credentials.secretAccessKey } });
    await expectError(unknownKey.get('records/6/kept.sealed'), 'unavailable', /HTTP 403 InvalidAccessKeyId/);
    // The signature covers x-amz-date; S3 refuses requests more than 15 minutes off its clock.
    const skewed = store({ now: () => new Date(Date.now() - 20 * 60_000) });
    await expectError(skewed.get('records/6/kept.sealed'), 'unavailable', /HTTP 403 RequestTimeTooSkewed/);
    assert.deepEqual(await s3.keys(BUCKET, 'bulwark/preservation/records/6/'), ['bulwark/preservation/records/6/kept.sealed'], 'nothing was written or deleted by a refused request');
    assert.ok((await store().get('records/6/kept.sealed'))?.equals(kept));
  });

  it('says the server is unreachable when nothing listens', async () => {
    await expectError(store({ endpoint: 'http://127.0.0.1:1' }).get('records/7/x.sealed'), 'unavailable', /object storage at 127\.0\.0\.1:1 is unreachable/);
  });
});

describe('evidence preservation on S3-compatible storage (s3rver, PGlite)', () => {
  const s3 = new S3TestServer();
  let bulwark: Bulwark;
  let reviewer: Reviewer;
  let png: Buffer;
  let mediaKey: string;
  const clock = { now: new Date('2025-01-15T12:00:00.000Z') };
  const key = randomBytes(32).toString('hex');
  // The store signs with the real time (the server checks it); only the service's clock is set.
  const s3Store = (bucket = BUCKET) => new S3BlobStore({ endpoint: s3.endpoint, bucket, region: s3.region, credentials: s3.credentials, prefix: 'cases' });
  const service = (bucket = BUCKET) =>
    new PreservationService(bulwark.sql, bulwark.audit, { key, blobStore: s3Store(bucket), vault: new MediaVault(mediaKey), now: () => clock.now, processName: 'test-process' });

  /** A confirmed content case whose media is held in the review vault. */
  async function confirmedCase(contentId: string, accountId: string, seed: number): Promise<number> {
    png = await encodeImage(shapesImage(seed, 320, 240), 'png');
    await bulwark.banks.addEntry('verified', { signalType: 'md5', value: md5(png), source: 'test' });
    await bulwark.content.submit({ contentId, accountId, contentType: 'photo', media: png });
    await bulwark.rules.runner.drain();
    await bulwark.hashMatchLabeller.drain();
    const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
    assert.equal(claimed?.subject.id, contentId);
    await bulwark.cases.decide(claimed!.id, reviewer, { verdict: 'confirm', policy: 'csam', note: 'matches the verified list' });
    return claimed!.id;
  }

  before(async () => {
    await s3.start();
    await s3.createBucket(BUCKET);
    mediaKey = randomBytes(32).toString('hex');
    bulwark = await openBulwark({ mediaKey, bankRefreshMs: 0 });
    await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
    await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
    reviewer = await bulwark.reviewers.create({ username: 'rev-s3', password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
  });
  after(async () => {
    await bulwark.close();
    await s3.stop();
  });

  it('preserves a case into the bucket sealed, opens it for a stated purpose and purges it at expiry', async () => {
    const caseId = await confirmedCase('content-s3-1', 'acct-s3-1', 31);
    const preservation = service();
    const record = await preservation.preserve({ caseId, reason: 'ncmec_report', requestedBy: 'ncmec-reporter', ncmecReportId: 'report-s3-1' });
    assert.equal(record.media_count, 1);

    const stored = await s3.keys(BUCKET, `cases/records/${record.id}/`);
    assert.equal(stored.length, 1, 'one media object in the bucket, under the record');
    assert.match(stored[0], new RegExp(`^cases/records/${record.id}/[0-9a-f]{24}\\.sealed$`), 'named at random, not after the content');
    const sealed = await s3Store().get(stored[0].slice('cases/'.length));
    assert.ok(sealed && sealed.length > png.length, 'the object holds the sealed media');
    assert.equal(sealed.indexOf(png.subarray(0, 64)), -1, 'the media is not in the bucket in the clear');
    assert.equal(sealed.indexOf(Buffer.from('content-s3-1')), -1);

    const opened = await preservation.open(record.id, { by: 'legal-1', purpose: 'answer to a court order', withMedia: true });
    assert.equal(opened.snapshot.case.id, caseId);
    assert.equal(opened.media?.length, 1);
    assert.ok(opened.media![0].bytes.equals(png), 'the preserved media opens from the bucket to the uploaded bytes');
    const detail = await preservation.get(record.id);
    assert.deepEqual(detail.accesses.at(-1), { accessed_by: 'legal-1', purpose: 'answer to a court order', with_media: true, accessed_at: clock.now.toISOString() });
    const blobRows = await bulwark.sql.query<{ store: string }>('SELECT store FROM preservation_blobs WHERE record_id = $1', [record.id]);
    assert.deepEqual(blobRows.rows.map((row) => row.store), ['s3']);

    const afterExpiry = new Date('2026-01-16T00:00:00.000Z');
    const purge = await preservation.purgeExpired(afterExpiry, { by: 'ops' });
    assert.deepEqual(purge.purged.map((p) => p.record_id), [record.id]);
    assert.deepEqual(await s3.keys(BUCKET, `cases/records/${record.id}/`), [], 'the purge deleted the object from the bucket');
    const gone = await preservation.get(record.id);
    assert.equal(gone.status, 'purged');
    assert.deepEqual((gone.tombstone!.deleted.blobs as { blob_key: string; store: string }[]).map((b) => [b.blob_key, b.store]), [[stored[0].slice('cases/'.length), 's3']]);
    await expectError(preservation.open(record.id, { by: 'legal-1', purpose: 'after the purge' }), 'not_found', /purged/);
  });

  it('says clearly when a media object is missing from the bucket', async () => {
    const caseId = await confirmedCase('content-s3-2', 'acct-s3-2', 32);
    const preservation = service();
    const record = await preservation.preserve({ caseId, reason: 'ncmec_report', requestedBy: 'ncmec-reporter' });
    const [objectKey] = await s3.keys(BUCKET, `cases/records/${record.id}/`);
    const removed = await s3.signed('DELETE', `/${BUCKET}/${objectKey}`);
    assert.equal(removed.status, 204);
    await expectError(preservation.open(record.id, { by: 'legal-1', purpose: 'check after an outside deletion', withMedia: true }), 'unavailable', /media object of preservation record \d+ is missing from the s3 store/);
    const metadataOnly = await preservation.open(record.id, { by: 'legal-1', purpose: 'metadata still opens' });
    assert.equal(metadataOnly.snapshot.case.id, caseId);
  });

  it('does not record a purge it could not carry out when the bucket is wrong', async () => {
    const caseId = await confirmedCase('content-s3-3', 'acct-s3-3', 33);
    const record = await service().preserve({ caseId, reason: 'ncmec_report', requestedBy: 'ncmec-reporter' });
    const [objectKey] = await s3.keys(BUCKET, `cases/records/${record.id}/`);
    const afterExpiry = new Date('2026-01-16T00:00:00.000Z');
    const misconfigured = service('no-such-bucket');
    await expectError(misconfigured.purgeExpired(afterExpiry, { by: 'ops' }), 'unavailable', /delete an object: HTTP 404 NoSuchBucket/);
    const still = await misconfigured.get(record.id);
    assert.equal(still.status, 'preserved');
    assert.equal(still.tombstone, null, 'no tombstone claims a deletion that did not happen');
    assert.deepEqual(await s3.keys(BUCKET, `cases/records/${record.id}/`), [objectKey], 'the object is still in the real bucket');
    const purge = await service().purgeExpired(afterExpiry, { by: 'ops' });
    assert.ok(purge.purged.some((p) => p.record_id === record.id), 'with the right bucket the purge goes through');
    assert.deepEqual(await s3.keys(BUCKET, `cases/records/${record.id}/`), []);
  });
});
