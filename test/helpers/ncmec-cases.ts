import assert from 'node:assert/strict';
import type { Bulwark } from '../../src/app.ts';
import { encodeImage, shapesImage } from '../../src/demo/benign-images.ts';
import type { Reviewer } from '../../src/reviewers/reviewer-service.ts';
import { hashContent } from '../../src/signals/hash-content.ts';
import { REVIEW_RULES } from '../fixtures/review-rules.ts';

/** Rules, a bank of benign stand-ins and a reviewer: what a store needs before cases can be reported. */
export async function prepareReportingStore(bulwark: Bulwark, reviewerName: string): Promise<Reviewer> {
  await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
  await bulwark.banks.create('verified', 'benign stand-ins for a verified list');
  return bulwark.reviewers.create({ username: reviewerName, password: 'correct horse battery', role: 'reviewer', teams: ['media-team'] });
}

/**
 * Uploads a benign generated image that matches the bank and lets the reviewer decide its case
 * (confirm under the csam policy unless told otherwise). Returns the case and the image.
 */
export async function decideMatchedUpload(
  bulwark: Bulwark,
  reviewer: Reviewer,
  seed: number,
  contentId: string,
  accountId: string,
  options: { reveal?: boolean; verdict?: string } = {},
): Promise<{ caseId: number; png: Buffer }> {
  const png = await encodeImage(shapesImage(seed, 320, 240), 'png');
  const pdq = (await hashContent(bulwark.signals, 'photo', png)).find((signal) => signal.signalType === 'pdq')!.value;
  await bulwark.banks.addEntry('verified', { signalType: 'pdq', value: pdq, source: 'test' });
  await bulwark.content.submit({ contentId, accountId, contentType: 'photo', media: png, createdAt: new Date('2024-05-01T09:30:00.000Z') });
  await bulwark.rules.runner.drain();
  const [opened] = await bulwark.cases.list({ subject: { kind: 'content', id: contentId } });
  assert.ok(opened, `a case was opened for ${contentId}`);
  await bulwark.cases.claim(opened.id, reviewer);
  if (options.reveal) await bulwark.cases.reveal(opened.id, reviewer);
  const verdict = options.verdict ?? 'confirm';
  await bulwark.cases.decide(opened.id, reviewer, verdict === 'confirm' ? { verdict, policy: 'csam' } : { verdict });
  return { caseId: opened.id, png };
}
