import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import type { ExchangeFeedback } from '../src/exchange/exchange.ts';
import { queueFeedback } from '../src/exchange/feedback.ts';
import { ExchangeTypeRegistry } from '../src/exchange/types/registry.ts';
import { fileExchangeType } from '../src/exchange/types/file.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { FakeClock, fakeExchangeType, permanent, randomPdq, retryable, ScriptedSource } from './helpers/fake-exchange.ts';
import { ListServer } from './helpers/list-server.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

for (const target of targets) {
  describe(`exchange feedback (${target.name})`, () => {
    let bulwark: Bulwark;
    let reviewer: Reviewer;
    const source = new ScriptedSource();
    const clock = new FakeClock();
    const lists = new ListServer();
    const [shared, single, listed] = [randomPdq(), randomPdq(), randomPdq()];

    before(async () => {
      await lists.start();
      const types = new ExchangeTypeRegistry([fakeExchangeType(new Map([['partner', source]])), fileExchangeType]);
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0, hashing: { workers: 0 }, dispatchActions: false, exchanges: { types, now: clock.now, env: { BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1' }, initialBackoffMs: 1000 } });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      reviewer = await bulwark.reviewers.create({ username: 'rev-feedback', password: 'correct horse battery', role: 'reviewer', teams: [] });
      source.pages = [
        {
          items: [
            { key: 'm1-100', member: 'm1', signals: [{ signalType: 'pdq', value: shared }], tags: ['A1'] },
            { key: 'm2-200', member: 'm2', signals: [{ signalType: 'pdq', value: shared }] },
            { key: 'm1-300', member: 'm1', signals: [{ signalType: 'pdq', value: single }] },
          ],
          progressAt: '2026-01-01T00:00:00Z',
        },
      ];
      await bulwark.exchanges.add({ name: 'partner', type: 'fake', bank: 'exchanged', config: { source: 'partner' } });
      assert.equal((await bulwark.exchanges.fetchNow('partner')).error, undefined);
      lists.lists.set('/list.txt', { body: `pdq ${listed}\n` });
      await bulwark.exchanges.add({ name: 'plain-list', type: 'file', bank: 'listed', config: { url: `${lists.url}/list.txt` } });
      assert.equal((await bulwark.exchanges.fetchNow('plain-list')).error, undefined);
    });
    after(async () => {
      await bulwark.close();
      await lists.stop();
      await target.cleanup();
    });

    /** Uploads content with this hash, opens its case, and has the reviewer decide it. */
    const decide = async (contentId: string, hash: string, verdict: { verdict: string; policy?: string; note?: string }) => {
      await bulwark.content.submit({ contentId, accountId: 'account-1', contentType: 'photo', signals: [{ signalType: 'pdq', value: hash, quality: 100 }] });
      await bulwark.cases.open({ queue: 'reports', subject: { kind: 'content', id: contentId }, reason: { rule: 'manual', summary: 'test' } });
      const claimed = await bulwark.cases.claimNext(reviewer, 'reports');
      assert.equal(claimed?.subject.id, contentId);
      const decided = await bulwark.cases.decide(claimed!.id, reviewer, verdict);
      await bulwark.wake();
      return { ...decided, claimed: claimed! };
    };
    const feedbackOf = async (key: string) => (await bulwark.exchanges.item('partner', key)).feedback;

    it("queues a confirmed match as true positive for every item holding the entry, and a dismissal as false positive with the reviewer's reason", async () => {
      const confirmed = await decide('upload-shared', shared, { verdict: 'confirm', policy: 'csam' });
      // The reviewer saw where the matched entry came from (the console's case view shows this).
      assert.deepEqual(confirmed.claimed.content?.matches[0].provenance, [
        { exchange: 'partner', member: 'm1', item_key: 'm1-100', tags: ['A1'] },
        { exchange: 'partner', member: 'm2', item_key: 'm2-200', tags: [] },
      ]);
      const dismissed = await decide('upload-single', single, { verdict: 'dismiss', note: 'a stock logo' });
      for (const key of ['m1-100', 'm2-200']) {
        assert.deepEqual((await feedbackOf(key)).map((f) => [f.verdict, f.status, f.caseId]), [['true_positive', 'pending', confirmed.case.id]]);
      }
      assert.deepEqual((await feedbackOf('m1-300')).map((f) => [f.verdict, f.reason, f.status, f.caseId]), [['false_positive', 'a stock logo', 'pending', dismissed.case.id]]);
      assert.deepEqual((await bulwark.exchanges.status('partner')).feedback, { pending: 3, sent: 0, failed: 0, unsupported: 0 });
    });

    it('a replayed decision event queues nothing twice', async () => {
      const event = (await bulwark.events.read({ types: ['case.decided'] })).at(-1)!;
      await bulwark.sql.transaction((tx) => queueFeedback(tx, event));
      assert.equal((await bulwark.exchanges.status('partner')).feedback.pending, 3);
    });

    it('hands the entries of a false positive to the local disabling hook, and those of a confirmation to none', async () => {
      const [dismissal, confirmation] = [...(await bulwark.events.read({ types: ['case.decided'] }))].reverse();
      const disabled: [number, string][] = [];
      const published: number[] = [];
      const hook = async (_tx: unknown, entryId: number, reason: string) => {
        disabled.push([entryId, reason]);
        return () => void published.push(entryId);
      };
      const afterFalse = await bulwark.sql.transaction((tx) => queueFeedback(tx, dismissal, { disableOnFalsePositive: hook }));
      const afterTrue = await bulwark.sql.transaction((tx) => queueFeedback(tx, confirmation, { disableOnFalsePositive: hook }));
      const singleEntry = (await bulwark.banks.listEntries('exchanged')).find((entry) => entry.value === single)!;
      assert.deepEqual(disabled, [[singleEntry.id, `false positive (case ${(dismissal.payload as { case_id: number }).case_id})`]]);
      assert.equal(afterTrue.length, 0);
      for (const publish of afterFalse) await publish();
      assert.deepEqual(published, [singleEntry.id]);
    });

    it('sends the feedback through the exchange, retrying with backoff, and records what the source refused', async () => {
      source.feedbackError = retryable('503 from the source');
      assert.equal(await bulwark.exchanges.fetcher.sendFeedback(), 3);
      let feedback = await feedbackOf('m1-300');
      assert.deepEqual([feedback[0].status, feedback[0].attempts, feedback[0].lastError], ['pending', 1, '503 from the source']);
      assert.equal(feedback[0].nextAttemptAt?.getTime(), clock.now().getTime() + 1000);
      assert.equal(await bulwark.exchanges.fetcher.sendFeedback(), 0, 'nothing is due before the backoff');

      source.feedbackError = undefined;
      clock.advance(1000);
      assert.equal(await bulwark.exchanges.fetcher.sendFeedback(), 3);
      assert.deepEqual((await bulwark.exchanges.status('partner')).feedback, { pending: 0, sent: 3, failed: 0, unsupported: 0 });
      const sent = source.feedback as ExchangeFeedback[];
      const falsePositive = sent.find((f) => f.item.key === 'm1-300')!;
      assert.deepEqual(falsePositive.item, { key: 'm1-300', member: 'm1', signals: [{ signalType: 'pdq', value: single }] });
      assert.equal(falsePositive.verdict, 'false_positive');
      assert.equal(falsePositive.reason, 'a stock logo');
      assert.equal(new Set(sent.map((f) => f.idempotencyKey)).size, 3);
      feedback = await feedbackOf('m1-300');
      assert.equal(feedback[0].sentAt?.getTime(), clock.now().getTime());

      // The dismissal disabled the entry here (the default hook); a lead switches it back on, so it matches again.
      const singleEntry = (await bulwark.banks.listEntries('exchanged')).find((entry) => entry.value === single)!;
      assert.equal(singleEntry.disabledUntil, 'infinity');
      await bulwark.banks.enableEntry(singleEntry.id);
      source.feedbackError = permanent('400 unknown entry');
      await decide('upload-again', single, { verdict: 'dismiss', note: 'still a logo' });
      await bulwark.exchanges.fetcher.sendFeedback();
      assert.deepEqual((await feedbackOf('m1-300')).map((f) => f.status), ['sent', 'failed']);
      assert.deepEqual((await bulwark.exchanges.status('partner')).feedback, { pending: 0, sent: 3, failed: 1, unsupported: 0 });
    });

    it('marks feedback for a source that takes none as unsupported', async () => {
      await decide('upload-listed', listed, { verdict: 'confirm', policy: 'csam' });
      await bulwark.exchanges.fetcher.sendFeedback();
      assert.deepEqual((await bulwark.exchanges.status('plain-list')).feedback, { pending: 0, sent: 0, failed: 0, unsupported: 1 });
    });
  });
}
