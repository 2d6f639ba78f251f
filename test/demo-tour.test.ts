import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { demoTour, type TourFacts } from '../src/cli/demo-tour.ts';
import { stageProgress } from '../src/cli/stage-progress.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { DEMO_NOTICE_LOCATION_PATTERNS, SEED_STAGES } from '../src/demo/demo-seed.ts';
import { buildServer } from '../src/http/server.ts';
import { locationPatternsFromEnv } from '../src/legal/notices.ts';

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

describe('the demo’s rules and notice patterns', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  before(async () => {
    bulwark = await openBulwark({ hashing: { workers: 0 }, notices: { locationPatterns: locationPatternsFromEnv(DEMO_NOTICE_LOCATION_PATTERNS) } });
    app = await buildServer(bulwark);
    auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('platform')).key}` };
    const rules = await readFile(fileURLToPath(new URL('../src/demo/demo-rules.yaml', import.meta.url)), 'utf8');
    await bulwark.rules.activate(rules, 'demo-rules.yaml', 'test');
  });
  after(async () => {
    await app.close();
    await bulwark.close();
  });

  it('act on a list of one’s own imported with the demo tag, and not on an untagged one', async () => {
    const tagged = await encodeImage(shapesImage(71, 320, 240), 'png');
    const untagged = await encodeImage(shapesImage(72, 320, 240), 'png');
    for (const [bank, picture, query] of [['my-list', tagged, '?tags=demo'], ['other-list', untagged, '']] as const) {
      const created = await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: bank } });
      assert.equal(created.statusCode, 201, created.body);
      const imported = await app.inject({
        method: 'POST',
        url: `/v1/banks/${bank}/import${query}`,
        headers: { ...auth, 'content-type': 'text/csv' },
        payload: `signal_type,value,tags\nmd5,${md5(picture)},tag-alpha\n`,
      });
      assert.equal(imported.statusCode, 200, imported.body);
    }
    const entries = await bulwark.banks.listEntries('my-list');
    assert.deepEqual(entries.map((entry) => entry.tags), [['tag-alpha', 'demo']], 'the row keeps its own tag and gains demo');

    for (const [contentId, picture] of [['own-tagged', tagged], ['own-untagged', untagged]] as const) {
      const sent = await app.inject({ method: 'PUT', url: `/v1/content/${contentId}?account_id=uploader-${contentId}`, headers: { ...auth, 'content-type': 'image/png' }, payload: picture });
      assert.equal(sent.statusCode, 201, sent.body);
    }
    await bulwark.hashMatchLabeller.drain();
    await bulwark.rules.runner.drain();

    const onTagged = await bulwark.cases.list({ subject: { kind: 'content', id: 'own-tagged' } });
    assert.equal(onTagged.length, 1, 'the exact match on the tagged list opened a case');
    assert.ok(onTagged[0].reasons.some((reason) => reason.rule === 'exact-match-remove'), JSON.stringify(onTagged[0].reasons));
    const actions = await bulwark.actions.list({});
    assert.ok(actions.some((action) => action.type === 'remove_content' && action.target.id === 'own-tagged'), 'and removed the content');
    assert.ok(!actions.some((action) => action.target.id === 'own-untagged'), 'an untagged list of one’s own is not acted on');
    assert.deepEqual(await bulwark.cases.list({ subject: { kind: 'content', id: 'own-untagged' } }), []);
  });

  it('act on every entry of a bank tagged demo, imported without tags', async () => {
    const picture = await encodeImage(shapesImage(73, 320, 240), 'png');
    const created = await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: 'tagged-bank', tags: ['demo'] } });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().tags, ['demo']);
    const imported = await app.inject({
      method: 'POST',
      url: '/v1/banks/tagged-bank/import',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: `signal_type,value\nmd5,${md5(picture)}\n`,
    });
    assert.equal(imported.statusCode, 200, imported.body);
    assert.deepEqual((await bulwark.banks.listEntries('tagged-bank')).map((entry) => entry.tags), [[]], 'the entry itself has no tag');
    const sent = await app.inject({ method: 'PUT', url: '/v1/content/bank-tagged?account_id=uploader-bank-tagged', headers: { ...auth, 'content-type': 'image/png' }, payload: picture });
    assert.equal(sent.statusCode, 201, sent.body);
    assert.ok(sent.json().matches.some((match: { bank: string; tags: string[] }) => match.bank === 'tagged-bank' && match.tags.includes('demo')), 'the match carries its bank’s tag');
    await bulwark.hashMatchLabeller.drain();
    await bulwark.rules.runner.drain();
    const actions = await bulwark.actions.list({});
    assert.ok(actions.some((action) => action.type === 'remove_content' && action.target.id === 'bank-tagged'), 'the demo rule acted on it');

    // Untagging the bank takes it out of the demo's rules for later uploads.
    const patched = await app.inject({ method: 'PATCH', url: '/v1/banks/tagged-bank', headers: auth, payload: { tags: [] } });
    assert.deepEqual(patched.json().tags, []);
    const again = await app.inject({ method: 'PUT', url: '/v1/content/bank-untagged?account_id=uploader-bank-untagged', headers: { ...auth, 'content-type': 'image/png' }, payload: picture });
    assert.ok(again.json().matches.every((match: { tags: string[] }) => !match.tags.includes('demo')));
    const bad = await app.inject({ method: 'PATCH', url: '/v1/banks/tagged-bank', headers: auth, payload: { tags: ['x'.repeat(65)] } });
    assert.equal(bad.statusCode, 400, bad.body);
  });

  it('turn a notice from the public form into a case on the content it names', async () => {
    const form = new URLSearchParams({ category: 'csam', locations: 'https://platform.example/content/own-tagged', explanation: 'placeholder explanation', good_faith: 'yes' });
    const sent = await app.inject({ method: 'POST', url: '/notices', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    assert.equal(sent.statusCode, 201, sent.body);
    const [notice] = await bulwark.notices.list({});
    assert.deepEqual(notice.subject, { kind: 'content', id: 'own-tagged' });
    assert.ok(notice.case_id !== null, 'the notice became a case');
  });

  it('refuse an import whose extra tag is not a tag, naming it', async () => {
    const refused = await app.inject({ method: 'POST', url: `/v1/banks/my-list/import?tags=${'x'.repeat(65)}`, headers: { ...auth, 'content-type': 'text/csv' }, payload: 'md5,0123456789abcdef0123456789abcdef\n' });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.match(refused.json().detail, /invalid tag/);
  });
});

describe('the demo’s tour and progress', () => {
  const facts: TourFacts = {
    address: 'http://127.0.0.1:8080',
    dir: '/home/operator/bulwark/.bulwark/demo',
    samples: '/home/operator/bulwark/.bulwark/demo/samples',
    key: 'bwk_placeholder',
    keyFromEnv: false,
    seconds: 70,
    received: [
      ...Array.from({ length: 16 }, (_, i) => ({ type: 'restrict_account', target: { kind: 'account', id: `acct-${i}` }, decidedBy: 'rule:returning-account' })),
      { type: 'remove_content', target: { kind: 'content', id: 'demo-upload-1' }, decidedBy: 'rule:exact-match-remove' },
    ],
    queues: [{ name: 'known-media', open: 3 }, { name: 'networks', open: 3 }, { name: 'reports', open: 0 }],
    network: { accounts: 2223, networks: [{ id: 1, size: 57, sellers: 5, minorContacts: 34 }], minor: 'acct-000000', seller: 'acct-001308', ordinary: 'acct-000001' },
    review: { reviewer: 'demo-reviewer', lead: 'demo-lead', password: 'placeholder-password' },
    noticePatternsFromEnv: false,
    logLevel: 'warn',
  };

  it('explains each part before its output, briefly, and names the data folder’s flags', () => {
    const tour = demoTour(facts);
    const lines = tour.split('\n');
    assert.ok(lines.length <= 60, `${lines.length} lines`);
    const headings = ['1. Known media', '2. Rules, cases and enforcement', '3. Review', '4. Networks', '5. Notices', '6. Your own data'].map((heading) => tour.indexOf(heading));
    assert.ok(headings.every((at, i) => at >= 0 && (i === 0 || at > headings[i - 1])), `parts in order: ${headings}`);
    // Each part's output comes after its heading and before the next part's.
    const within = (text: string, part: number) => tour.indexOf(text) > headings[part] && (part === 5 || tour.indexOf(text) < headings[part + 1]);
    assert.ok(within('restrict_account on 16 accounts (decided by rule:returning-account), e.g. acct-0', 1), 'actions of one kind are summed up');
    assert.ok(within('remove_content content demo-upload-1 (decided by rule:exact-match-remove)', 1));
    assert.ok(within('Open cases by queue: known-media 3, networks 3.', 1));
    assert.ok(within('network 1: 57 accounts, 5 sellers, 34 minors contacted', 3));
    assert.ok(within('https://platform.example/content/', 4));
    assert.ok(within('npx bulwark apikey create my-integration --data-dir /home/operator/bulwark/.bulwark/demo/data', 5));
    assert.ok(within('{"name":"my-list","tags":["demo"]}', 5), 'the tour tags the bank of one’s own list demo');
    assert.ok(tour.includes('export BULWARK_URL=http://127.0.0.1:8080 BULWARK_KEY=bwk_placeholder'));
    assert.match(tour, /Request log: warnings only \(BULWARK_LOG_LEVEL=info shows every request\)/);
    assert.match(demoTour({ ...facts, logLevel: 'info' }), /Request log: level info \(BULWARK_LOG_LEVEL\)/);
  });

  it('prints plain numbered lines when stderr is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const progress = stageProgress(SEED_STAGES, stream);
    progress.stage(SEED_STAGES[0], 20);
    for (let done = 1; done <= 20; done++) progress.advance(done);
    progress.stage(SEED_STAGES[1]);
    progress.stop();
    assert.deepEqual(written, [
      `  [1/6] ${SEED_STAGES[0]}…\n`,
      `  [1/6] ${SEED_STAGES[0]}: 25%\n`,
      `  [1/6] ${SEED_STAGES[0]}: 50%\n`,
      `  [1/6] ${SEED_STAGES[0]}: 75%\n`,
      `  [2/6] ${SEED_STAGES[1]}…\n`,
    ]);
  });
});
