import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExchangeError, type ExchangeCheckpoint, type FetchPage, type SignalExchange } from '../src/exchange/exchange.ts';
import { NcmecHashClient } from '../src/exchange/types/ncmec-client.ts';
import { ncmecExchangeType, type NcmecExchangeConfig } from '../src/exchange/types/ncmec.ts';
import { LARGE_FINGERPRINT } from '../src/exchange/types/ncmec-xml.ts';
import { NcmecHashServer } from './helpers/ncmec-hash-server.ts';

const USER = 'esp-user-7f3a';
const PASSWORD = 'pw-9c1e-not-to-be-logged';
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (days: number, seconds = 0) => new Date(T0 + days * DAY + seconds * 1000);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The fake clock the exchange and the stand-in share. */
let clock = new Date('2024-06-01T00:00:00Z');
const now = () => clock;

const server = new NcmecHashServer({ username: USER, password: PASSWORD, pageSize: 3, now });

function exchange(config: Partial<NcmecExchangeConfig> = {}, credentials = { user: USER, password: PASSWORD }): SignalExchange {
  const parsed = ncmecExchangeType.parseConfig({ url: server.url, ...config });
  return ncmecExchangeType.create(parsed, { fetch: globalThis.fetch, now, credentials });
}

async function readAll(source: SignalExchange, checkpoint: ExchangeCheckpoint | null, limit = Infinity): Promise<FetchPage[]> {
  const pages: FetchPage[] = [];
  for await (const page of source.fetch(checkpoint, new AbortController().signal)) {
    pages.push(page);
    if (pages.length >= limit) break;
  }
  return pages;
}

const keysOf = (pages: FetchPage[]) => pages.flatMap((page) => page.items.map((item) => item.key));
const entryCalls = () => server.calls.filter((call) => call.path.includes('/v2/entries'));

