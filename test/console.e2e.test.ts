import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildConsole, consoleIsBuilt } from '../scripts/build-console.mjs';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { encodeImage, seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { type App, buildServer } from '../src/http/server.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { ncmecConfig } from '../src/reporting/ncmec/config.ts';
import { browserSkip, launchChromium, screenshot } from './helpers/browser.ts';
import { PlatformWebhook } from './helpers/platform-webhook.ts';

/**
 * The review console in a real browser against a real server: Debian's Chromium driven by
 * playwright-core, the built console served by buildServer() over an in-memory store.
 */

const PASSWORD = 'correct-horse-battery-1';
const RULES = `
version: 1
queues:
  - name: known-media
    description: Uploads that match a hash bank
    sla_minutes: 60
    team: media
  - name: networks
    description: Networks found by detection
    sla_minutes: 240
    team: media
  - name: restricted
    description: Another team's queue
    sla_minutes: 60
    team: legal
policies:
  - id: known-media
    title: Known prohibited media
    legal_ground: Terms of service 4.2
    subjects: [content]
  - id: trading-network
    title: Networks trading prohibited media
    legal_ground: Terms of service 4.3
    subjects: [network]
rules:
  - id: known-media-match
    on: content.matched
    then:
      case:
        queue: known-media
        severity: critical
        priority: 90
`;

/**
 * A small platform with one planted network: 2 sellers and 10 buyers among 120 ordinary
 * accounts in 6 interest groups; a seller follows some minors.
 */
function plantedNetwork(): PlatformEventInput[] {
  const random = seededRandom(11);
  const events: PlatformEventInput[] = [];
  const at = (day: number, minute = 0) => new Date(Date.UTC(2026, 0, 1 + day, 0, minute)).toISOString();
  const ordinary = Array.from({ length: 120 }, (_, i) => `acct-${i}`);
  const sellers = ['seller-0', 'seller-1'];
  const buyers = Array.from({ length: 10 }, (_, i) => `buyer-${i}`);
  const minors = ordinary.filter((_, i) => i % 10 === 3);
  let n = 0;
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `e-${n++}` });
  for (const account of [...ordinary, ...sellers, ...buyers]) push({ type: 'account_created', occurred_at: at(0), account });
  for (const minor of minors) push({ type: 'account_attributes', occurred_at: at(1), account: minor, minor: true, minor_basis: 'declared' });
  ordinary.forEach((account, i) => {
    const group = i % 6;
    for (let k = 0; k < 6; k++) {
      const other = ordinary[(Math.floor(random() * 20) * 6 + group) % ordinary.length];
      if (other !== account) push({ type: 'follow', occurred_at: at(2, k), actor: account, target: other });
    }
    push({ type: 'hashtag', occurred_at: at(2), actor: account, hashtag: `#topic-${group}` });
  });
  for (const seller of sellers) push({ type: 'identifier', occurred_at: at(3), account: seller, kind: 'offsite_handle', value: `handle-${seller}` });
  buyers.forEach((buyer, i) => {
    for (const seller of sellers) {
      push({ type: 'follow', occurred_at: at(4, i), actor: buyer, target: seller });
      push({ type: 'message', occurred_at: at(4, i + 1), actor: buyer, target: seller });
    }
    push({ type: 'hashtag', occurred_at: at(4), actor: buyer, hashtag: '#tag-net-1' });
    push({ type: 'follow', occurred_at: at(4, 30), actor: buyer, target: ordinary[Math.floor(random() * ordinary.length)] });
    push({ type: 'follow', occurred_at: at(4, 40), actor: buyer, target: buyers[(i + 1) % buyers.length] });
  });
  for (const minor of minors.slice(0, 3)) push({ type: 'follow', occurred_at: at(5), actor: 'seller-0', target: minor });
  return events;
}

const skip = browserSkip();


/**
 * A detected network written straight into the store, as detection would leave it: `size`
 * members (5 sellers, a buyer for every 5 members, the rest members, every 20th a minor), sellers
 * linked to their buyers, buyers and members to each other, at strengths from 1 to 12.
 */
