import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { BulwarkError } from '../src/errors.ts';
import { encodeImage, noiseImage, shapesImage } from '../src/demo/benign-images.ts';
import { blurredPreview, PREVIEW_EDGE } from '../src/media/preview.ts';
import { loadReportFacts } from '../src/reporting/ncmec/report-builder.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

const expectError = async (promise: Promise<unknown>, kind: BulwarkError['kind'], message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));

/** Mean absolute 4-neighbour Laplacian of a one-channel image: how much fine detail it holds. */
function highFrequencyEnergy(data: Buffer, width: number, height: number): number {
  let sum = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      sum += Math.abs(4 * data[i] - data[i - 1] - data[i + 1] - data[i - width] - data[i + width]);
    }
  }
  return sum / ((width - 2) * (height - 2));
}

const grey = async (image: Buffer, width?: number, height?: number) => {
  const pipeline = sharp(image).greyscale();
  if (width && height) pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' });
  const { data, info } = await pipeline.toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

describe('blurred previews', () => {
  const originals = async () => [
    await encodeImage(shapesImage(21, 320, 240), 'png'),
    await encodeImage(shapesImage(22, 640, 360), 'jpeg'),
    await encodeImage(noiseImage(7, 256, 256), 'png'),
    await encodeImage(shapesImage(23, 200, 400), 'webp'),
  ];

  it('are small greyscale JPEGs, other bytes than the original, with every channel equal', async () => {
    for (const original of await originals()) {
      const preview = await blurredPreview(original);
      assert.ok(!preview.equals(original));
      const meta = await sharp(preview).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.channels, 1, 'one grey channel');
      assert.equal(Math.max(meta.width!, meta.height!), PREVIEW_EDGE);
      const source = await sharp(original).metadata();
      assert.ok(Math.abs((meta.width! / meta.height!) / (source.width! / source.height!) - 1) < 0.1, 'the aspect ratio is kept (to the preview grid)');
      // Decoded as a browser would, to RGB: red, green and blue are the same at every pixel.
      const { data, info } = await sharp(preview).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 3);
      let unequal = 0;
      for (let i = 0; i < data.length; i += 3) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) unequal++;
      assert.equal(unequal, 0, 'no pixel has colour');
    }
  });

  it('hold almost no fine detail: a small fraction of the original’s high-frequency energy', async () => {
    for (const original of await originals()) {
      const preview = await blurredPreview(original);
      // Both compared at a quarter of the preview's size, where 8-bit rounding of smooth ramps
      // (about 1 per pixel at full size) averages out and only structure remains.
      const meta = await sharp(preview).metadata();
      const width = Math.round(meta.width! / 4);
      const height = Math.round(meta.height! / 4);
      const blurred = await grey(preview, width, height);
      const reference = await grey(original, width, height);
      const blurredEnergy = highFrequencyEnergy(blurred.data, width, height);
      const originalEnergy = highFrequencyEnergy(reference.data, width, height);
      assert.ok(originalEnergy > 10, `the original has detail (${originalEnergy.toFixed(2)})`);
      assert.ok(blurredEnergy < 3, `the preview has almost none (${blurredEnergy.toFixed(3)})`);
      assert.ok(blurredEnergy < originalEnergy / 8, `the preview keeps under an eighth of it (${blurredEnergy.toFixed(3)} vs ${originalEnergy.toFixed(2)})`);
    }
  });

  it('cannot tell apart two pictures that differ only in a detail', async () => {
    // The same picture with a different small shape in one corner (a face, a word would be no larger).
    const base = shapesImage(31, 320, 240);
    const changed = { ...base, pixels: Buffer.from(base.pixels) };
    for (let y = 10; y < 40; y++) for (let x = 10; x < 40; x++) changed.pixels.fill((x + y) % 2 ? 255 : 0, (y * 320 + x) * 3, (y * 320 + x) * 3 + 3);
    const a = await grey(await blurredPreview(await encodeImage(base, 'png')));
    const b = await grey(await blurredPreview(await encodeImage(changed, 'png')));
    let maxDifference = 0;
    for (let i = 0; i < a.data.length; i++) maxDifference = Math.max(maxDifference, Math.abs(a.data[i] - b.data[i]));
    assert.ok(maxDifference <= 24, `a 30 px checkerboard changes the preview by at most a faint smudge (max ${maxDifference})`);
  });

  it('preview undecodable media as flat grey rather than failing', async () => {
    const preview = await grey(await blurredPreview(Buffer.from('not an image at all')));
    assert.ok(preview.data.every((value) => Math.abs(value - 128) <= 2));
  });
});

