import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { LANDING_LINKS } from '../src/http/routes/landing.ts';
import { type App, buildServer } from '../src/http/server.ts';
import { browserSkip, launchChromium, screenshot } from './helpers/browser.ts';

// What a browser meets at the server's root: a landing page and an API reference, both
// answered without a key and showing no data, with the reference's assets served from here.

const packageVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every src/href in a page's tags (scripts, stylesheets, icons, links). */
const referencedUrls = (html: string) => [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((match) => match[1]);

describe('the landing page and the API reference', () => {
  let bulwark: Bulwark;
  let app: App;

  before(async () => {
    bulwark = await openBulwark({ bankRefreshMs: 0, hashing: { workers: 0 } });
    app = await buildServer(bulwark);
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  it('answers / without a key: what runs here, its version and the public pages, and no data', async () => {
    await bulwark.banks.create('bank-alpha');
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    const html = response.body;
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<h1>Bulwark<\/h1>/);
    assert.ok(html.includes(`Version ${packageVersion}`), `the page names version ${packageVersion}`);
    const hrefs = referencedUrls(html);
    for (const link of LANDING_LINKS) assert.ok(hrefs.includes(link.href), `links to ${link.href}`);
    assert.deepEqual(
      LANDING_LINKS.map((link) => link.href),
      ['/console/', '/notices', '/docs', '/healthz'],
    );
    assert.ok(!html.includes('bank-alpha'), 'the page shows nothing from the store');
    assert.ok(!/https?:\/\//.test(html), 'the page loads nothing from elsewhere');
  });

  it('lets each page the landing page links to through without a key, and still refuses the API without one', async () => {
    for (const link of LANDING_LINKS) {
      const response = await app.inject({ method: 'GET', url: link.href });
      // The console answers 503 when it is not built in this checkout; a 401 would mean the key check stopped it.
      assert.notEqual(response.statusCode, 401, `${link.href} answered 401`);
      assert.ok(response.statusCode < 500 || link.href === '/console/', `${link.href} answered ${response.statusCode}`);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v1/banks' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/docsx' })).statusCode, 401, 'only /docs and what is under it is public');
  });

  it('answers /favicon.ico with no content rather than a JSON 401', async () => {
    const response = await app.inject({ method: 'GET', url: '/favicon.ico' });
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, '');
  });

  it('serves /docs and every asset it loads from this server, without a key', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(String(response.headers['content-security-policy']), /default-src 'self'.*script-src 'self'/);
    const urls = referencedUrls(response.body);
    assert.ok(urls.some((url) => url.endsWith('/swagger-ui-bundle.js')), 'the page loads the Swagger UI bundle');
    for (const url of urls) {
      assert.ok(!/^(https?:)?\/\//i.test(url), `${url} is not served from here`);
      const asset = await app.inject({ method: 'GET', url: new URL(url, 'http://bulwark.test/docs').pathname });
      assert.equal(asset.statusCode, 200, `${url} answered ${asset.statusCode}`);
    }
    const spec = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(spec.statusCode, 200);
    const document = spec.json() as { info: { version: string }; paths: Record<string, Record<string, unknown>> };
    assert.equal(document.info.version, packageVersion);
    assert.ok(document.paths['/v1/match']?.post, 'the reference documents POST /v1/match');
    const listed = Object.keys(document.paths);
    assert.ok(!listed.some((path) => path === '/' || path.startsWith('/docs')), `the reference does not document itself: ${listed.filter((p) => p === '/' || p.startsWith('/docs'))}`);
  });

  describe('in Chromium', { skip: browserSkip() }, () => {
    let browser: Browser;
    let origin: string;

    before(async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    it('renders the reference, listing POST /v1/match, with every request going to this server', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requested: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(`${origin}/docs`);
      const operation = page.locator('.opblock-post .opblock-summary-path[data-path="/v1/match"]');
      await operation.first().waitFor({ state: 'visible' });
      assert.equal(await page.locator('.opblock-summary-method', { hasText: 'POST' }).first().isVisible(), true);
      await screenshot(page, 'api-docs');
      const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
      assert.deepEqual(elsewhere, [], 'the reference loads nothing from elsewhere');
      assert.deepEqual(violations, [], 'the page runs within its content security policy');
      await page.close();
    });

    it('shows the landing page with working links', async () => {
      const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
      await page.goto(`${origin}/`);
      assert.equal(await page.title(), 'Bulwark');
      await page.getByRole('link', { name: 'API reference' }).click();
      await page.waitForURL(`${origin}/docs`);
      await page.locator('.opblock-summary-path').first().waitFor({ state: 'visible' });
      await page.goto(`${origin}/`);
      await screenshot(page, 'landing-page');
      await page.close();
    });
  });
});
