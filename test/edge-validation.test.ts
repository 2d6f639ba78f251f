import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { parseBankRows } from '../src/banks/import-formats.ts';
import { parseTermFile } from '../src/cli/commands/network.ts';
import { buildServer } from '../src/http/server.ts';
import { importEventLines } from '../src/ingest/event-import.ts';
import { parseRuleFile } from '../src/rules/parse.ts';
import { findUnstorable, unstorableText } from '../src/validation/edge.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';
import { expectProblem } from './helpers/problems.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

// Regression cases of issue 12, item 5: each of these answered 500 (and logged an error)
// instead of a 400 naming the field.

const repoRoot = resolve(import.meta.dirname, '..');
const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';
const at = (time: string) => ({ type: 'follow', actor: 'acct-a', target: 'acct-b', occurred_at: time });

/** A problem+json 400 whose first error names this location. */
function expectRefusedField(response: LightMyRequestResponse, location: string, reason: RegExp) {
  const body = expectProblem(response, 400, reason);
  const locations = (body.errors as { location: string }[]).map((error) => error.location);
  assert.ok(locations.includes(location), `expected ${location} among ${JSON.stringify(locations)}`);
  return body;
}

/** A YAML file whose nine levels of nine aliases expand to 9^9 nodes. */
function aliasBomb(): string {
  const lines = ['version: 1', 'l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (let level = 1; level < 9; level++) lines.push(`l${level}: &l${level} [${Array(9).fill(`*l${level - 1}`).join(', ')}]`);
  lines.push('rules: []');
  return `${lines.join('\n')}\n`;
}

describe('edge validation without a store', () => {
  it('finds NUL and lone surrogates anywhere in a JSON value, keys included, and nothing else', () => {
    assert.equal(unstorableText('term-alpha\t\n\u0001\u007f\u0085\uffff😀'), undefined, 'other control characters and surrogate pairs are stored fine');
    assert.match(unstorableText(`a${NUL}b`)!, /NUL/);
    assert.match(unstorableText(`a${LONE_SURROGATE}`)!, /surrogate/);
    assert.match(unstorableText('\udc00a')!, /surrogate/, 'a low surrogate without its high one');
    assert.deepEqual(findUnstorable({ a: [1, { b: `x${NUL}` }] })?.path, ['a', 1, 'b']);
    assert.deepEqual(findUnstorable({ [`k${NUL}`]: 1 })?.path, [`k${NUL}`]);
    assert.equal(findUnstorable({ a: [1, true, null, 'fine'] }), undefined);
    let deep: unknown = `x${NUL}`;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(findUnstorable(deep)?.path.length, 100_000, 'deep nesting does not overflow the stack');
  });

  it('refuses a YAML alias bomb and a NUL in a rule file, naming the line', () => {
    assert.throws(() => parseRuleFile(aliasBomb(), 'bomb.yaml'), (error: Error & { kind?: string }) => {
      assert.equal(error.kind, 'invalid');
      assert.match(error.message, /^bomb\.yaml:3:\d+: YAML aliases: .*at most 100 alias expansions/);
      return true;
    });
    assert.throws(() => parseRuleFile('version: 1\nrules: []\nqueues:\n  - name: q\n    description: "a\\0b"\n    sla_minutes: 5\n', 'r.yaml'), /r\.yaml:5:\d+: queues\[0\]\.description contains a NUL/);
    assert.throws(() => parseRuleFile(`version: 1\n# ${NUL}\nrules: []\n`, 'r.yaml'), /r\.yaml:2:\d+: the file contains a NUL/);
  });

  it('refuses NUL in every hash-list format, naming the line and the field', async () => {
    const rows = async (text: string, format: 'csv' | 'tsv' | 'jsonl') => {
      const out = [];
      for await (const row of parseBankRows(Readable.from([text]), { format })) out.push(row);
      return out;
    };
    await assert.rejects(rows(`signal_type,value,source\nmd5,${'a'.repeat(32)},src${NUL}x\n`, 'csv'), /line 2: source contains a NUL/);
    await assert.rejects(rows(`md5\t${'a'.repeat(32)}\tfine\tt1 t${NUL}2\n`, 'tsv'), /line 1: tags\[1\] contains a NUL/);
    await assert.rejects(rows(`{"signal_type":"md5","value":"${'a'.repeat(32)}","source":"x\\ud800"}\n`, 'jsonl'), /line 1: source contains a lone UTF-16 surrogate/);
    assert.equal((await rows(`md5,${'a'.repeat(32)},term-alpha\n`, 'csv')).length, 1);
  });

  it('refuses NUL in a term file, naming the line', () => {
    assert.throws(() => parseTermFile(`term-alpha\nterm-${NUL}beta\n`), /line 2: contains a NUL/);
    assert.throws(() => parseTermFile('{"id":"t1","term":"term-\\u0000alpha"}\n'), /line 1\/term: contains a NUL/);
  });
});

const targets = await storeTargets();

for (const target of targets) {
  describe(`edge validation over HTTP and imports (${target.name})`, () => {
    let bulwark: Bulwark;
    let app: FastifyInstance;
    let auth: Record<string, string>;
    let location: ReturnType<StoreTarget['location']>;
    const logged: { level: number; msg: string }[] = [];

    before(async () => {
      location = target.location();
      bulwark = await openBulwark({ ...location, bankRefreshMs: 0, hashing: { workers: 0 } });
      await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'test');
      app = await buildServer(bulwark, { logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line)) } } });
      auth = { authorization: `Bearer ${(await bulwark.apiKeys.create('edge')).key}` };
      assert.equal((await app.inject({ method: 'POST', url: '/v1/banks', headers: auth, payload: { name: 'edge-bank' } })).statusCode, 201);
    });
    afterEach(() => {
      // Refusing bad input is not an error of the server: nothing may be logged at error level.
      assert.deepEqual(logged.splice(0).map((entry) => entry.msg), []);
    });
    after(async () => {
      await app.close();
      await bulwark.close();
      await target.cleanup();
    });

    const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: auth, payload: payload as object });

    it('refuses NUL in a bank description, an entry source and tags, and a lone surrogate in JSON', async () => {
      expectRefusedField(await post('/v1/banks', { name: 'nul-bank', description: `known ${NUL} media` }), 'body/description', /^body\/description: contains a NUL/);
      expectProblem(await app.inject({ url: '/v1/banks/nul-bank', headers: auth }), 404, /nul-bank/);
      const raw = await app.inject({ method: 'POST', url: '/v1/banks', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":"sur-bank","description":"a\\ud800b"}' });
      expectRefusedField(raw, 'body/description', /lone UTF-16 surrogate/);
      const entry = { signal_type: 'md5', value: 'b'.repeat(32) };
      expectRefusedField(await post('/v1/banks/edge-bank/entries', { ...entry, source: `feed${NUL}` }), 'body/source', /NUL/);
      expectRefusedField(await post('/v1/banks/edge-bank/entries', { ...entry, tags: ['ok', `t${NUL}`] }), 'body/tags/1', /NUL/);
      expectRefusedField(await app.inject({ method: 'PATCH', url: '/v1/banks/edge-bank', headers: auth, payload: { description: NUL } }), 'body/description', /NUL/);
      assert.equal((await bulwark.banks.listEntries('edge-bank', {})).length, 0);
    });

    it("refuses NUL in a CSV import's source column, a JSON-lines import and the source query parameter", async () => {
      const csv = (body: string, query = '') => app.inject({ method: 'POST', url: `/v1/banks/edge-bank/import${query}`, headers: { ...auth, 'content-type': 'text/csv' }, payload: body });
      const refused = expectProblem(await csv(`signal_type,value,source\nmd5,${'c'.repeat(32)},ok\nmd5,${'d'.repeat(32)},feed${NUL}x\n`), 400, /^line 3: source contains a NUL/);
      assert.equal(refused.errors.line, 3);
      const jsonl = await app.inject({
        method: 'POST',
        url: '/v1/banks/edge-bank/import',
        headers: { ...auth, 'content-type': 'application/x-ndjson' },
        payload: `{"signal_type":"md5","value":"${'e'.repeat(32)}","source":"feed\\u0000"}\n`,
      });
      expectProblem(jsonl, 400, /^line 1: source contains a NUL/);
      expectRefusedField(await csv(`md5,${'c'.repeat(32)}\n`, '?source=feed%00x'), 'querystring/source', /NUL/);
      assert.equal((await bulwark.banks.listEntries('edge-bank', {})).length, 0, 'nothing half-imported');
    });

    it('refuses NUL in an event_id, a term and a trusted flagger’s awarded_by, and in query strings and path parameters', async () => {
      expectRefusedField(await post('/v1/events', { events: [{ ...at('2026-01-01T00:00:00Z'), event_id: `ev${NUL}1` }] }), 'body/events/0/event_id', /NUL/);
      const terms = await app.inject({ method: 'PUT', url: '/v1/term-lists/edge-terms', headers: auth, payload: { action: 'signal', terms: [{ id: 't1', term: `term-${NUL}alpha` }] } });
      expectRefusedField(terms, 'body/terms/0/term', /NUL/);
      expectProblem(await app.inject({ method: 'DELETE', url: '/v1/term-lists/edge-terms', headers: auth }), 404, /edge-terms/);
      expectRefusedField(await post('/v1/trusted-flaggers', { name: 'hotline-z', awarded_by: `DSC${NUL}` }), 'body/awarded_by', /NUL/);
      assert.deepEqual(await bulwark.trustedFlaggers.list(), []);
      expectRefusedField(await app.inject({ url: '/v1/cases?queue=a%00b', headers: auth }), 'querystring/queue', /NUL/);
      expectRefusedField(await app.inject({ url: '/v1/banks/a%00b', headers: auth }), 'params/name', /NUL/);
      expectRefusedField(await post('/v1/guardrails/search', { query: `term-alpha${NUL}` }), 'body/query', /NUL/);
      expectRefusedField(await post('/v1/reports', { [`key${NUL}`]: 1 }), `body/key${NUL}`, /key contains a NUL/);
    });

    it('refuses created_at and occurred_at of year 0000 or 9999 with -14:00, and outside 1970 to 2200', async () => {
      for (const time of ['0000-01-01T00:00:00-14:00', '9999-12-31T23:59:59-14:00', '1969-12-31T23:59:59Z', '2201-01-01T00:00:00Z']) {
        expectRefusedField(await post('/v1/events', { events: [at(time)] }), 'body/events/0/occurred_at', /1970-01-01 to 2200-12-31/);
        const attributes = { type: 'account_attributes', account: 'acct-a', occurred_at: '2026-01-01T00:00:00Z', created_at: time };
        expectRefusedField(await post('/v1/events', { events: [attributes] }), 'body/events/0/created_at', /1970-01-01 to 2200-12-31/);
        expectRefusedField(await post('/v1/content', { content_id: 'c-edge', account_id: 'acct-a', created_at: time }), 'body/created_at', /1970-01-01 to 2200-12-31/);
        const put = await app.inject({ method: 'PUT', url: `/v1/content/c-edge?account_id=acct-a&created_at=${encodeURIComponent(time)}`, headers: { ...auth, 'content-type': 'image/png' }, payload: Buffer.from('x') });
        expectRefusedField(put, 'querystring/created_at', /1970-01-01 to 2200-12-31/);
        const order = { kind: 'provide_information', member_state: 'XX', authority: 'Court', category: 'csam', received_at: time };
        expectRefusedField(await post('/v1/authority-orders', order), 'body/received_at', /1970-01-01 to 2200-12-31/);
        expectProblem(await app.inject({ url: `/v1/dsa/transparency-report?from=${encodeURIComponent(time)}&to=2026-01-01T00:00:00Z`, headers: auth }), 400, /from must be a time from 1970/);
        expectRefusedField(await app.inject({ url: `/v1/audit/recommendations?from=${encodeURIComponent(time)}`, headers: auth }), 'querystring/from', /1970/);
      }
      const edges = await post('/v1/events', { events: [at('1970-01-01T00:00:00Z'), at('2200-12-31T23:59:59.999Z'), at('2026-06-01T10:00:00+14:00')] });
      assert.equal(edges.statusCode, 202, edges.body);
      assert.equal(edges.json().applied, 3, 'the first and last instants of the range are accepted');
    });

    it('imports events from a file refusing a NUL event_id and a year-0000 time by line, applying nothing', async () => {
      const imported = (time: string) => ({ ...at(time), actor: 'imp-a', target: 'imp-b' });
      const lines = [JSON.stringify(imported('2026-02-01T00:00:00Z')), JSON.stringify(imported('0000-01-01T00:00:00-14:00')), JSON.stringify({ ...imported('2026-02-01T00:00:00Z'), event_id: `id${NUL}` })];
      await assert.rejects(importEventLines(bulwark.platformEvents, () => Readable.from([`${lines.join('\n')}\n`])), (error: Error & { details?: { problems: { line: number; path: string; message: string }[] } }) => {
        assert.match(error.message, /^2 bad lines; nothing was imported \(first: line 2, occurred_at: must be a time from 1970/);
        assert.deepEqual(error.details?.problems.map((problem) => [problem.line, problem.path]), [[2, 'occurred_at'], [3, 'event_id']]);
        return true;
      });
      await assert.rejects(bulwark.accounts.get('imp-a'), /no account/, 'not even the good first line was applied');
    });

    it('refuses a YAML alias bomb and a NUL hidden in YAML escapes in PUT /v1/rules, keeping the live rules', async () => {
      const live = bulwark.rules.current()!.id;
      const bomb = await app.inject({ method: 'PUT', url: '/v1/rules', headers: auth, payload: { source: aliasBomb() } });
      const body = expectProblem(bomb, 400, /rules\.yaml:3:\d+: YAML aliases/);
      assert.equal(body.errors.line, 3);
      const hidden = await app.inject({ method: 'PUT', url: '/v1/rules', headers: auth, payload: { source: 'version: 1\nrules: []\nqueues:\n  - name: q\n    description: "a\\0b"\n    sla_minutes: 5\n' } });
      expectProblem(hidden, 400, /queues\[0\]\.description contains a NUL/);
      expectRefusedField(await app.inject({ method: 'PUT', url: '/v1/rules', headers: auth, payload: { source: `version: 1\n${NUL}` } }), 'body/source', /NUL/);
      assert.equal(bulwark.rules.current()!.id, live);
    });

    it('answers 400 on the public notice form for wrongly typed JSON, and stores nothing', async () => {
      for (const payload of [{ locations: 5 }, { name: 1 }, { explanation: {} }, { category: ['csam'] }, { good_faith: true }, [1, 2]]) {
        const response = await app.inject({ method: 'POST', url: '/notices', payload: payload as object });
        assert.equal(response.statusCode, 400, `${JSON.stringify(payload)}: ${response.body}`);
        assert.match(String(response.headers['content-type']), /text\/html/);
        assert.match(response.body, /Your notice was not sent/);
      }
      const text = await app.inject({ method: 'POST', url: '/notices', headers: { 'content-type': 'text/plain' }, payload: 'locations=x' });
      assert.equal(text.statusCode, 400);
      const nul = await app.inject({ method: 'POST', url: '/notices', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'category=csam&explanation=a%00b&locations=https://x.example/1&good_faith=yes' });
      expectRefusedField(nul, 'body/explanation', /NUL/);
      expectRefusedField(await post('/v1/notices', { category: 'csam', locations: [`https://x.example/${NUL}`] }), 'body/locations/0', /NUL/);
      assert.deepEqual(await bulwark.notices.list(), []);
    });
  });
}

describe('bulwark events import (command line)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-edge-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits with a usage error naming the line and field, not the database message, for a year-9999 time', () => {
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, `${JSON.stringify(at('2026-01-01T00:00:00Z'))}\n${JSON.stringify(at('9999-12-31T23:59:59-14:00'))}\n`);
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), 'events', 'import', file], { encoding: 'utf8', cwd: dir });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /line 2, occurred_at: must be a time from 1970-01-01 to 2200-12-31/);
    assert.doesNotMatch(result.stderr, /out of range|displacement/);
  });
});