for (const target of targets) {
  describe(`reviewed means seen: previews, reveals and NCMEC's viewed flag (${target.name})`, () => {
    let bulwark: Bulwark;
    let reviewer: Reviewer;
    let lead: Reviewer;
    let seed = 500;
    const images = new Map<string, Buffer>();

    const claimedCase = async (contentId: string) => {
      const png = await encodeImage(shapesImage(seed++, 320, 240), 'png');
      images.set(contentId, png);
      const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
      await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq, source: 'test' });
      await bulwark.content.submit({ contentId, accountId: `acct-${contentId}`, contentType: 'photo', media: png });
      await bulwark.rules.runner.drain();
      const [opened] = await bulwark.cases.list({ subject: { kind: 'content', id: contentId } });
      assert.ok(opened, `a case was opened for ${contentId}`);
      await bulwark.cases.claim(opened.id, reviewer);
      return opened.id;
    };
    const actions = async (caseId: number) => (await bulwark.audit.list({ subject: `case:${caseId}` })).map((entry) => entry.action).filter((action) => action.startsWith('media.')).reverse();
    const viewed = async (caseId: number) => (await loadReportFacts(bulwark.sql, caseId, ['confirm'])).files.map((file) => [file.content_id, file.viewed_by_esp]);

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), mediaKey: randomBytes(32).toString('hex'), bankRefreshMs: 0 });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
      reviewer = await bulwark.reviewers.create({ username: 'rev-seen', password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
      lead = await bulwark.reviewers.create({ username: 'lead-seen', password: 'correct horse battery', role: 'lead' });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('a preview is logged as media.previewed, counts no exposure, opens no original and leaves the report unviewed', async () => {
      const caseId = await claimedCase('seen-1');
      const preview = await bulwark.cases.preview(caseId, reviewer);
      assert.equal(preview.mediaType, 'image/jpeg');
      assert.ok(!preview.media.equals(images.get('seen-1')!));
      await expectError(bulwark.cases.media(caseId, reviewer), 'forbidden', /reveal the media of case \d+ first/);
      assert.deepEqual(await actions(caseId), ['media.previewed']);
      assert.equal(await bulwark.reviewers.exposureToday(reviewer.id), 0, 'a blurred preview is no exposure');
      // An entry of the old kind (an original fetched without a reveal) no longer counts as viewed either.
      await bulwark.sql.transaction((tx) => bulwark.audit.append(tx, { actor: 'rev-seen', action: 'media.accessed', subject: `case:${caseId}` }));
      await bulwark.cases.decide(caseId, reviewer, { verdict: 'confirm', policy: 'csam' });
      assert.deepEqual(await viewed(caseId), [['seen-1', false]]);
    });

    it('a reveal is counted, logged with its content, opens the original once, and makes the report viewed', async () => {
      const caseId = await claimedCase('seen-2');
      await bulwark.cases.preview(caseId, reviewer);
      assert.equal((await bulwark.cases.reveal(caseId, reviewer)).exposureToday, 1);
      const original = await bulwark.cases.media(caseId, reviewer);
      assert.ok(original.media.equals(images.get('seen-2')!));
      await expectError(bulwark.cases.media(caseId, reviewer), 'forbidden', /each reveal opens the original once/);
      assert.equal((await bulwark.cases.reveal(caseId, reviewer)).exposureToday, 2);
      assert.ok((await bulwark.cases.media(caseId, reviewer)).media.equals(images.get('seen-2')!));
      assert.deepEqual(await actions(caseId), ['media.previewed', 'media.revealed', 'media.accessed', 'media.revealed', 'media.accessed']);
      const revealed = (await bulwark.audit.list({ subject: `case:${caseId}` })).find((entry) => entry.action === 'media.revealed');
      assert.deepEqual(revealed?.detail, { subject: { kind: 'content', id: 'seen-2' }, content_id: 'seen-2' });
      await bulwark.cases.decide(caseId, reviewer, { verdict: 'confirm', policy: 'csam' });
      assert.deepEqual(await viewed(caseId), [['seen-2', true]]);
    });

    it('a grant lapses: the original stays closed once the reveal is older than revealMs', async () => {
      const caseId = await claimedCase('seen-3');
      await bulwark.cases.reveal(caseId, reviewer);
      // Moved into the past rather than waited for.
      await bulwark.sql.query(`UPDATE media_reveals SET open_until = now() - interval '1 second' WHERE case_id = $1`, [caseId]);
      await expectError(bulwark.cases.media(caseId, reviewer), 'forbidden', /reveal the media/);
      assert.deepEqual(await actions(caseId), ['media.revealed']);
    });

    it('a reveal in an earlier case about the same content counts for the case that is reported', async () => {
      const caseId = await claimedCase('seen-4');
      await bulwark.cases.reveal(caseId, reviewer);
      const escalated = await bulwark.cases.decide(caseId, reviewer, { verdict: 'escalate', note: 'second opinion' });
      assert.ok(escalated.escalatedTo);
      await bulwark.cases.claim(escalated.escalatedTo, lead);
      await bulwark.cases.preview(escalated.escalatedTo, lead);
      await bulwark.cases.decide(escalated.escalatedTo, lead, { verdict: 'confirm', policy: 'csam' });
      assert.deepEqual(await viewed(escalated.escalatedTo), [['seen-4', true]]);
    });

    it('a case without media held offers no preview and no reveal, and counts nothing', async () => {
      const report = await bulwark.reports.submit({ reporter_kind: 'user', category: 'other', subject: { kind: 'account', id: 'acct-plain' } });
      assert.ok(report);
      await bulwark.rules.runner.drain();
      const [opened] = await bulwark.cases.list({ subject: { kind: 'account', id: 'acct-plain' } });
      await bulwark.cases.claim(opened.id, reviewer);
      const before = await bulwark.reviewers.exposureToday(reviewer.id);
      await expectError(bulwark.cases.preview(opened.id, reviewer), 'not_found', /holds no media/);
      await expectError(bulwark.cases.reveal(opened.id, reviewer), 'not_found', /holds no media/);
      assert.equal(await bulwark.reviewers.exposureToday(reviewer.id), before);
    });
  });
}