async function storedNetwork(bulwark: Bulwark, name: string, size: number): Promise<{ id: number; minors: number; sellers: number; buyers: number }> {
  const random = seededRandom(size);
  const role = (i: number) => (i < 5 ? 'seller' : i % 5 === 0 ? 'buyer' : 'member');
  const run = await bulwark.sql.query<{ id: number }>(`INSERT INTO detection_runs (started_at, parameters, stats) VALUES (now(), '{}', '{}') RETURNING id`);
  const network = await bulwark.sql.query<{ id: number }>(`INSERT INTO networks (run_id, member_count, summary) VALUES ($1, $2, '{}') RETURNING id`, [run.rows[0].id, size]);
  const ids: number[] = [];
  for (let i = 0; i < size; i++) {
    const account = await bulwark.sql.query<{ id: number }>('INSERT INTO accounts (external_id, minor, network_id) VALUES ($1, $2, $3) RETURNING id', [`${name}-${role(i)}-${i}`, role(i) === 'member' && i % 20 === 3, network.rows[0].id]);
    ids.push(account.rows[0].id);
    await bulwark.sql.query(`INSERT INTO network_members (network_id, account_id, role, score, reasons) VALUES ($1, $2, $3, $4, '[]')`, [network.rows[0].id, account.rows[0].id, role(i), 1 - i / size]);
  }
  const edge = (src: number, dst: number) =>
    bulwark.sql.query(`INSERT INTO account_edges (src, dst, kind, count, first_at, last_at, state_at) VALUES ($1, $2, 'message', $3, now(), now(), now()) ON CONFLICT DO NOTHING`, [src, dst, 1 + Math.floor(random() * 12)]);
  for (let i = 5; i < size; i++) {
    if (role(i) === 'buyer') await edge(ids[Math.floor(i / 5) % 5], ids[i]);
    for (let k = 0; k < 3; k++) await edge(ids[i], ids[5 + Math.floor(random() * (size - 5))]);
  }
  const count = (wanted: string) => Array.from({ length: size }, (_, i) => role(i)).filter((r) => r === wanted).length;
  const minors = Array.from({ length: size }, (_, i) => role(i) === 'member' && i % 20 === 3).filter(Boolean).length;
  return { id: network.rows[0].id, minors, sellers: count('seller'), buyers: count('buyer') };
}
describe('review console in Chromium', { skip }, () => {
  let bulwark: Bulwark;
  let app: App;
  let browser: Browser;
  let webhook: PlatformWebhook;
  let consoleUrl: string;
  const contentIds = ['content-1', 'content-2'];
  let restrictedCaseId: number;
  let networkCaseId: number;
  let networkMembers: string[];

  before(async () => {
    if (!consoleIsBuilt()) await buildConsole();
    webhook = await new PlatformWebhook('test-webhook-secret-0123456789').start();
    bulwark = await openBulwark({
      bankRefreshMs: 0,
      mediaKey: randomBytes(32).toString('hex'),
      webhooks: { webhookUrl: webhook.url, secret: webhook.secret },
      // Every report is held for a lead (no credentials: nothing is sent).
      ncmec: ncmecConfig({ reporter: { email: 'reports@platform.example' }, qualityFloor: 100 }),
    });
    await bulwark.reviewers.create({ username: 'rev-media', password: PASSWORD, role: 'reviewer', teams: ['media'] });
    await bulwark.reviewers.create({ username: 'lead-media', password: PASSWORD, role: 'lead', teams: ['media'] });
    await bulwark.rules.activate(RULES, 'rules.yaml');

    // Two benign generated pictures whose exact hashes a bank holds: each upload opens a case.
    await bulwark.banks.create('console-test', 'benign test pictures');
    for (const [index, contentId] of contentIds.entries()) {
      const png = await encodeImage(shapesImage(100 + index, 320, 240), 'png');
      await bulwark.banks.addEntry('console-test', { signalType: 'md5', value: createHash('md5').update(png).digest('hex'), tags: ['tag-alpha'] });
      await bulwark.matcher.refresh();
      const submitted = await bulwark.content.submit({ contentId, accountId: `acct-up-${index}`, contentType: 'photo', media: png });
      assert.ok(submitted.record.matched, `${contentId} matches the bank`);
    }
    await bulwark.rules.runner.drain();

    const restricted = await bulwark.cases.open({
      queue: 'restricted',
      subject: { kind: 'account', id: 'acct-legal-1' },
      severity: 'high',
      priority: 50,
      reason: { rule: 'manual', summary: 'opened for the console test' },
    });
    restrictedCaseId = restricted.id;

    const events = plantedNetwork();
    for (let i = 0; i < events.length; i += 1000) await bulwark.platformEvents.ingest(events.slice(i, i + 1000));
    await bulwark.accounts.label('buyer-0', 'confirmed', 'review');
    await bulwark.detection.run({ randomSeed: 3 });
    const network = (await bulwark.detection.networks()).find((candidate) => candidate.members.some((member) => member.account === 'seller-0'));
    assert.ok(network, 'detection finds the planted network');
    networkMembers = network.members.map((member) => member.account);
    const networkCase = await bulwark.cases.open({
      queue: 'networks',
      subject: { kind: 'network', id: String(network.id) },
      severity: 'high',
      priority: 70,
      reason: { rule: 'manual', summary: `network of ${networkMembers.length} accounts` },
    });
    networkCaseId = networkCase.id;

    app = await buildServer(bulwark);
    await app.listen({ port: 0, host: '127.0.0.1' });
    // localhost, not 127.0.0.1: Chromium treats it as a secure origin and keeps the Secure session cookie.
    consoleUrl = `http://localhost:${(app.server.address() as AddressInfo).port}/console/`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await bulwark?.close();
    await webhook?.stop();
  });

  /** A fresh browser context (no cookies) at 1280x800; close() also fails the test on any uncaught error in the page. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Waits end when the page shows what is awaited, however slow the machine: Playwright's
    // 30 s default would make a loaded machine fail a correct console.
    context.setDefaultTimeout(0);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const close = async () => {
      await context.close();
      assert.deepEqual(errors, [], 'no uncaught errors in the page');
    };
    return { context, page, close };
  }

  async function login(page: Page, username: string, password = PASSWORD): Promise<void> {
    await page.goto(consoleUrl);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** A request from inside the page: same origin, the session cookie, and only the headers given. */
  async function pageFetch(page: Page, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: unknown }> {
    return page.evaluate(
      async ({ url, method, headers }) => {
        const response = await fetch(url, { method, headers, credentials: 'same-origin' });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
      { url: new URL(`api${path}`, consoleUrl).toString(), method: init.method ?? 'GET', headers: init.headers ?? {} },
    );
  }

  /** The CSS filter the browser applies to the media, as computed in the page. */
  const mediaFilter = (page: Page) => page.getByTestId('case-media').evaluate((image) => image.ownerDocument.defaultView!.getComputedStyle(image).filter);
  const exposureShows = (page: Page, count: number) => page.getByTestId('exposure-counter').filter({ hasText: new RegExp(`^${count}$`) }).waitFor();

  it('refuses a wrong password, then shows a reviewer only the queues of their team', async () => {
    const { context, page, close } = await newPage();
    await login(page, 'rev-media', 'not-the-password-1');
    await page.getByTestId('login-error').waitFor();
    assert.match(await page.getByTestId('login-error').innerText(), /wrong username or password/i);
    assert.equal((await pageFetch(page, '/session')).status, 401, 'no session after a wrong password');
    assert.ok(!(await context.cookies()).some((cookie) => cookie.name === 'bulwark_session'));
    await screenshot(page, '1-login-refused');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('queue-table').waitFor();
    const queues = await page.getByTestId('queue-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-queue')));
    assert.deepEqual(queues.sort(), ['appeals', 'known-media', 'networks', 'notices']);
    assert.equal(await page.getByTestId('reviewer-name').innerText(), 'rev-media');
    assert.equal(await page.getByTestId('exposure-counter').innerText(), '0');
    assert.equal(await page.getByTestId('audit-link').count(), 0, 'reviewers get no audit log link');
    assert.equal(await page.locator('[data-testid=queue-row][data-queue=known-media]').getAttribute('data-open'), '2', 'the queue counts both open cases');
    const session = (await context.cookies()).find((cookie) => cookie.name === 'bulwark_session');
    assert.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict', 'the session cookie is HttpOnly, Secure and SameSite=Strict');
    await screenshot(page, '1-queues');
    await close();
  });

  it('reviews content: blurred until revealed, decided by key, next case blurred again, enforcement delivered', async () => {
    const { context, page, close } = await newPage();
    // A controllable clock (running at normal speed until told otherwise) to check the reveal timeout without waiting for it.
    await context.clock.install();
    // Every media request the page makes: before a reveal only the server's blurred preview may be fetched.
    const mediaRequests: { kind: string; caseId: number }[] = [];
    const mediaResponses: { kind: string; contentType: string | undefined; status: number }[] = [];
    page.on('request', (request) => {
      const found = /\/console\/api\/cases\/(\d+)\/(media|preview)(?:\?|$)/.exec(new URL(request.url()).pathname);
      if (found) mediaRequests.push({ kind: found[2], caseId: Number(found[1]) });
    });
    page.on('response', (response) => {
      const found = /\/console\/api\/cases\/\d+\/(media|preview)$/.exec(new URL(response.url()).pathname);
      if (found) mediaResponses.push({ kind: found[1], contentType: response.headers()['content-type'], status: response.status() });
    });
    const fetched = (kind: string, caseId: number) => mediaRequests.filter((request) => request.kind === kind && request.caseId === caseId).length;
    await login(page, 'rev-media');
    await page.getByTestId('queue-table').waitFor();
    assert.equal(await page.getByTestId('exposure-counter').innerText(), '0');
    await page.getByRole('button', { name: 'Start reviewing known-media' }).click();
    const media = page.getByTestId('case-media');
    await media.waitFor();
    const firstCase = page.getByTestId('case');
    const firstId = Number(await firstCase.getAttribute('data-case-id'));
    assert.equal(fetched('preview', firstId), 1, 'the blurred preview was fetched');
    assert.equal(fetched('media', firstId), 0, 'no request fetched the original before the reveal');
    assert.deepEqual(mediaResponses.map((response) => [response.kind, response.contentType, response.status]), [['preview', 'image/jpeg', 200]]);
    const firstContent = await page.getByTestId('content-id').innerText();
    assert.ok(contentIds.includes(firstContent));
    assert.equal(await media.getAttribute('data-revealed'), 'false');
    const blurred = await mediaFilter(page);
    assert.match(blurred, /blur\(/);
    assert.match(blurred, /grayscale\(1\)/);
    assert.match(await page.getByTestId('matches').innerText(), /console-test[\s\S]*md5[\s\S]*tag-alpha/);
    await screenshot(page, '2-content-blurred');

    assert.equal(fetched('media', firstId), 0, 'still no original before the reveal');
    await page.keyboard.press('v');
    await page.locator('[data-testid=case-media][data-revealed=true]').waitFor();
    assert.equal(fetched('media', firstId), 1, 'the reveal fetched the original, once');
    assert.deepEqual(mediaResponses.at(-1), { kind: 'media', contentType: 'image/png', status: 200 });
    assert.equal(await mediaFilter(page), 'none');
    await exposureShows(page, 1);
    await screenshot(page, '2-content-revealed');

    await page.keyboard.press('c');
    await page.locator(`[data-testid=case]:not([data-case-id="${firstId}"])`).waitFor();
    await media.waitFor();
    const secondContent = await page.getByTestId('content-id').innerText();
    assert.notEqual(secondContent, firstContent, 'the next case of the queue opened');
    assert.equal(await media.getAttribute('data-revealed'), 'false', 'the next case starts blurred');
    const secondId = Number(await page.getByTestId('case').getAttribute('data-case-id'));
    assert.equal(fetched('preview', secondId), 1);
    assert.equal(fetched('media', secondId), 0, 'the next case\'s original is not fetched before its reveal');
    assert.match(await mediaFilter(page), /blur\(.*grayscale\(1\)/);
    assert.match(await page.getByTestId('status').innerText(), new RegExp(`Case #${firstId}: Confirm`));
    // The message about the last case sits above the next one, never over it.
    const statusBox = (await page.getByTestId('status').boundingBox())!;
    const caseBox = (await page.getByTestId('case').boundingBox())!;
    assert.ok(statusBox.y + statusBox.height <= caseBox.y, `the status (bottom ${statusBox.y + statusBox.height}) ends above the case (top ${caseBox.y})`);
    assert.equal(await page.locator('#decision-policy').inputValue(), 'known-media', 'a content case starts on the content policy');
    assert.equal(await page.getByTestId('exposure-counter').innerText(), '1');
    await screenshot(page, '2-next-case');

    // The platform stand-in accepts only correctly signed deliveries.
    const delivered = await webhook.waitFor('remove_content', firstContent);
    assert.equal(delivered.target.kind, 'content');
    assert.deepEqual(webhook.refused, []);
    assert.ok(!webhook.received.some((action) => action.target.id === secondContent), 'nothing was sent for the undecided case');

    const decided = await pageFetch(page, `/cases/${firstId}`);
    assert.equal(decided.status, 200);
    const detail = decided.body as { status: string; decisions: { verdict: string; decided_by: string; policy: string | null }[] };
    assert.equal(detail.status, 'decided');
    assert.deepEqual(detail.decisions.map((decision) => [decision.verdict, decision.decided_by, decision.policy]), [['confirm', 'rev-media', 'known-media']]);

    // Anything that takes the reviewer's eyes away blurs the picture again: Escape, the window
    // losing focus, and the reveal timeout; each reveal counts.
    const revealAgain = async (count: number) => {
      await page.keyboard.press('v');
      await page.locator('[data-testid=case-media][data-revealed=true]').waitFor();
      await exposureShows(page, count);
    };
    const concealed = () => page.locator('[data-testid=case-media][data-revealed=false]').waitFor();
    await revealAgain(2);
    await page.keyboard.press('Escape');
    await concealed();
    assert.match(await mediaFilter(page), /blur\(/);
    await revealAgain(3);
    await page.getByTestId('case-media').evaluate((image) => {
      const view = image.ownerDocument.defaultView!;
      view.dispatchEvent(new view.Event('blur'));
    });
    await concealed();
    await revealAgain(4);
    await page.clock.fastForward(19_000);
    assert.equal(await page.getByTestId('case-media').getAttribute('data-revealed'), 'true', 'still shown before the timeout');
    await page.clock.fastForward(2_000);
    await concealed();
    assert.match(await mediaFilter(page), /grayscale\(1\)/);
    assert.equal(fetched('media', secondId), 3, 'each reveal fetched the original once, and nothing else did');
    // (A decided case's preview may be asked for once more as its holder clears, and refused: no bytes.)
    const originals = mediaResponses.filter((response) => response.kind === 'media');
    assert.ok(originals.length === 4 && originals.every((response) => response.status === 200), `every original fetch followed a reveal: ${JSON.stringify(mediaResponses)}`);
    await close();
  });

  it('draws a network case as an SVG graph of its members, without media, and takes it down by key', async () => {
    const { page, close } = await newPage();
    await login(page, 'rev-media');
    await page.getByRole('button', { name: 'Start reviewing networks' }).click();
    await page.getByTestId('network-graph').waitFor();
    assert.equal(Number(await page.getByTestId('case').getAttribute('data-case-id')), networkCaseId);
    const drawn = await page.getByTestId('graph-node').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-account-id')));
    assert.deepEqual([...drawn].sort(), [...networkMembers].sort(), 'one node per member');
    assert.equal(await page.locator('img').count(), 0, 'a network case shows no media');
    const sellers = await page.locator('[data-testid=graph-node][data-role=seller]').count();
    assert.ok(sellers >= 1);
    assert.match(await page.getByTestId('network-counts').innerText(), new RegExp(`Accounts\\s*${networkMembers.length}`));

    // The legend names exactly the kinds of account drawn: no minor entry without a minor in the picture.
    const legend = await page.locator('[data-testid=graph-legend] li').evaluateAll((items) => items.map((item) => item.getAttribute('data-legend')));
    const roles = await page.getByTestId('graph-node').evaluateAll((nodes) => [...new Set(nodes.map((node) => node.getAttribute('data-role')))]);
    const minorsDrawn = await page.locator('[data-testid=graph-node].minor').count();
    assert.deepEqual(legend.filter((entry) => entry !== 'link' && entry !== 'minor').sort(), [...roles].sort());
    assert.equal(legend.includes('minor'), minorsDrawn > 0);
    if (minorsDrawn === 0) assert.match(await page.getByTestId('graph-minors-note').innerText(), /minors contacted are not members of the network/);
    assert.equal(await page.locator('#decision-policy').inputValue(), 'trading-network', 'a network case starts on the network policy');

    await page.locator('[data-testid=graph-node][data-account-id="seller-0"]').click();
    assert.equal(await page.getByTestId('graph-node-account').innerText(), 'seller-0');
    assert.match(await page.getByTestId('graph-node-details').innerText(), /Seller/);
    await screenshot(page, '3-network');

    // Take the network down by key: every member is suspended on the platform, and the queue is then empty.
    await page.keyboard.press('t');
    await page.getByTestId('queue-table').waitFor();
    assert.match(await page.getByTestId('status').innerText(), /Queue networks is empty/);
    await webhook.waitFor('suspend_account', 'seller-0');
    assert.equal((await bulwark.cases.detail(networkCaseId)).status, 'decided');
    await screenshot(page, '3-queue-empty');
    await close();
  });

  it('draws a 57- and a 300-account network readably: sellers, buyers and minors first, a legend of what is drawn, decided by key', async () => {
    const { page, close } = await newPage();
    await login(page, 'rev-media');
    await page.getByTestId('queue-table').waitFor();
    for (const size of [57, 300]) {
      const planted = await storedNetwork(bulwark, `large-${size}`, size);
      const opened = await bulwark.cases.open({ queue: 'networks', subject: { kind: 'network', id: String(planted.id) }, priority: 10, networkSize: size, reason: { rule: 'manual', summary: `network of ${size} accounts` } });
      await page.goto(`${consoleUrl}#/cases/${opened.id}`);
      // The case may already be this reviewer's: a decision makes the console claim the queue's
      // next case, which can be this one if it was opened before that claim arrived.
      await page.getByTestId('claim-button').or(page.getByTestId('network-graph')).first().waitFor();
      if (await page.getByTestId('claim-button').isVisible()) await page.getByTestId('claim-button').click();
      await page.getByTestId('network-graph').waitFor();
      const first = Math.min(planted.sellers + planted.buyers + planted.minors, 80);
      const drawn = () => page.getByTestId('graph-node').count();
      assert.equal(await drawn(), first, `${size}: sellers, buyers and minors are drawn first`);
      assert.match(await page.getByTestId('graph-drawn').innerText(), new RegExp(`${first} of ${size} accounts drawn; ${size - first} other members are not drawn`));
      const legend = await page.locator('[data-testid=graph-legend] li').evaluateAll((items) => items.map((item) => item.getAttribute('data-legend')));
      const roles = await page.getByTestId('graph-node').evaluateAll((nodes) => [...new Set(nodes.map((node) => node.getAttribute('data-role')))]);
      assert.deepEqual(legend.filter((entry) => entry !== 'link' && entry !== 'minor').sort(), [...roles].sort(), `${size}: the legend's roles are the drawn ones`);
      assert.equal(legend.includes('minor'), (await page.locator('[data-testid=graph-node].minor').count()) > 0, `${size}: a minor entry only with a minor drawn`);
      assert.ok((await page.locator('[data-testid=graph-node].minor .minor-ring').count()) >= 1, `${size}: minors are drawn with their ring`);
      const links = () => page.locator('[data-testid=network-graph] line').count();
      assert.ok((await links()) <= (await drawn()) * 1.5, `${size}: weak links are filtered out at first (${await links()} links)`);
      await screenshot(page, `6-network-${size}`);
      await page.getByTestId('graph-expand').click();
      assert.equal(await drawn(), size, `${size}: expanding draws every account`);
      await page.getByTestId('graph-strength').selectOption('1');
      assert.ok((await links()) > 0);
      await screenshot(page, `6-network-${size}-all`);
      assert.equal(await page.locator('#decision-policy').inputValue(), 'trading-network');
      if (size === 57) {
        // Keyboard decisions still work on a large picture: t takes the network down.
        await page.evaluate('document.activeElement.blur()');
        await page.keyboard.press('t');
        await webhook.waitFor('suspend_account', 'large-57-seller-0');
        assert.equal((await bulwark.cases.detail(opened.id)).status, 'decided');
        // The console then opens the queue's next case (or says it is empty) and announces the
        // decision: wait for that before the next network is opened, so the two cannot cross.
        await page.getByText(new RegExp(`Case #${opened.id}: `)).first().waitFor();
      }
    }
    await close();
  });

  it('refuses a POST without the CSRF token, keeps other teams\' cases out and ends the session on sign-out', async () => {
    const { page, close } = await newPage();
    await login(page, 'rev-media');
    await page.getByTestId('queue-table').waitFor();
    const before = (await pageFetch(page, '/session')).body as { exposure_today: number };

    const [anyCase] = (await bulwark.cases.list({ queue: 'known-media' })).filter((candidate) => candidate.status !== 'decided');
    assert.ok(anyCase, 'an undecided case to try');
    const forged = await pageFetch(page, `/cases/${anyCase.id}/reveal`, { method: 'POST' });
    assert.equal(forged.status, 403, 'the cookie alone does not authorise a POST');
    const after = (await pageFetch(page, '/session')).body as { exposure_today: number };
    assert.equal(after.exposure_today, before.exposure_today, 'the refused reveal counted nothing');

    assert.equal((await pageFetch(page, `/cases/${restrictedCaseId}`)).status, 403);
    await page.goto(`${consoleUrl}#/cases/${restrictedCaseId}`);
    await page.getByTestId('case-error').waitFor();
    assert.match(await page.getByTestId('case-error').innerText(), /not in a queue of your teams/);
    await screenshot(page, '4-restricted');

    await page.getByTestId('logout').click();
    await page.getByTestId('login-message').waitFor();
    assert.equal((await pageFetch(page, '/session')).status, 401, 'the session is over');
    assert.equal((await pageFetch(page, '/queues')).status, 401);
    await close();
  });

  it('lets a lead read the audit log, take over a reviewer\'s case and hand it back, and confirm a report to NCMEC held below the quality floor', async () => {
    const { page, close } = await newPage();
    await login(page, 'lead-media');
    await page.getByTestId('audit-link').click();
    await page.getByTestId('audit-table').waitFor();
    const audit = await page.getByTestId('audit-table').innerText();
    assert.match(audit, /rev-media/, 'the reviewer\'s actions are in the log');
    await screenshot(page, '5-audit');

    const held = (await bulwark.cases.list({ queue: 'known-media' })).find((candidate) => candidate.status === 'claimed');
    assert.ok(held, 'the reviewer still holds the second content case');
    await page.goto(`${consoleUrl}#/cases/${held.id}`);
    await page.getByTestId('claim-button').waitFor();
    assert.equal(await page.getByTestId('decide-confirm').count(), 0, 'no decision on a case someone else holds');
    await page.getByTestId('claim-button').click();
    await page.getByTestId('decide-confirm').waitFor();
    assert.equal((await bulwark.cases.detail(held.id)).claimed_by, 'lead-media');

    await page.getByLabel('Assign to reviewer').fill('rev-media');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByTestId('claim-button').waitFor();
    assert.equal((await bulwark.cases.detail(held.id)).claimed_by, 'rev-media');
    await screenshot(page, '5-assigned');

    const decided = (await bulwark.cases.list({ queue: 'known-media' })).find((candidate) => candidate.status === 'decided');
    assert.ok(decided, 'the reviewer decided a content case');
    const { report } = await bulwark.ncmec.createFromCase(decided.id, 'test');
    assert.equal(report.status, 'held');
    await page.getByTestId('ncmec-link').click();
    const row = page.getByTestId(`ncmec-report-${report.id}`);
    await row.waitFor();
    assert.match(await row.getByTestId('ncmec-score').innerText(), new RegExp(`^${report.quality.score}\\s*/ 100 \\(floor 100\\)`));
    assert.match(await row.innerText(), /Held/);
    await screenshot(page, '6-ncmec');
    await page.getByTestId(`ncmec-confirm-${report.id}`).click();
    await page.getByTestId(`ncmec-confirm-${report.id}`).waitFor({ state: 'detached' });
    const confirmed = await bulwark.ncmec.get(report.id);
    assert.deepEqual([confirmed.status, confirmed.confirmed_by], ['queued', 'lead-media']);
    assert.match(await row.innerText(), /confirmed by lead-media/);
    await close();
  });
});
