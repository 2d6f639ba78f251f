/**
 * Bulwark to Bulwark sharing end to end: one instance (PGlite) publishes a bank of benign
 * random hashes over a real listening port; the bulwark exchange type of another instance
 * (PostgreSQL where reachable) reads it page by page and its bank follows the publisher's.
 * The fetcher that applies pages lives elsewhere (src/exchange/fetcher.ts); here a few lines
 * apply them the way the interface says, so the test sees what the exchange type yields.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { RESNAPSHOT_PROBLEM_TYPE } from '../src/exchange/bulwark-feed-format.ts';
import { type ExchangeCheckpoint, ExchangeError, type FetchPage, type SignalExchange } from '../src/exchange/exchange.ts';
import { type BulwarkExchangeConfig, bulwarkExchangeType, bulwarkItemKey } from '../src/exchange/types/bulwark.ts';
import { buildServer } from '../src/http/server.ts';
import { expectProblem } from './helpers/problems.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const DAY_MS = 86_400_000;
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');
const SECRET_SOURCE = 'case:4242';
const SECRET_FILE = 'peer-internal-list.csv';
const SECRET_CONTENT = 'content-private-7d1f';
const SECRET_ACCOUNT = 'account-private-91ab';

async function collect(pages: AsyncIterable<FetchPage>, stopAfter = Infinity): Promise<FetchPage[]> {
  const read: FetchPage[] = [];
  for await (const page of pages) {
    read.push(page);
    if (read.length >= stopAfter) break;
  }
  return read;
}

async function expectExchangeError(promise: Promise<unknown>, retryable: boolean, message: RegExp): Promise<ExchangeError> {
  const error = await promise.then(
    () => assert.fail('expected an ExchangeError'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ExchangeError, String(error));
  assert.equal(error.retryable, retryable, error.message);
  assert.match(error.message, message);
  return error;
}

describe('Bulwark to Bulwark feeds', () => {
  let targets: StoreTarget[];
  let publisher: Bulwark;
  let subscriber: Bulwark;
  let app: FastifyInstance;
  let baseUrl: string;
  let admin: Record<string, string>;
  let feedKey: string;
  let publisherNow = new Date('2026-03-01T00:00:00Z');
  let subscriberNow = new Date('2026-03-01T00:00:00Z');

  const exchange = (config: Partial<BulwarkExchangeConfig> & { key?: string; fetch?: typeof fetch } = {}): SignalExchange => {
    const parsed = bulwarkExchangeType.parseConfig({ url: config.url ?? `${baseUrl}/`, bank: config.bank ?? 'shared', pageSize: config.pageSize ?? 7 });
    const credentials = bulwarkExchangeType.credentialsFromEnv('peer-a', { BULWARK_EXCHANGE_PEER_A_API_KEY: config.key ?? feedKey });
    return bulwarkExchangeType.create(parsed, { fetch: config.fetch ?? globalThis.fetch, now: () => subscriberNow, credentials });
  };
  const controller = new AbortController();

  /** Applies pages to the subscriber's bank as the interface says: signals add, null removes, a whole read sweeps. */
  async function apply(pages: FetchPage[], fromNull: boolean): Promise<void> {
    const seen = new Set<string>();
    const whole = fromNull || pages.some((page) => page.startsFullList);
    for (const page of pages) {
      if (page.startsFullList) seen.clear();
      for (const item of page.items) {
        seen.add(item.key);
        const held = await heldByKey();
        if (item.signals === null) {
          const signal = held.get(item.key);
          if (signal) await subscriber.banks.removeEntry('from-peer', signal.signalType, signal.value);
        } else if (!held.has(item.key)) {
          for (const signal of item.signals) await subscriber.banks.addEntry('from-peer', { ...signal, source: 'exchange:peer-a', tags: item.tags });
        }
      }
    }
    if (whole) {
      for (const [key, signal] of await heldByKey()) if (!seen.has(key)) await subscriber.banks.removeEntry('from-peer', signal.signalType, signal.value);
    }
  }
  async function heldByKey() {
    const entries = await subscriber.banks.listEntries('from-peer', { limit: 10_000 });
    return new Map(entries.map((entry) => [bulwarkItemKey(entry.signalType, entry.value), entry]));
  }
  async function publishedKeys(bank = 'shared'): Promise<string[]> {
    return (await publisher.banks.listEntries(bank, { limit: 10_000 })).map((entry) => bulwarkItemKey(entry.signalType, entry.value)).sort();
  }
  const subscribedKeys = async () => [...(await heldByKey()).keys()].sort();

  before(async () => {
    targets = await storeTargets();
    publisher = await openBulwark({ bankRefreshMs: 0, feeds: { historyDays: 90, now: () => publisherNow } });
    subscriber = await openBulwark({ bankRefreshMs: 0, ...targets[targets.length - 1].location() });
    app = await buildServer(publisher);
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    admin = { authorization: `Bearer ${(await publisher.apiKeys.create('publisher operator')).key}` };
    feedKey = (await publisher.apiKeys.create('peer platform A', { scope: 'feed', feedBanks: ['shared'] })).key;

    await publisher.banks.create('shared', 'benign random hashes shared with peers');
    await publisher.banks.create('private', 'never published');
    await publisher.banks.create('other', 'published, but not to peer A');
    for (let i = 0; i < 12; i++) await publisher.banks.addEntry('shared', { signalType: 'pdq', value: randomHex(32), source: SECRET_SOURCE, tags: ['benign-test'] });
    const csv = `signal_type,value,tags\n${Array.from({ length: 13 }, () => `md5,${randomHex(16)},benign-list`).join('\n')}\n`;
    const imported = await app.inject({ method: 'POST', url: `/v1/banks/shared/import?source=${SECRET_FILE}`, headers: { ...admin, 'content-type': 'text/csv' }, payload: csv });
    assert.equal(imported.statusCode, 200, imported.body);
    await publisher.banks.addEntry('private', { signalType: 'md5', value: randomHex(16) });
    await publisher.banks.addEntry('other', { signalType: 'md5', value: randomHex(16) });
    // Content that matches the bank: its ids must never reach a peer.
    const md5 = (await publisher.banks.listEntries('shared', { signalType: 'md5', limit: 1 }))[0].value;
    const uploaded = await app.inject({ method: 'POST', url: '/v1/content', headers: admin, payload: { content_id: SECRET_CONTENT, account_id: SECRET_ACCOUNT, signals: [{ signal_type: 'md5', value: md5 }] } });
    assert.equal(uploaded.statusCode, 201, uploaded.body);

    for (const bank of ['shared', 'other']) {
      const patched = await app.inject({ method: 'PATCH', url: `/v1/banks/${bank}`, headers: admin, payload: { published: true } });
      assert.equal(patched.json().published, true, patched.body);
    }
    await subscriber.banks.create('from-peer');
  });
  after(async () => {
    controller.abort();
    await app.close();
    await publisher.close();
    await subscriber.close();
    for (const target of targets) await target.cleanup();
  });

  let checkpoint: ExchangeCheckpoint;

  it('reads a published bank whole, page by page, and its tags but nothing else', async () => {
    const [first] = await collect(exchange().fetch(null, controller.signal), 1);
    // While the snapshot is read, an entry it has not reached yet leaves and another arrives.
    const unread = (await publisher.banks.listEntries('shared', { limit: 100 })).at(-1)!;
    await publisher.banks.removeEntry('shared', unread.signalType, unread.value);
    await publisher.banks.addEntry('shared', { signalType: 'pdq', value: randomHex(32), tags: ['benign-test'] });
    const pages = [first, ...(await collect(exchange().fetch(first.checkpoint, controller.signal)))];
    assert.deepEqual(pages.map((page) => page.items.length), [7, 7, 7, 4, 2], '25 entries in pages of 7, then the changes made meanwhile');
    assert.deepEqual(pages.at(-1)!.items.map((item) => item.signals === null), [true, false]);
    assert.ok(pages.slice(0, -1).every((page) => page.items.every((item) => item.signals !== null)), 'a snapshot only adds');
    assert.deepEqual(pages.slice(0, -1).map((page) => page.checkpoint.progressAt), [null, null, null, null], 'not read through until the last page');
    assert.equal(pages.at(-1)!.checkpoint.progressAt, subscriberNow.toISOString());
    await apply(pages, true);
    assert.deepEqual(await subscribedKeys(), await publishedKeys());
    const tags = new Map(pages.flatMap((page) => page.items).filter((item) => item.signals !== null).map((item) => [item.signals![0].signalType, item.tags]));
    assert.deepEqual(tags.get('pdq'), ['benign-test']);
    assert.deepEqual(tags.get('md5'), ['benign-list']);
    checkpoint = pages.at(-1)!.checkpoint;
  });

  it('never serves sources, content, accounts or entry ids', async () => {
    const bodies: string[] = [];
    let token: string | undefined;
    do {
      const page = await app.inject({ url: `/v1/feeds/shared?limit=10${token ? `&checkpoint=${token}` : ''}`, headers: { authorization: `Bearer ${feedKey}` } });
      assert.equal(page.statusCode, 200, page.body);
      bodies.push(page.body);
      const body = page.json();
      for (const item of body.items) assert.deepEqual(Object.keys(item).sort(), ['op', 'signal_type', 'tags', 'value']);
      token = body.has_more ? body.checkpoint : undefined;
    } while (token);
    const all = bodies.join('\n');
    for (const secret of [SECRET_SOURCE, SECRET_FILE, SECRET_CONTENT, SECRET_ACCOUNT, 'peer platform A', 'publisher operator', 'source', 'account', 'added_at', 'import_id']) {
      assert.ok(!all.includes(secret), `the feed does not contain ${secret}`);
    }
  });

  it('then reads additions and removals, with removed values, and resumes from a page checkpoint', async () => {
    const before = await publisher.banks.listEntries('shared', { limit: 100 });
    const removedImported = before.find((entry) => entry.signalType === 'md5')!;
    const removedSingle = before.find((entry) => entry.signalType === 'pdq')!;
    await app.inject({ method: 'DELETE', url: `/v1/banks/shared/entries/${removedImported.id}`, headers: admin });
    await app.inject({ method: 'DELETE', url: `/v1/banks/shared/entries/${removedSingle.id}`, headers: admin });
    for (let i = 0; i < 9; i++) await publisher.banks.addEntry('shared', { signalType: 'pdq', value: randomHex(32), tags: ['benign-later'] });
    // Removed and added again: the subscriber must end with it present.
    await publisher.banks.removeEntry('shared', 'pdq', before[1].value);
    await publisher.banks.addEntry('shared', { signalType: 'pdq', value: before[1].value });

    const first = await collect(exchange().fetch(checkpoint, controller.signal), 1);
    assert.equal(first.length, 1);
    const deletions = first[0].items.filter((item) => item.signals === null).map((item) => item.key);
    assert.deepEqual(deletions, [bulwarkItemKey('md5', removedImported.value), bulwarkItemKey('pdq', removedSingle.value)], 'removals name what they removed');
    assert.equal(first[0].checkpoint.progressAt, checkpoint.progressAt, 'not read through yet');
    // Stopped after one page; the next fetch starts from that page's checkpoint.
    const rest = await collect(exchange().fetch(first[0].checkpoint, controller.signal));
    const keys = [...first, ...rest].flatMap((page) => page.items.map((item) => item.key));
    assert.equal(new Set(keys).size, keys.length - 1, 'nothing read twice but the entry removed and added again');
    await apply([...first, ...rest], false);
    assert.deepEqual(await subscribedKeys(), await publishedKeys());
    assert.ok((await subscribedKeys()).includes(bulwarkItemKey('pdq', before[1].value)));
    checkpoint = rest.at(-1)!.checkpoint;

    const idle = await collect(exchange().fetch(checkpoint, controller.signal));
    assert.deepEqual(idle.map((page) => page.items.length), [0], 'nothing new: one empty page');
  });

  it('reads the bank afresh when the checkpoint is older than the removals kept', async () => {
    const stale = checkpoint;
    const gone = (await publisher.banks.listEntries('shared', { limit: 1 }))[0];
    await publisher.banks.removeEntry('shared', gone.signalType, gone.value);
    await publisher.banks.addEntry('shared', { signalType: 'md5', value: randomHex(16) });
    // The publisher's clock moves past the newest removal's time plus the 90 days kept.
    const newest = await publisher.sql.query<{ at: Date }>('SELECT max(removed_at) AS at FROM bank_entry_tombstones');
    publisherNow = new Date(new Date(newest.rows[0].at).getTime() + 91 * DAY_MS);

    const token = (stale.state as { checkpoint: string }).checkpoint;
    const answer = await app.inject({ url: `/v1/feeds/shared?checkpoint=${token}`, headers: { authorization: `Bearer ${feedKey}` } });
    const body = expectProblem(answer, 410, /removals are kept only from revision \d+/);
    assert.equal(body.type, RESNAPSHOT_PROBLEM_TYPE);

    const subscriberBefore = subscriberNow;
    subscriberNow = new Date(subscriberNow.getTime() + 91 * DAY_MS);
    assert.equal(exchange().isStale!(stale, subscriberNow), true, 'older than the history the publisher said it keeps');
    assert.equal(exchange().isStale!(stale, new Date(subscriberBefore.getTime() + DAY_MS)), false);

    const pages = await collect(exchange().fetch(stale, controller.signal));
    assert.equal(pages[0].startsFullList, true, 'the fresh read says it is whole');
    assert.ok(pages.every((page) => page.items.every((item) => item.signals !== null)));
    await apply(pages, false);
    const keys = await subscribedKeys();
    assert.deepEqual(keys, await publishedKeys());
    assert.ok(!keys.includes(bulwarkItemKey(gone.signalType, gone.value)), 'the removal whose tombstone was pruned still leaves');
    checkpoint = pages.at(-1)!.checkpoint;
    assert.equal(Date.parse(checkpoint.progressAt!), subscriberNow.getTime());
  });

  it('keeps a bank in step through the exchange stage’s own fetcher', async () => {
    const real = await openBulwark({ bankRefreshMs: 0, exchanges: { env: { BULWARK_EXCHANGE_PEER_REAL_API_KEY: feedKey, BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1' }, now: () => subscriberNow } });
    try {
      await real.banks.create('via-fetcher');
      await real.exchanges.add({ name: 'peer-real', type: 'bulwark', bank: 'via-fetcher', config: { url: baseUrl, bank: 'shared', pageSize: 7 } });
      const keysOf = async () => (await real.banks.listEntries('via-fetcher', { limit: 10_000 })).map((entry) => bulwarkItemKey(entry.signalType, entry.value)).sort();
      const first = await real.exchanges.fetchNow('peer-real');
      assert.equal(first.error, undefined);
      assert.deepEqual(await keysOf(), await publishedKeys());
      const gone = (await publisher.banks.listEntries('shared', { limit: 1 }))[0];
      await publisher.banks.removeEntry('shared', gone.signalType, gone.value);
      await publisher.banks.addEntry('shared', { signalType: 'pdq', value: randomHex(32) });
      const second = await real.exchanges.fetchNow('peer-real');
      assert.deepEqual({ error: second.error, added: second.entriesAdded, removed: second.entriesRemoved }, { error: undefined, added: 1, removed: 1 });
      assert.deepEqual(await keysOf(), await publishedKeys());
    } finally {
      await real.close();
    }
  });

  it('never passes on what came through an exchange, neither its additions nor its removals', async () => {
    await subscriber.banks.update('from-peer', { published: true });
    const { info } = await subscriber.apiKeys.create('peer platform B', { scope: 'feed' });
    const own = randomHex(16);
    await subscriber.banks.addEntry('from-peer', { signalType: 'md5', value: own, source: 'reviewed here' });
    const snapshot = await subscriber.feeds.readPage('from-peer', info, undefined);
    assert.deepEqual(snapshot.items, [{ op: 'add', signal_type: 'md5', value: own, tags: [] }], 'only the entry held on its own account');
    const received = (await subscriber.banks.listEntries('from-peer', { limit: 1000 })).find((entry) => entry.source === 'exchange:peer-a')!;
    await subscriber.banks.removeEntry('from-peer', received.signalType, received.value);
    await subscriber.banks.removeEntry('from-peer', 'md5', own);
    const changes = await subscriber.feeds.readPage('from-peer', info, snapshot.checkpoint);
    assert.deepEqual(changes.items, [{ op: 'delete', signal_type: 'md5', value: own }]);
    await subscriber.banks.addEntry('from-peer', { signalType: received.signalType, value: received.value, source: 'exchange:peer-a' });
  });

  it('refuses a wrong key, other keys’ banks and other routes without retrying', async () => {
    await expectExchangeError(collect(exchange({ key: `bwk_${randomBytes(32).toString('base64url')}` }).fetch(null, controller.signal)), false, /refused the credentials \(HTTP 401: a valid API key/);
    await expectExchangeError(collect(exchange({ bank: 'private' }).fetch(null, controller.signal)), false, /HTTP 404: no published bank named "private"/);
    await expectExchangeError(collect(exchange({ bank: 'other' }).fetch(null, controller.signal)), false, /HTTP 404: no published bank named "other"/);
    expectProblem(await app.inject({ url: '/v1/banks', headers: { authorization: `Bearer ${feedKey}` } }), 403, /feed key/);
    expectProblem(await app.inject({ url: '/v1/banks/shared/feed-feedback', headers: { authorization: `Bearer ${feedKey}` } }), 403, /feed key/);
    for (const url of ['/v1/feeds/../banks', '/v1/feeds/%2E%2E/banks', '//v1/banks']) {
      const sneaked = await app.inject({ url, headers: { authorization: `Bearer ${feedKey}` } });
      assert.ok(sneaked.statusCode >= 400 && !sneaked.body.includes('"banks"'), `${url}: ${sneaked.statusCode} ${sneaked.body}`);
    }
    const listed = await app.inject({ url: '/v1/feeds', headers: { authorization: `Bearer ${feedKey}` } });
    assert.deepEqual(listed.json().feeds.map((feed: { name: string }) => feed.name), ['shared']);
    const operator = await app.inject({ url: '/v1/feeds/other', headers: admin });
    assert.equal(operator.statusCode, 200, 'the operator’s full key reads every published bank');
  });

  it('answers bad checkpoints and page sizes with a problem naming the parameter', async () => {
    const headers = { authorization: `Bearer ${feedKey}` };
    expectProblem(await app.inject({ url: '/v1/feeds/shared?checkpoint=xyz', headers }), 400, /^querystring\/checkpoint: "xyz" is not a checkpoint/);
    expectProblem(await app.inject({ url: '/v1/feeds/shared?checkpoint=c.1.999999.0.0', headers }), 400, /querystring\/checkpoint: the checkpoint is ahead/);
    expectProblem(await app.inject({ url: '/v1/feeds/shared?limit=10001', headers }), 400, /querystring\/limit/);
    const otherBank = (await publisher.banks.get('other')).id;
    const recreated = expectProblem(await app.inject({ url: `/v1/feeds/shared?checkpoint=c.${otherBank}.1.0.0`, headers }), 410, /deleted and made again/);
    assert.equal(recreated.type, RESNAPSHOT_PROBLEM_TYPE);
  });

  it('retries 5xx and 429 after Retry-After, and refuses malformed or stuck pages', async () => {
    const answers: { status: number; headers?: Record<string, string>; body: string }[] = [];
    const standIn: Server = createServer((_request, response) => {
      const answer = answers.shift() ?? { status: 500, body: '' };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    try {
      answers.push({ status: 503, headers: { 'retry-after': '7' }, body: '{"detail":"busy"}' });
      const busy = await expectExchangeError(collect(exchange({ url }).fetch(null, controller.signal)), true, /HTTP 503: busy/);
      assert.equal(busy.retryAfterMs, 7000);
      answers.push({ status: 429, body: '' });
      await expectExchangeError(collect(exchange({ url }).fetch(null, controller.signal)), true, /HTTP 429/);
      answers.push({ status: 410, body: '{"detail":"a proxy said gone"}' });
      await expectExchangeError(collect(exchange({ url }).fetch(checkpoint, controller.signal)), false, /HTTP 410/);
      answers.push({ status: 200, body: 'not json' });
      await expectExchangeError(collect(exchange({ url }).fetch(null, controller.signal)), false, /not valid JSON/);

      const page = (items: unknown[], more: boolean, token = 'c.1.5.0.0') => ({ status: 200, body: JSON.stringify({ bank: 'shared', phase: 'changes', items, checkpoint: token, has_more: more, history_seconds: 86_400 }) });
      answers.push(page([{ op: 'add', signal_type: 'md5', value: randomHex(16), tags: [] }, { op: 'add', signal_type: 'md5' }, { op: 'delete', signal_type: 'pdq', value: randomHex(32) }], false));
      const [read] = await collect(exchange({ url }).fetch(null, controller.signal));
      assert.equal(read.items.length, 2);
      assert.deepEqual(read.skipped, [{ item: 'item 1', reason: 'value: Invalid input: expected string, received undefined' }]);
      answers.push(page([], true, 'c.1.5.0.0'));
      await expectExchangeError(collect(exchange({ url }).fetch({ progressAt: null, state: { checkpoint: 'c.1.5.0.0' } }, controller.signal)), false, /does not advance/);
      answers.push(page(Array.from({ length: 8 }, () => ({ op: 'delete', signal_type: 'md5', value: randomHex(16) })), false));
      await expectExchangeError(collect(exchange({ url }).fetch(null, controller.signal)), false, /a page of 8 items, more than the 7 asked for/);
    } finally {
      await new Promise<void>((resolve) => standIn.close(() => resolve()));
    }
    await expectExchangeError(collect(exchange({ url: 'http://127.0.0.1:9/' }).fetch(null, controller.signal)), true, /could not be reached/);
  });

  it('sends reviewers’ verdicts back, visible to the publisher per entry', async () => {
    const entry = (await publisher.banks.listEntries('shared', { limit: 1 }))[0];
    const signals = [{ signalType: entry.signalType, value: entry.value }];
    const peer = exchange();
    await peer.sendFeedback!({ item: { key: bulwarkItemKey(entry.signalType, entry.value), signals }, verdict: 'seen', idempotencyKey: 'fb-1' }, controller.signal);
    await peer.sendFeedback!({ item: { key: bulwarkItemKey(entry.signalType, entry.value), signals }, verdict: 'false_positive', reason: 'a logo', idempotencyKey: 'fb-2' }, controller.signal);
    // A retried send is the same feedback, recorded once.
    await peer.sendFeedback!({ item: { key: bulwarkItemKey(entry.signalType, entry.value), signals }, verdict: 'false_positive', reason: 'a logo', idempotencyKey: 'fb-2' }, controller.signal);
    const seen = (await app.inject({ url: '/v1/banks/shared/feed-feedback', headers: admin })).json().feedback;
    assert.equal(seen.length, 1, 'the latest verdict per peer and entry');
    assert.deepEqual(
      { peer: seen[0].peer.name, signal_type: seen[0].signal_type, value: seen[0].value, verdict: seen[0].verdict, reason: seen[0].reason },
      { peer: 'peer platform A', signal_type: entry.signalType, value: entry.value, verdict: 'false_positive', reason: 'a logo' },
    );
    const unknown = [{ signalType: 'md5', value: randomHex(16) }];
    await expectExchangeError(peer.sendFeedback!({ item: { key: 'x', signals: unknown }, verdict: 'seen', idempotencyKey: 'fb-3' }, controller.signal), false, /HTTP 404: body\/signals\/0: bank "shared" has not published/);
  });

  it('checks its configuration and credentials, naming the field or variable', () => {
    assert.throws(() => bulwarkExchangeType.parseConfig({ url: 'ftp://peer.example', bank: 'shared' }), /url must be an http\(s\) URL/);
    assert.throws(() => bulwarkExchangeType.parseConfig({ url: 'https://peer.example', bank: 'Shared!' }), /bank must be the published bank/);
    assert.throws(() => bulwarkExchangeType.parseConfig({ url: 'https://peer.example', bank: 'shared', pageSize: 0 }), /pageSize must be an integer from 1 to 10000/);
    assert.deepEqual(bulwarkExchangeType.credentialVariables('peer-a'), ['BULWARK_EXCHANGE_PEER_A_API_KEY']);
    assert.throws(() => bulwarkExchangeType.credentialsFromEnv('peer-a', {}), /BULWARK_EXCHANGE_PEER_A_API_KEY is not set/);
  });
});
