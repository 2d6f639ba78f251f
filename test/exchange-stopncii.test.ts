import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ExchangeCheckpoint, FetchPage } from '../src/exchange/exchange.ts';
import { callJson } from '../src/exchange/types/json-api.ts';
import { parseFetchHashes } from '../src/exchange/types/stopncii-records.ts';
import { STOPNCII_BASE_URL, stopNciiExchangeType } from '../src/exchange/types/stopncii.ts';
import { BulwarkError } from '../src/errors.ts';
import { collectPages as collect, ExchangeFailures } from './helpers/exchange-runs.ts';
import { StopNciiServer } from './helpers/stopncii-server.ts';

const pdq = () => randomBytes(32).toString('hex');
const md5 = () => randomBytes(16).toString('hex');
const never = new AbortController().signal;

const keys = (pages: FetchPage[]) => pages.flatMap((page) => page.items.map((item) => item.key));

describe('StopNCII exchange against the stand-in', () => {
  const server = new StopNciiServer();
  let clock = new Date('2026-12-01T00:00:00Z');
  const secrets = () => Object.values(server.keys);
  const failures = new ExchangeFailures();
  const exchange = (overrides: Record<string, string> = {}, pageSize = 2) =>
    stopNciiExchangeType.create(stopNciiExchangeType.parseConfig({ baseUrl: server.url, pageSize }), {
      fetch: globalThis.fetch,
      now: () => clock,
      credentials: { fetchKey: server.keys.fetch, subscriptionKey: server.keys.subscription, feedbackKey: server.keys.feedback, ...overrides },
    });
  const expectFailure = (promise: Promise<unknown>) => failures.expect(promise);

  before(() => server.start());
  after(async () => {
    await server.stop();
    // Whatever failed, no message carried a key.
    failures.assertNoneMention(secrets(), 6);
  });
  beforeEach(() => {
    server.records.clear();
    server.feedback.length = 0;
    server.calls.length = 0;
  });

  it('reads a set page by page: PDQ and video MD5 as signals, TMK kept as a fingerprint, Text skipped with its reason', async () => {
    const [imageHash, videoHash, tmk] = [pdq(), md5(), 'tmk-feature-value'];
    server.put('ImagePDQ', imageHash.toUpperCase(), { CSPFeedbacks: [{ feedbackValue: 'Blocked', tags: ['tag-alpha'], source: 'Platform A' }] });
    server.now++;
    server.put('VideoMD5', videoHash, { CSPFeedbacks: [{ feedbackValue: 'Blocked', tags: [], source: 'A' }, { feedbackValue: 'NotBlocked', tags: [], source: 'B' }] });
    server.now++;
    server.put('VideoTMK', tmk);
    server.now++;
    server.put('Text', 'term-alpha');
    server.now++;
    const setEnd = server.now;
    const pages = await collect(exchange(), null);
    assert.equal(pages.length, 2);
    assert.deepEqual(server.calls.map((call) => [call.query.startTimestamp, call.query.pageSize, call.query.nextPageToken !== undefined]), [['10', '2', false], ['10', '2', true]]);
    const [first, last] = pages;
    assert.equal(first.checkpoint.progressAt, null, 'mid-set nothing is known complete');
    assert.equal(first.checkpoint.state.setStart, 10);
    assert.equal(typeof first.checkpoint.state.pageToken, 'string');
    assert.equal(last.checkpoint.progressAt, new Date(setEnd * 1000).toISOString());
    assert.deepEqual(last.checkpoint.state.setStart, setEnd);
    assert.equal(last.checkpoint.state.pageToken, undefined);
    const items = new Map(pages.flatMap((page) => page.items).map((item) => [item.key, item]));
    assert.deepEqual(items.get(`ImagePDQ ${imageHash.toUpperCase()}`)?.signals, [{ signalType: 'pdq', value: imageHash }]);
    assert.equal(items.get(`ImagePDQ ${imageHash.toUpperCase()}`)?.sourceOpinion, 'positive');
    assert.deepEqual(items.get(`ImagePDQ ${imageHash.toUpperCase()}`)?.tags, ['tag-alpha']);
    assert.deepEqual(items.get(`VideoMD5 ${videoHash}`)?.signals, [{ signalType: 'video_md5', value: videoHash }]);
    assert.equal(items.get(`VideoMD5 ${videoHash}`)?.sourceOpinion, 'disputed');
    assert.deepEqual(items.get(`VideoTMK ${tmk}`)?.signals, []);
    assert.deepEqual(items.get(`VideoTMK ${tmk}`)?.otherFingerprints, { VideoTMK: tmk });
    assert.equal(items.size, 3);
    assert.deepEqual(last.skipped, [{ item: 'hashRecords[1]', reason: 'Text records are not media hashes Bulwark matches' }]);
  });

  it('removes withdrawn and deleted hashes by hashStatus (python-threatexchange compares hashValue and keeps them)', async () => {
    const [kept, withdrawn, deleted] = [pdq(), pdq(), md5()];
    server.put('ImagePDQ', kept);
    server.put('ImagePDQ', withdrawn);
    server.put('VideoMD5', deleted);
    server.now += 10;
    const first = await collect(exchange({}, 10), null);
    assert.equal(first.length, 1);
    assert.equal(first[0].items.filter((item) => item.signals?.length).length, 3);
    server.now += 60;
    server.withdraw('ImagePDQ', withdrawn);
    server.withdraw('VideoMD5', deleted, 'Deleted');
    server.now += 10;
    const next = await collect(exchange({}, 10), first[0].checkpoint);
    assert.equal(server.calls.at(-1)?.query.startTimestamp, String(first[0].checkpoint.state.setStart));
    // Only the two changed records come again, each as a deletion even though its hashValue is an ordinary hash.
    assert.deepEqual(
      next.flatMap((page) => page.items).map((item) => [item.key, item.signals]).sort(),
      [[`ImagePDQ ${withdrawn}`, null], [`VideoMD5 ${deleted}`, null]].sort(),
    );
    assert.ok(next[0].checkpoint.progressAt! > first[0].checkpoint.progressAt!);
  });

  it('resumes from a mid-set checkpoint with nothing doubled or lost, and the next set holds only what changed', async () => {
    const hashes = Array.from({ length: 7 }, () => pdq());
    for (const hash of hashes) {
      server.put('ImagePDQ', hash);
      server.now++;
    }
    const all = keys(await collect(exchange(), null));
    assert.equal(all.length, 7);
    server.calls.length = 0;
    // The fetcher stopped after storing the second page's checkpoint.
    const firstTwo = await collect(exchange(), null, 2);
    const rest = await collect(exchange(), firstTwo[1].checkpoint);
    assert.equal(server.calls[2].query.nextPageToken, firstTwo[1].checkpoint.state.pageToken);
    const resumed = [...keys(firstTwo), ...keys(rest)];
    assert.equal(new Set(resumed).size, resumed.length, 'no item twice');
    assert.deepEqual([...resumed].sort(), [...all].sort());
    const changed = pdq();
    server.put('ImagePDQ', changed);
    server.now++;
    const after = await collect(exchange(), rest.at(-1)!.checkpoint);
    assert.deepEqual(keys(after), [`ImagePDQ ${changed}`]);
  });

  it('reads the set again from its start when a stored page token has expired, losing nothing', async () => {
    const hashes = Array.from({ length: 5 }, () => pdq());
    for (const hash of hashes) {
      server.put('ImagePDQ', hash);
      server.now++;
    }
    const [first] = await collect(exchange(), null, 1);
    server.expireTokens();
    server.calls.length = 0;
    const rest = await collect(exchange(), first.checkpoint);
    assert.deepEqual(server.calls.map((call) => [call.status, call.query.startTimestamp, call.query.nextPageToken === first.checkpoint.state.pageToken]), [
      [400, '10', true],
      [200, '10', false],
      [200, '10', false],
      [200, '10', false],
    ]);
    assert.deepEqual(new Set([...keys([first]), ...keys(rest)]), new Set(hashes.map((hash) => `ImagePDQ ${hash}`)));
    assert.equal(rest.at(-1)!.checkpoint.progressAt, new Date(server.now * 1000).toISOString());
  });

  it('refuses an answer larger than the limit without buffering it', async () => {
    const error = await failures.expect(
      callJson({ what: 'StopNCII FetchHashes', url: 'http://127.0.0.1:9/', init: {}, signal: never, fetch: async () => new Response('x'.repeat(5000)), now: () => clock, secrets: [], maxBytes: 1024 }),
    );
    assert.deepEqual([error.retryable, error.message], [false, 'StopNCII FetchHashes: the answer is over 1024 bytes; refused']);
  });

  it('calls a checkpoint stale 30 days after it was made', () => {
    const checkpoint: ExchangeCheckpoint = { progressAt: '2026-10-01T00:00:00.000Z', state: { setStart: 1, fetchedAt: '2026-11-01T00:00:00.000Z' } };
    const stopncii = exchange();
    assert.equal(stopncii.isStale!(checkpoint, new Date('2026-11-30T23:00:00Z')), false);
    assert.equal(stopncii.isStale!(checkpoint, new Date('2026-12-01T01:00:00Z')), true);
  });

  it('skips a bad hash in the middle of a page, naming it, and keeps the rest', async () => {
    const [good1, good2] = [pdq(), pdq()];
    server.put('ImagePDQ', good1);
    server.now++;
    server.put('ImagePDQ', 'not-a-pdq-hash');
    server.now++;
    server.put('ImagePDQ', good2);
    server.now++;
    server.put('ImagePDQ', pdq(), { hashStatus: 'Surprising' });
    server.now++;
    const [page] = await collect(exchange({}, 10), null);
    assert.deepEqual(keys([page]), [`ImagePDQ ${good1}`, `ImagePDQ ${good2}`]);
    assert.equal(page.skipped?.length, 2);
    assert.equal(page.skipped![0].item, 'hashRecords[1]');
    assert.match(page.skipped![0].reason, /ImagePDQ invalid pdq value: expected 64 hex digits/);
    assert.equal(page.skipped![1].item, 'hashRecords[3]');
    assert.match(page.skipped![1].reason, /hashStatus "Surprising"/);
  });

  it('stops on malformed JSON and on 401 without retrying; retries 429 and 5xx honouring Retry-After', async () => {
    server.put('ImagePDQ', pdq());
    server.now++;
    server.failNext('FetchHashes', 'malformed');
    const malformed = await expectFailure(collect(exchange(), null));
    assert.equal(malformed.retryable, false);
    assert.match(malformed.message, /not valid JSON/);

    server.failNext('FetchHashes', { status: 429, retryAfter: '7' });
    const limited = await expectFailure(collect(exchange(), null));
    assert.deepEqual([limited.retryable, limited.retryAfterMs], [true, 7000]);

    server.failNext('FetchHashes', { status: 503, retryAfter: new Date(clock.getTime() + 90_000).toUTCString() });
    const unavailable = await expectFailure(collect(exchange(), null));
    assert.deepEqual([unavailable.retryable, unavailable.retryAfterMs], [true, 90_000]);

    server.failNext('FetchHashes', { status: 500 });
    const failing = await expectFailure(collect(exchange(), null));
    assert.deepEqual([failing.retryable, failing.retryAfterMs], [true, undefined]);

    const wrongKeys: Record<string, string>[] = [{ fetchKey: 'wrong-fetch-key' }, { subscriptionKey: 'wrong-subscription-key' }];
    for (const wrong of wrongKeys) {
      const refused = await expectFailure(collect(exchange(wrong), null));
      assert.equal(refused.retryable, false);
      assert.match(refused.message, /refused the credentials \(HTTP 401\)/);
      for (const secret of Object.values(wrong)) assert.ok(!refused.message.includes(secret));
    }
    // After all that, a fetch still works.
    assert.equal(keys(await collect(exchange(), null)).length, 1);
  });

  it('refuses a page that repeats its token and a page larger than asked for', async () => {
    const repeating = stopNciiExchangeType.create(stopNciiExchangeType.parseConfig({ baseUrl: STOPNCII_BASE_URL }), {
      fetch: async () => Response.json({ count: 0, nextPageToken: 'token-1', nextSetTimestamp: 5, hasMoreRecords: true, hashRecords: [] }),
      now: () => clock,
      credentials: { fetchKey: 'f', subscriptionKey: 's' },
    });
    const error = await expectFailure(collect(repeating, { progressAt: null, state: { setStart: 10, pageToken: 'token-1' } }));
    assert.match(error.message, /same page would repeat/);
    assert.throws(() => parseFetchHashes({ count: 3, nextSetTimestamp: 1, hasMoreRecords: false, hashRecords: [{}, {}, {}] }, 2), /3 records, more than the 2 asked for/);
  });

  it('sends feedback after review: Blocked, NotBlocked, PendingReview, with its own function key', async () => {
    const hash = pdq();
    const item = { key: `ImagePDQ ${hash}`, signals: [{ signalType: 'pdq', value: hash }] };
    await exchange().sendFeedback!({ item, verdict: 'true_positive', idempotencyKey: 'f-1' }, never);
    await exchange().sendFeedback!({ item, verdict: 'false_positive', reason: 'benign logo', idempotencyKey: 'f-2' }, never);
    await exchange().sendFeedback!({ item, verdict: 'seen', idempotencyKey: 'f-3' }, never);
    assert.deepEqual(server.feedback, [
      { hashValue: hash, feedbackValue: 'Blocked', tags: [] },
      { hashValue: hash, feedbackValue: 'NotBlocked', tags: [] },
      { hashValue: hash, feedbackValue: 'PendingReview', tags: [] },
    ]);
    const withoutKey = stopNciiExchangeType.create(stopNciiExchangeType.parseConfig({ baseUrl: server.url }), { fetch: globalThis.fetch, now: () => clock, credentials: { fetchKey: server.keys.fetch, subscriptionKey: server.keys.subscription } });
    const missing = await expectFailure(withoutKey.sendFeedback!({ item, verdict: 'true_positive', idempotencyKey: 'f-4' }, never));
    assert.equal(missing.retryable, false);
    assert.match(missing.message, /FEEDBACK_KEY/);
    // The fetch key does not open SubmitFeedback.
    const refused = await expectFailure(exchange({ feedbackKey: server.keys.fetch }).sendFeedback!({ item, verdict: 'true_positive', idempotencyKey: 'f-5' }, never));
    assert.equal(refused.retryable, false);
    server.failNext('SubmitFeedback', { status: 503, retryAfter: '3' });
    const busy = await expectFailure(exchange().sendFeedback!({ item, verdict: 'true_positive', idempotencyKey: 'f-6' }, never));
    assert.deepEqual([busy.retryable, busy.retryAfterMs], [true, 3000]);
    assert.equal(server.feedback.length, 3);
  });

  it('reads its configuration and credentials, naming what is wrong', () => {
    assert.deepEqual(stopNciiExchangeType.parseConfig(undefined), { baseUrl: STOPNCII_BASE_URL, pageSize: 800 });
    assert.throws(() => stopNciiExchangeType.parseConfig({ pageSize: 0 }), (error: BulwarkError) => error.kind === 'invalid' && /pageSize/.test(error.message));
    assert.throws(() => stopNciiExchangeType.parseConfig({ baseUrl: 'ftp://example.org' }), /baseUrl must be an http/);
    assert.throws(() => stopNciiExchangeType.parseConfig({ pagesize: 10 }), /unknown field pagesize/);
    assert.deepEqual(stopNciiExchangeType.credentialVariables('ncii-main'), ['BULWARK_EXCHANGE_NCII_MAIN_FETCH_KEY', 'BULWARK_EXCHANGE_NCII_MAIN_SUBSCRIPTION_KEY', 'BULWARK_EXCHANGE_NCII_MAIN_FEEDBACK_KEY']);
    assert.deepEqual(stopNciiExchangeType.credentialsFromEnv('ncii', { BULWARK_EXCHANGE_NCII_FETCH_KEY: 'a', BULWARK_EXCHANGE_NCII_SUBSCRIPTION_KEY: 'b' }), { fetchKey: 'a', subscriptionKey: 'b' });
    assert.throws(
      () => stopNciiExchangeType.credentialsFromEnv('ncii', { BULWARK_EXCHANGE_NCII_FETCH_KEY: 'secret-value' }),
      (error: BulwarkError) => error.kind === 'invalid' && /BULWARK_EXCHANGE_NCII_SUBSCRIPTION_KEY/.test(error.message) && !error.message.includes('secret-value'),
    );
  });
});
