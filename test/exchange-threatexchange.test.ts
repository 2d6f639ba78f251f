import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BulwarkError } from '../src/errors.ts';
import type { ExchangeCheckpoint, ExchangeItem, FetchPage } from '../src/exchange/exchange.ts';
import { THREATEXCHANGE_GRAPH_URL, threatExchangeType } from '../src/exchange/types/threatexchange.ts';
import { collectPages as collect, ExchangeFailures } from './helpers/exchange-runs.ts';
import { ThreatExchangeServer } from './helpers/threatexchange-server.ts';

const pdq = () => randomBytes(32).toString('hex');
const md5 = () => randomBytes(16).toString('hex');
const never = new AbortController().signal;
const OTHER_APP = '3000000003';

const items = (pages: FetchPage[]) => pages.flatMap((page) => page.items);
const keys = (pages: FetchPage[]) => items(pages).map((item) => item.key);

describe('ThreatExchange exchange against the stand-in', () => {
  const server = new ThreatExchangeServer();
  const clock = new Date('2026-12-01T00:00:00Z');
  const requested: string[] = [];
  const failures = new ExchangeFailures();
  const recordingFetch: typeof fetch = (input, init) => {
    requested.push(String(input));
    return fetch(input, init);
  };
  const exchange = (options: { token?: string; pageSize?: number; fetch?: typeof fetch } = {}) =>
    threatExchangeType.create(
      threatExchangeType.parseConfig({ privacyGroup: server.options.privacyGroup, graphUrl: server.url, pageSize: options.pageSize ?? 2 }),
      { fetch: options.fetch ?? recordingFetch, now: () => clock, credentials: { accessToken: options.token ?? server.options.accessToken } },
    );
  const expectFailure = (promise: Promise<unknown>) => failures.expect(promise);

  before(() => server.start());
  after(async () => {
    await server.stop();
    failures.assertNoneMention([server.options.accessToken.split('|')[1]], 6);
  });
  beforeEach(() => {
    server.indicators.clear();
    server.reactions.length = 0;
    server.calls.length = 0;
    requested.length = 0;
  });

  it('reads threat_updates page by page: PDQ, video and file MD5 by type and tag, descriptor tags, owners and opinions', async () => {
    const [image, video, taggedVideo, file, bad] = [pdq(), md5(), md5(), md5(), 'not-a-pdq'];
    const imageDescriptor = server.addDescriptor('HASH_PDQ', image, OTHER_APP, { tags: ['tag-alpha'] });
    server.addDescriptor('HASH_PDQ', image, server.appId, { tags: ['tag-beta'] });
    server.now++;
    server.addDescriptor('HASH_VIDEO_MD5', video, OTHER_APP, { status: 'NON_MALICIOUS' });
    server.addDescriptor('HASH_PDQ', bad, OTHER_APP);
    server.now++;
    server.addDescriptor('HASH_MD5', taggedVideo, OTHER_APP, { tags: ['media_type_video'] });
    server.addDescriptor('HASH_MD5', file, OTHER_APP, { tags: ['tag-alpha'] });
    server.now++;
    server.addDescriptor('URI', 'https://example.org/page', OTHER_APP);
    const pages = await collect(exchange(), null);
    assert.equal(pages.length, 3);
    assert.deepEqual(server.calls.map((call) => call.route), ['threat_updates', 'threat_updates', 'threat_updates']);
    assert.equal(server.calls[0].query.fields, 'indicator,type,last_updated,should_delete,descriptors{id,reactions,owner{id},tags,status}');
    for (const page of pages.slice(0, 2)) {
      assert.equal(typeof page.checkpoint.state.next, 'string');
      assert.ok(!String(page.checkpoint.state.next).includes('access_token'), 'the stored paging URL carries no token');
    }
    assert.equal(pages[2].checkpoint.state.next, undefined);
    assert.equal(pages[2].checkpoint.progressAt, new Date(server.now * 1000).toISOString());
    const byKey = new Map(items(pages).map((item) => [item.key, item]));
    assert.deepEqual(byKey.get(`HASH_PDQ ${image}`), {
      key: `HASH_PDQ ${image}`,
      updatedAt: new Date((server.now - 3) * 1000),
      signals: [{ signalType: 'pdq', value: image }],
      member: [OTHER_APP, server.appId].sort().join(','),
      sourceId: imageDescriptor,
      tags: ['tag-alpha', 'tag-beta'],
      sourceOpinion: 'positive',
    } satisfies ExchangeItem);
    assert.deepEqual(byKey.get(`HASH_VIDEO_MD5 ${video}`)?.signals, [{ signalType: 'video_md5', value: video }]);
    assert.equal(byKey.get(`HASH_VIDEO_MD5 ${video}`)?.sourceOpinion, 'negative');
    assert.deepEqual(byKey.get(`HASH_MD5 ${taggedVideo}`)?.signals, [{ signalType: 'video_md5', value: taggedVideo }]);
    assert.deepEqual(byKey.get(`HASH_MD5 ${file}`)?.signals, [{ signalType: 'md5', value: file }]);
    assert.equal(byKey.size, 4);
    const skipped = pages.flatMap((page) => page.skipped ?? []);
    assert.deepEqual(pages.map((page) => page.skipped?.map((skip) => skip.item)), [[], ['data[0]'], ['data[1]']]);
    assert.match(skipped[0].reason, /HASH_PDQ invalid pdq value/);
    assert.equal(skipped[1].reason, 'URI indicators have no Bulwark signal type');
  });

  it('removes an indicator whose descriptors are all deleted (should_delete)', async () => {
    const [gone, stays] = [pdq(), pdq()];
    const descriptor = server.addDescriptor('HASH_PDQ', gone, OTHER_APP);
    server.addDescriptor('HASH_PDQ', stays, OTHER_APP);
    server.now += 5;
    const first = await collect(exchange({ pageSize: 10 }), null);
    assert.equal(items(first).filter((item) => item.signals?.length === 1).length, 2);
    server.now += 100;
    server.deleteDescriptor(descriptor);
    const next = await collect(exchange({ pageSize: 10 }), first.at(-1)!.checkpoint);
    assert.equal(server.calls.at(-1)?.query.start_time, String(server.now - 105));
    assert.deepEqual(items(next).map((item) => [item.key, item.signals]), [[`HASH_PDQ ${gone}`, null]]);
    assert.ok(next.at(-1)!.checkpoint.progressAt! > first.at(-1)!.checkpoint.progressAt!);
  });

  it('resumes from a mid-paging checkpoint and from the last second read with nothing doubled, yet sees a change in that second', async () => {
    const hashes = Array.from({ length: 7 }, () => pdq());
    for (const [index, hash] of hashes.entries()) {
      server.addDescriptor('HASH_PDQ', hash, OTHER_APP);
      if (index % 3 === 2) server.now++;
    }
    const all = keys(await collect(exchange(), null));
    assert.equal(all.length, 7);
    const firstTwo = await collect(exchange(), null, 2);
    const rest = await collect(exchange(), firstTwo[1].checkpoint);
    const resumed = [...keys(firstTwo), ...keys(rest)];
    assert.equal(new Set(resumed).size, resumed.length, 'no item twice');
    assert.deepEqual([...resumed].sort(), [...all].sort());
    // Starting again from the last update time (start_time is inclusive) hands back that second's updates: not applied twice.
    const again = await collect(exchange(), rest.at(-1)!.checkpoint);
    assert.deepEqual(keys(again), []);
    assert.ok(server.calls.at(-1)!.query.start_time);
    // A member changes a descriptor within that same second: that is new, and comes through.
    server.addDescriptor('HASH_PDQ', hashes[6], OTHER_APP, { tags: ['tag-gamma'] });
    const changed = await collect(exchange(), again.at(-1)!.checkpoint);
    assert.deepEqual(items(changed).map((item) => [item.key, item.tags]), [[`HASH_PDQ ${hashes[6]}`, ['tag-gamma']]]);
  });

  it('starts again from the last second read when a stored paging cursor has expired, with nothing doubled or lost', async () => {
    const hashes = Array.from({ length: 5 }, () => pdq());
    for (const hash of hashes) {
      server.addDescriptor('HASH_PDQ', hash, OTHER_APP);
      server.now++;
    }
    const firstTwo = await collect(exchange(), null, 2);
    server.expireCursors();
    server.calls.length = 0;
    const rest = await collect(exchange(), firstTwo[1].checkpoint);
    assert.deepEqual(server.calls.map((call) => [call.status, call.query.after !== undefined, call.query.start_time]), [
      [400, true, undefined],
      [200, false, String(server.now - 2)],
    ]);
    const resumed = [...keys(firstTwo), ...keys(rest)];
    assert.deepEqual(resumed, hashes.map((hash) => `HASH_PDQ ${hash}`));
  });

  it('calls a checkpoint stale 85 days after it was made', () => {
    const checkpoint: ExchangeCheckpoint = { progressAt: '2026-01-01T00:00:00.000Z', state: { updateTime: 1, boundary: [], fetchedAt: '2026-09-01T00:00:00.000Z' } };
    assert.equal(exchange().isStale!(checkpoint, new Date('2026-11-24T00:00:00Z')), false);
    assert.equal(exchange().isStale!(checkpoint, new Date('2026-11-26T00:00:00Z')), true);
  });

  it('stops on malformed JSON, a refused token and a 401; retries 429, 5xx and Graph rate limits honouring Retry-After', async () => {
    server.addDescriptor('HASH_PDQ', pdq(), OTHER_APP);
    server.failNext('threat_updates', 'malformed');
    const malformed = await expectFailure(collect(exchange(), null));
    assert.deepEqual([malformed.retryable, /not valid JSON/.test(malformed.message)], [false, true]);
    server.failNext('threat_updates', { status: 429, retryAfter: '11' });
    const limited = await expectFailure(collect(exchange(), null));
    assert.deepEqual([limited.retryable, limited.retryAfterMs], [true, 11_000]);
    server.failNext('threat_updates', { status: 500 });
    assert.equal((await expectFailure(collect(exchange(), null))).retryable, true);
    server.failNext('threat_updates', { status: 400, code: 4 });
    assert.equal((await expectFailure(collect(exchange(), null))).retryable, true, 'Graph code 4 is a rate limit whatever the status');
    server.failNext('threat_updates', { status: 401, code: 102 });
    assert.equal((await expectFailure(collect(exchange(), null))).retryable, false);
    const wrongToken = '1000000001|a-wrong-token-value';
    const refused = await expectFailure(collect(exchange({ token: wrongToken }), null));
    assert.equal(refused.retryable, false);
    assert.match(refused.message, /refused the credentials \(HTTP 400: Invalid OAuth access token/);
    assert.ok(!refused.message.includes(wrongToken));
    // A source that echoes the token in its error text does not get it into the message.
    const echoing = exchange({ fetch: async (input) => Response.json({ error: { message: `bad request ${new URL(String(input)).searchParams.get('access_token')}`, code: 100 } }, { status: 400 }) });
    const echoed = await expectFailure(collect(echoing, null));
    assert.match(echoed.message, /bad request \[redacted\]/);
    assert.equal(keys(await collect(exchange(), null)).length, 1);
  });

  it('refuses paging that leads elsewhere or repeats, and a page larger than asked for', async () => {
    const answer = (body: unknown) => exchange({ fetch: async () => Response.json(body) });
    const away = await expectFailure(collect(answer({ data: [], paging: { next: 'https://elsewhere.example/v21.0/2000000002/threat_updates/?after=x' } }), null));
    assert.match(away.message, /leads away/);
    const here = `${server.url}/v21.0/2000000002/threat_updates/?after=abc`;
    const repeat = await expectFailure(collect(answer({ data: [], paging: { next: here } }), { progressAt: null, state: { updateTime: null, boundary: [], next: here } }));
    assert.match(repeat.message, /would repeat/);
    const huge = await expectFailure(collect(answer({ data: [{}, {}, {}] }), null));
    assert.match(huge.message, /3 updates, more than the 2 asked for/);
  });

  it('reacts to the other members\' descriptors: HELPFUL, DISAGREE_WITH_TAGS (or the reason given), SAW_THIS_TOO; never with the token in the URL', async () => {
    const hash = pdq();
    const [first, second] = [server.addDescriptor('HASH_PDQ', hash, OTHER_APP), server.addDescriptor('HASH_PDQ', hash, '3000000004')];
    server.addDescriptor('HASH_PDQ', hash, server.appId);
    const [item] = items(await collect(exchange({ pageSize: 10 }), null));
    assert.equal(item.sourceId, `${first},${second}`);
    const feedbackItem = { key: item.key, sourceId: item.sourceId, signals: item.signals! };
    await exchange().sendFeedback!({ item: feedbackItem, verdict: 'true_positive', idempotencyKey: 'r-1' }, never);
    await exchange().sendFeedback!({ item: feedbackItem, verdict: 'false_positive', idempotencyKey: 'r-2' }, never);
    await exchange().sendFeedback!({ item: feedbackItem, verdict: 'false_positive', reason: 'NOT_HELPFUL', idempotencyKey: 'r-3' }, never);
    await exchange().sendFeedback!({ item: feedbackItem, verdict: 'seen', idempotencyKey: 'r-4' }, never);
    assert.deepEqual(
      server.reactions.map((reaction) => [reaction.descriptorId, reaction.reactions.join(',')]),
      ['HELPFUL', 'DISAGREE_WITH_TAGS', 'NOT_HELPFUL', 'SAW_THIS_TOO'].flatMap((reaction) => [[first, reaction], [second, reaction]]),
    );
    const posts = requested.filter((url) => !url.includes('threat_updates'));
    assert.equal(posts.length, 8);
    for (const url of posts) assert.ok(!url.includes('access_token'), url);
    // What others see next: our reactions in the descriptors.
    const [updated] = items(await collect(exchange({ pageSize: 10 }), null));
    assert.equal(updated.sourceOpinion, 'disputed');
    const orphan = await expectFailure(exchange().sendFeedback!({ item: { key: item.key, signals: item.signals! }, verdict: 'seen', idempotencyKey: 'r-5' }, never));
    assert.equal(orphan.retryable, false);
    server.failNext('reaction', { status: 503, retryAfter: '2' });
    const busy = await expectFailure(exchange().sendFeedback!({ item: feedbackItem, verdict: 'seen', idempotencyKey: 'r-6' }, never));
    assert.deepEqual([busy.retryable, busy.retryAfterMs], [true, 2000]);
  });

  it('reads its configuration and credentials, naming what is wrong', () => {
    assert.deepEqual(threatExchangeType.parseConfig({ privacyGroup: 123 }), { privacyGroup: '123', graphUrl: THREATEXCHANGE_GRAPH_URL, apiVersion: 'v21.0', pageSize: 100 });
    assert.equal(threatExchangeType.parseConfig({ privacyGroup: '1', apiVersion: '22.0' }).apiVersion, 'v22.0');
    assert.throws(() => threatExchangeType.parseConfig({}), (error: BulwarkError) => error.kind === 'invalid' && error.details?.field === 'privacyGroup');
    assert.throws(() => threatExchangeType.parseConfig({ privacyGroup: '1', apiVersion: 'latest' }), /apiVersion/);
    assert.throws(() => threatExchangeType.parseConfig({ privacyGroup: '1', graphUrl: 'https://graph.example/?access_token=x' }), /must not carry credentials/);
    assert.deepEqual(threatExchangeType.credentialVariables('tx-group'), ['BULWARK_EXCHANGE_TX_GROUP_ACCESS_TOKEN']);
    assert.deepEqual(threatExchangeType.credentialsFromEnv('tx', { BULWARK_EXCHANGE_TX_ACCESS_TOKEN: ' 1|abc ' }), { accessToken: '1|abc' });
    assert.throws(() => threatExchangeType.credentialsFromEnv('tx', {}), /BULWARK_EXCHANGE_TX_ACCESS_TOKEN is not set/);
  });
});