async function rejection(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ExchangeError, `expected an ExchangeError, got ${String(error)}`);
    assert.ok(!error.message.includes(USER) && !error.message.includes(PASSWORD), `credentials in "${error.message}"`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** Eight entries of two members over eight days: images with PDQ/MD5/SHA1/PDNA, videos with MD5 and a large TMK_PDQF. */
function seed(): { pdq: string; md5: string; sha1: string; pdna: string } {
  const first = { pdq: hex(32), md5: hex(16), sha1: hex(20), pdna: hex(72) };
  server.put({ member: '42', id: 'image-1', classification: 'A1', fingerprints: { PDQ: first.pdq.toUpperCase(), MD5: first.md5, SHA1: first.sha1, PDNA: first.pdna }, at: at(0) });
  for (let i = 2; i <= 6; i++) {
    server.put({ member: i % 2 === 0 ? '42' : '43', id: `image-${i}`, classification: i === 4 ? 'B2' : 'A1', fingerprints: { PDQ: hex(32), MD5: hex(16) }, at: at(i - 1, i) });
  }
  server.put({ member: '42', id: 'video-1', kind: 'video', classification: 'A1', fingerprints: { MD5: hex(16), TMK_PDQF: 'file' }, at: at(6) });
  server.put({ member: '43', id: 'video-2', kind: 'video', classification: 'A2', fingerprints: { MD5: hex(16), VIDENTIFIER: 'file' }, at: at(7) });
  return first;
}

const ALL_KEYS = ['42-image-1', '42-image-2', '43-image-3', '42-image-4', '43-image-5', '42-image-6', '42-video-1', '43-video-2'];

describe('NCMEC hash sharing exchange', () => {
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.stop();
  });
  beforeEach(() => {
    clock = new Date('2024-06-01T00:00:00Z');
    server.entries.clear();
    server.calls.length = 0;
    server.feedback.length = 0;
    server.expirePagingLinks();
  });

  it('reads every entry across paging links, in UTC windows that stop 5 s before now, keeping fingerprints as provenance', async () => {
    const first = seed();
    const pages = await readAll(exchange(), null);
    assert.deepEqual(keysOf(pages).sort(), [...ALL_KEYS].sort());
    assert.equal(pages.length, 3, 'eight entries at three a page');
    const calls = entryCalls();
    assert.equal(calls.length, 3);
    assert.match(calls[0].path, /from=1970-01-01T00%3A00%3A00Z&to=2024-05-31T23%3A59%3A55Z$/);
    assert.match(calls[1].path, /start=4&size=3&max=8/);
    // Mid-window checkpoints keep the window start and the link; the last one moves to the window's end.
    assert.equal(pages[0].checkpoint.progressAt, '1970-01-01T00:00:00.000Z');
    assert.match(String((pages[0].checkpoint.state.paging as { url: string }).url), /start=4/);
    assert.equal(pages[2].checkpoint.progressAt, '2024-05-31T23:59:55.000Z');
    assert.equal(pages[2].checkpoint.state.paging, undefined);

    const items = new Map(pages.flatMap((page) => page.items).map((item) => [item.key, item]));
    const image = items.get('42-image-1')!;
    assert.deepEqual(image.signals, [{ signalType: 'pdq', value: first.pdq }, { signalType: 'md5', value: first.md5 }]);
    assert.deepEqual(image.otherFingerprints, { SHA1: first.sha1, PDNA: first.pdna });
    assert.deepEqual(image.tags, ['A1']);
    assert.equal(image.member, '42');
    assert.deepEqual(image.updatedAt, at(0));
    const video = items.get('42-video-1')!;
    assert.deepEqual(video.signals?.map((signal) => signal.signalType), ['md5']);
    assert.deepEqual(video.otherFingerprints, { TMK_PDQF: LARGE_FINGERPRINT });
    assert.deepEqual(items.get('43-video-2')!.otherFingerprints, { VIDENTIFIER: LARGE_FINGERPRINT });
  });

  it('reads only what changed since the checkpoint: updates, new entries and deletions as items without signals', async () => {
    seed();
    const firstRead = await readAll(exchange(), null);
    const checkpoint = firstRead.at(-1)!.checkpoint;
    clock = new Date(clock.getTime() + DAY);
    server.retract('43', 'image-3', new Date(clock.getTime() - 3600_000));
    server.put({ member: '42', id: 'image-9', classification: 'A1', fingerprints: { PDQ: hex(32) }, at: new Date(clock.getTime() - 7200_000) });
    server.put({ member: '42', id: 'image-2', classification: 'B1', fingerprints: { PDQ: hex(32) }, at: new Date(clock.getTime() - 60_000) });
    server.calls.length = 0;
    const pages = await readAll(exchange(), checkpoint);
    const items = new Map(pages.flatMap((page) => page.items).map((item) => [item.key, item]));
    assert.deepEqual([...items.keys()].sort(), ['42-image-2', '42-image-9', '43-image-3']);
    assert.equal(items.get('43-image-3')!.signals, null);
    assert.equal(items.get('43-image-3')!.member, '43');
    assert.deepEqual(items.get('42-image-2')!.tags, ['B1']);
    assert.match(entryCalls()[0].path, /from=2024-05-31T23%3A59%3A55Z&to=2024-06-01T23%3A59%3A55Z/);
    assert.equal(pages.at(-1)!.checkpoint.progressAt, '2024-06-01T23:59:55.000Z');
  });

  it('keeps only the configured members, and withdraws entries whose classification is not wanted', async () => {
    seed();
    const pages = await readAll(exchange({ only_members: ['42'], classifications: ['a1'] }), null);
    const items = new Map(pages.flatMap((page) => page.items).map((item) => [item.key, item]));
    assert.deepEqual([...items.keys()].sort(), ['42-image-1', '42-image-2', '42-image-4', '42-image-6', '42-video-1']);
    assert.equal(items.get('42-image-4')!.signals, null, 'B2 is not wanted: it leaves the bank');
    assert.deepEqual(items.get('42-image-4')!.tags, ['B2']);
    assert.ok(items.get('42-image-2')!.signals!.length > 0);
  });

  it('resumes from a mid-window checkpoint with the paging link: nothing doubled, nothing lost', async () => {
    seed();
    const firstPart = await readAll(exchange(), null, 1);
    assert.equal(firstPart.length, 1);
    server.calls.length = 0;
    clock = new Date(clock.getTime() + 3600_000);
    const rest = await readAll(exchange(), firstPart[0].checkpoint);
    assert.match(entryCalls()[0].path, /start=4&size=3&max=8/, 'the stored link is used');
    const keys = [...keysOf(firstPart), ...keysOf(rest)];
    assert.equal(new Set(keys).size, keys.length, `duplicates in ${keys.join(', ')}`);
    assert.deepEqual(keys.sort(), [...ALL_KEYS].sort());
    // The resumed window ends where it was going to; the next window runs to the new now − 5 s.
    assert.equal(rest.at(-1)!.checkpoint.progressAt, '2024-06-01T00:59:55.000Z');
  });

  it('reads the window again when the stored paging link is over 12 hours old or refused', async () => {
    seed();
    const [firstPage] = await readAll(exchange(), null, 1);
    clock = new Date(clock.getTime() + 13 * 3600_000);
    const oldLink = (firstPage.checkpoint.state.paging as { url: string }).url;
    const authorization = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    assert.equal((await fetch(`${server.url}${oldLink}`, { headers: { authorization } })).status, 400, 'the stand-in refuses a link over 12 hours old');
    server.calls.length = 0;
    const afterExpiry = await readAll(exchange(), firstPage.checkpoint);
    assert.doesNotMatch(entryCalls()[0].path, /start=/, 'an old link is not even tried');
    assert.match(entryCalls()[0].path, /from=1970-01-01T00%3A00%3A00Z/);
    assert.deepEqual(keysOf(afterExpiry).sort(), [...ALL_KEYS].sort());
    assert.ok(afterExpiry.every((page) => page.checkpoint.progressAt! >= firstPage.checkpoint.progressAt!));

    clock = new Date('2024-06-01T00:00:00Z');
    const [again] = await readAll(exchange(), null, 1);
    server.expirePagingLinks();
    server.calls.length = 0;
    clock = new Date(clock.getTime() + 3600_000);
    const afterRefusal = await readAll(exchange(), again.checkpoint);
    assert.deepEqual(entryCalls().slice(0, 2).map((call) => [call.status, /start=/.test(call.path)]), [[400, true], [200, false]]);
    assert.deepEqual(keysOf(afterRefusal).sort(), [...ALL_KEYS].sort());
  });

  it('shrinks a window whose first page says it is too big, without passing on that page, and grows again after small ones', async () => {
    seed();
    const pages = await readAll(exchange({ max_window_entries: 4 }), null);
    const keys = keysOf(pages);
    assert.deepEqual([...keys].sort(), [...ALL_KEYS].sort(), 'every entry once');
    const progress = pages.map((page) => page.checkpoint.progressAt!);
    assert.deepEqual([...progress].sort(), progress, 'the checkpoint never goes back');
    const windows = entryCalls().filter((call) => !call.path.includes('start=')).map((call) => new URLSearchParams(call.path.split('?')[1]));
    const spans = windows.map((params) => Date.parse(params.get('to')!) - Date.parse(params.get('from')!));
    assert.ok(spans.some((span) => span < spans[0] / 4 + 1000), `windows shrank: ${spans.join(', ')}`);
    assert.ok(spans.slice(1).some((span, i) => span > spans[i] && spans[i] < spans[0]), `a window grew again: ${spans.join(', ')}`);
    const windowState = pages.at(-1)!.checkpoint.state.window_seconds as number;
    assert.ok(windowState > 0 && windowState < spans[0] / 1000, 'the adapted size is kept for the next fetch');
  });

  it('leaves entries updated in the last seconds to the next fetch', async () => {
    server.put({ member: '42', id: 'fresh', classification: 'A1', fingerprints: { MD5: hex(16) }, at: new Date(clock.getTime() - 3000) });
    const first = await readAll(exchange(), null);
    assert.deepEqual(keysOf(first), []);
    clock = new Date(clock.getTime() + 10_000);
    const second = await readAll(exchange(), first.at(-1)!.checkpoint);
    assert.deepEqual(keysOf(second), ['42-fresh']);
  });

  it('refuses a malformed page, naming the window and page, and skips only the image with a bad fingerprint', async () => {
    seed();
    server.failNext({ status: 'malformed' });
    const malformed = await rejection(readAll(exchange(), null));
    assert.equal(malformed.retryable, false);
    assert.match(malformed.message, /entries 1970-01-01T00:00:00Z\.\.2024-05-31T23:59:55Z page 1: malformed answer/);

    server.put({ member: '42', id: 'image-bad', classification: 'A1', fingerprints: { PDQ: 'not-a-pdq-hash', MD5: hex(16) }, at: at(3) });
    const pages = await readAll(exchange(), null);
    const skipped = pages.flatMap((page) => page.skipped ?? []);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].item, '42-image-bad');
    assert.match(skipped[0].reason, /PDQ/);
    assert.deepEqual(keysOf(pages).sort(), [...ALL_KEYS].sort());
  });

  it('refuses a paging link that repeats the page it came from, and names entries it cannot read', async () => {
    seed();
    const parsedConfig = ncmecExchangeType.parseConfig({ url: server.url });
    let firstPage = '';
    const repeating: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = await response.text();
      if (!String(input).includes('start=')) firstPage = text;
      return new Response(String(input).includes('start=4') ? firstPage : text, { status: response.status, headers: response.headers });
    };
    const looping = ncmecExchangeType.create(parsedConfig, { fetch: repeating, now, credentials: { user: USER, password: PASSWORD } });
    const error = await rejection(readAll(looping, null));
    assert.equal(error.retryable, false);
    assert.match(error.message, /page 2: the paging link repeats an earlier page/);

    const damaging: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = (await response.text()).replace(/(<images count="\d+"[^>]*>)/, '$1<image><member id="42">M</member></image><surprise/>');
      return new Response(text, { status: response.status, headers: response.headers });
    };
    const damaged = ncmecExchangeType.create(parsedConfig, { fetch: damaging, now, credentials: { user: USER, password: PASSWORD } });
    const pages = await readAll(damaged, null);
    assert.deepEqual(keysOf(pages).sort(), [...ALL_KEYS].sort());
    const skipped = pages.flatMap((page) => page.skipped ?? []);
    assert.deepEqual(skipped.slice(0, 2), [
      { item: 'images[0]', reason: '<image> has no <id>' },
      { item: 'images[1]', reason: 'unexpected <surprise> in <images>' },
    ]);
  });

  it('asks to retry after 429 (honouring Retry-After) and 5xx, and stops on refused credentials', async () => {
    seed();
    server.failNext({ status: 429, retryAfterSeconds: 120 });
    const limited = await rejection(readAll(exchange(), null));
    assert.equal(limited.retryable, true);
    assert.equal(limited.retryAfterMs, 120_000);

    server.failNext({ status: 500 });
    const failed = await rejection(readAll(exchange(), null));
    assert.equal(failed.retryable, true);
    assert.equal(failed.retryAfterMs, undefined);

    const refused = await rejection(readAll(exchange({}, { user: USER, password: 'wrong-password-xyz' }), null));
    assert.equal(refused.retryable, false);
    assert.match(refused.message, /HTTP 401/);
    assert.ok(!refused.message.includes('wrong-password-xyz'));
  });

  it('sends affirmative feedback for a true positive on each matched fingerprint type, and nothing for seen', async () => {
    const first = seed();
    const source = exchange();
    const signal = new AbortController().signal;
    const item = { key: '42-image-1', member: '42', signals: [{ signalType: 'pdq', value: first.pdq }, { signalType: 'md5', value: first.md5 }] };
    await source.sendFeedback!({ item, verdict: 'true_positive', idempotencyKey: 'f-1' }, signal);
    assert.deepEqual(server.feedback, [
      { member: '42', entry: 'image-1', type: 'PDQ', vote: 'affirmative', reasonIds: [] },
      { member: '42', entry: 'image-1', type: 'MD5', vote: 'affirmative', reasonIds: [] },
    ]);
    server.calls.length = 0;
    await source.sendFeedback!({ item, verdict: 'seen', idempotencyKey: 'f-2' }, signal);
    assert.equal(server.calls.length, 0);
  });

  it('sends negative feedback with the reason guid NCMEC lists, by name or from the configuration, and refuses a reason it cannot map', async () => {
    seed();
    const signal = new AbortController().signal;
    const [notMatching, quality] = server.reasons.get('PDQ')!;
    const item = { key: '43-image-3', signals: [{ signalType: 'pdq', value: hex(32) }] };
    await exchange().sendFeedback!({ item, verdict: 'false_positive', reason: 'fingerprint of POOR quality', idempotencyKey: 'f-3' }, signal);
    await exchange({ false_positive_reason: notMatching.guid }).sendFeedback!({ item, verdict: 'false_positive', reason: 'a logo', idempotencyKey: 'f-4' }, signal);
    assert.deepEqual(server.feedback, [
      { member: '43', entry: 'image-3', type: 'PDQ', vote: 'negative', reasonIds: [quality.guid] },
      { member: '43', entry: 'image-3', type: 'PDQ', vote: 'negative', reasonIds: [notMatching.guid] },
    ]);
    const unmapped = await rejection(exchange().sendFeedback!({ item, verdict: 'false_positive', reason: 'a logo', idempotencyKey: 'f-5' }, signal));
    assert.equal(unmapped.retryable, false);
    assert.match(unmapped.message, /Fingerprint of poor quality/);
    assert.equal(server.feedback.length, 2);

    server.failNext({ status: 500 }); // entries only: feedback is unaffected, and the failure is consumed below
    await rejection(readAll(exchange(), null));
    const gone = await rejection(exchange().sendFeedback!({ item: { key: '42-missing', signals: [{ signalType: 'md5', value: hex(16) }] }, verdict: 'true_positive', idempotencyKey: 'f-6' }, signal));
    assert.equal(gone.retryable, false);
    assert.match(gone.message, /HTTP 404/);
  });

  it('refuses an answer over the size limit instead of holding it, and stops when told to', async () => {
    seed();
    const client = new NcmecHashClient(server.url, { user: USER, password: PASSWORD }, { fetch: globalThis.fetch, now }, 500);
    const signal = new AbortController().signal;
    const enormous = await rejection(client.get('v2/entries?from=1970-01-01T00%3A00%3A00Z&to=2024-05-31T23%3A59%3A55Z', 'entries', signal));
    assert.equal(enormous.retryable, false);
    assert.match(enormous.message, /over 500 bytes/);

    const controller = new AbortController();
    const pages: FetchPage[] = [];
    await assert.rejects(async () => {
      for await (const page of exchange().fetch(null, controller.signal)) {
        pages.push(page);
        controller.abort();
      }
    }, (error: unknown) => (error as Error).name === 'AbortError');
    assert.equal(pages.length, 1, 'no request after the abort');
  });

  it('checks its configuration and names the missing credential variable', () => {
    assert.deepEqual(ncmecExchangeType.parseConfig({ environment: 'Test_Industry', only_members: [42, '43'] }), { environment: 'test-industry', only_members: ['42', '43'] });
    assert.throws(() => ncmecExchangeType.parseConfig({}), /environment: give exactly one of environment or url/);
    assert.throws(() => ncmecExchangeType.parseConfig({ environment: 'moon' }), /environment: one of industry/);
    assert.throws(() => ncmecExchangeType.parseConfig({ url: 'http://hashes.example/hashsharing' }), /url: an https URL/);
    assert.throws(() => ncmecExchangeType.parseConfig({ environment: 'industry', colour: 'blue' }), /colour/);
    assert.throws(() => ncmecExchangeType.parseConfig({ environment: 'industry', since: '2024-01-01' }), /since/);
    assert.deepEqual(ncmecExchangeType.credentialVariables('ncmec-main'), ['BULWARK_EXCHANGE_NCMEC_MAIN_USER', 'BULWARK_EXCHANGE_NCMEC_MAIN_PASSWORD']);
    assert.throws(() => ncmecExchangeType.credentialsFromEnv('ncmec-main', { BULWARK_EXCHANGE_NCMEC_MAIN_USER: 'u' }), /BULWARK_EXCHANGE_NCMEC_MAIN_PASSWORD/);
    assert.deepEqual(ncmecExchangeType.credentialsFromEnv('ncmec-main', { BULWARK_EXCHANGE_NCMEC_MAIN_USER: 'u', BULWARK_EXCHANGE_NCMEC_MAIN_PASSWORD: 'p' }), { user: 'u', password: 'p' });
  });

  it('follows paging links only on the environment origin, so credentials never leave it', () => {
    const client = new NcmecHashClient('https://report.cybertip.org/hashsharing', { user: USER, password: PASSWORD }, { fetch: globalThis.fetch, now });
    assert.equal(client.url('/v2/entries?from=a&start=4'), 'https://report.cybertip.org/hashsharing/v2/entries?from=a&start=4');
    assert.equal(client.url('https://report.cybertip.org/hashsharing/v2/entries?start=4'), 'https://report.cybertip.org/hashsharing/v2/entries?start=4');
    assert.throws(() => client.url('https://elsewhere.example/v2/entries?start=4'), (error: unknown) => error instanceof ExchangeError && !error.retryable && !error.message.includes(PASSWORD));
  });
});
