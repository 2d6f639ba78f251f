import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import fc from 'fast-check';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import { REVIEW_RULES } from './fixtures/review-rules.ts';

/**
 * Property: whatever JSON a client sends to a documented route (body and query string), the
 * server answers below 500 and logs no error. Routes are read from the server's own OpenAPI
 * document; bodies follow each route's schema loosely (its field names, nested), with any
 * JSON value at any place, strings with NUL, lone surrogates and other control characters,
 * and times outside any sane range. The review console's routes are hidden from the
 * document, so they are listed here and sent with a logged-in reviewer's session.
 *
 * Bounded: a fixed seed and RUNS cases per route (about 80 routes), on the embedded store.
 */
const SEED = 20_251_112;
// BULWARK_FUZZ_RUNS=500 searches harder by hand; the suite's runs are fixed.
const RUNS = Number(process.env.BULWARK_FUZZ_RUNS ?? 40);
const PASSWORD = 'fuzz-password-0123456789';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  additionalProperties?: Schema | boolean;
};
interface Operation {
  method: string;
  path: string;
  body?: Schema;
  query: Record<string, Schema>;
  console?: boolean;
}

const awkward = fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0001', '\u001f', '\u007f', '\u2028', '\ufeff', '\ufffe', '"', '\\', '\n', '%', '😀');
const text = fc.string({ unit: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'b', '-', '0', ' ', 'term-alpha') }, { weight: 1, arbitrary: awkward }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 1 }) }), maxLength: 24 });
const times = fc.constantFrom('0000-01-01T00:00:00-14:00', '9999-12-31T23:59:59-14:00', '1969-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2026-01-01T00:00:00+14:00', '2200-12-31T23:59:59.999Z', '2201-01-01T00:00:00Z', '2026-02-30T00:00:00Z');
const numbers = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer(), fc.double(), fc.constantFrom(0, 1, 2 ** 31, 2 ** 53, -0, 1e308));
const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: fc.oneof(fc.string({ unit: 'binary', maxLength: 1 }), awkward) });
const leaf = fc.oneof(text, times, numbers, fc.boolean(), fc.constant(null));
/** Values that pass many checks, so that later checks (and the store) are reached too. */
const plausible = fc.constantFrom('fuzz-bank', 'acct-a', 'acct-b', 'csam', 'md5', 'pdq', 'a'.repeat(32), 'reports', 'known-media', 'follow', 'term-alpha', 'https://x.example/p/1', 'ncmec_report', 'signal', '1', 'fuzz-lead');
const strings = fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: text }, { weight: 1, arbitrary: times }, { weight: 1, arbitrary: fc.tuple(plausible, awkward).map(([a, b]) => a + b) });
const counts = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: numbers });

/** A value loosely shaped by schema: its field names and nesting, with anything at any place. */
function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const variants: fc.Arbitrary<unknown>[] = [];
  for (const option of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) variants.push(valueFor(option, depth + 1));
  if (schema.enum) variants.push(fc.constantFrom(...schema.enum));
  if (schema.const !== undefined) variants.push(fc.constant(schema.const));
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.includes('object') || schema.properties) {
    const shape = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, child]) => [key, valueFor(child, depth + 1)]));
    variants.push(fc.record(shape, { requiredKeys: [] }));
    // Mostly complete objects, so that checks past the first missing field are reached.
    if (Object.keys(shape).length > 0) variants.push(fc.record(shape));
  }
  if (types.includes('array')) variants.push(fc.array(valueFor(schema.items, depth + 1), { maxLength: 3 }));
  if (types.includes('string')) variants.push(strings);
  if (types.includes('number') || types.includes('integer')) variants.push(counts);
  if (types.includes('boolean')) variants.push(fc.boolean());
  return fc.oneof({ weight: 4, arbitrary: variants.length > 0 ? fc.oneof(...variants) : anyJson }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: leaf });
}

/** A query parameter: often absent; a string shaped by its schema, anything, or repeated. */
const queryValue = (schema: Schema) =>
  fc.option(
    fc.oneof(
      { weight: 4, arbitrary: valueFor(schema).map((value) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '')) },
      { weight: 1, arbitrary: fc.oneof(text, times, fc.constantFrom('true', 'false', 'json', 'csv', 'html', 'template')) },
      { weight: 1, arbitrary: fc.array(text, { minLength: 2, maxLength: 2 }) },
    ),
    { freq: 2, nil: undefined },
  );

const CONSOLE_ROUTES: Operation[] = ([
  { method: 'POST', path: '/console/api/login', body: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' } } }, query: {} },
  { method: 'POST', path: '/console/api/queues/{name}/next', query: {} },
  { method: 'POST', path: '/console/api/cases/{id}/claim', query: {} },
  { method: 'POST', path: '/console/api/cases/{id}/assign', body: { type: 'object', properties: { username: { type: 'string' } } }, query: {} },
  { method: 'POST', path: '/console/api/cases/{id}/decision', body: { type: 'object', properties: { verdict: { type: 'string' }, policy: { type: 'string' }, note: { type: 'string' } } }, query: {} },
  { method: 'POST', path: '/console/api/cases/{id}/release', query: {} },
  { method: 'GET', path: '/console/api/audit', query: { limit: {}, before: {} } },
] as Operation[]).map((operation) => ({ ...operation, console: true }));

/**
 * Percent-encodes text as UTF-8, a lone surrogate as the three bytes it would take (what a
 * careless client sends; encodeURIComponent refuses it).
 */
function percentEncode(value: string): string {
  let out = '';
  for (const char of value) {
    try {
      out += encodeURIComponent(char);
    } catch {
      const code = char.charCodeAt(0);
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    }
  }
  return out;
}

/** Path parameters: mostly one that exists, sometimes anything. */
const PATH_VALUES: Record<string, string> = { name: 'fuzz-bank', id: '1', holdId: '1' };

describe('no 5xx for any JSON sent to any documented route', () => {
  let bulwark: Bulwark;
  let app: FastifyInstance;
  let apiKey: Record<string, string>;
  let session: Record<string, string>;
  let operations: Operation[];
  const logged: { msg: string; err?: { message?: string } }[] = [];
  const statuses = new Map<number, number>();

  let preservationDir: string;

  before(async () => {
    // Preservation is configured, so that its routes answer rather than say it is not (503).
    preservationDir = mkdtempSync(join(tmpdir(), 'bulwark-fuzz-'));
    process.env.BULWARK_PRESERVATION_KEY = randomBytes(32).toString('hex');
    process.env.BULWARK_PRESERVATION_DIR = preservationDir;
    bulwark = await openBulwark({ bankRefreshMs: 0, hashing: { workers: 0 }, actionDispatchIntervalMs: 60_000 });
    await bulwark.rules.activate(REVIEW_RULES, 'rules.yaml', 'fuzz');
    app = await buildServer(bulwark, { logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line)) } } });
    apiKey = { authorization: `Bearer ${(await bulwark.apiKeys.create('fuzz')).key}` };
    const call = async (options: InjectOptions, status: number) => {
      const response = await app.inject({ ...options, headers: { ...apiKey, ...options.headers } });
      assert.equal(response.statusCode, status, response.body);
    };
    await call({ method: 'POST', url: '/v1/banks', payload: { name: 'fuzz-bank' } }, 201);
    await call({ method: 'POST', url: '/v1/banks/fuzz-bank/entries', payload: { signal_type: 'md5', value: 'a'.repeat(32) } }, 201);
    await call({ method: 'PUT', url: '/v1/term-lists/fuzz-bank', payload: { action: 'signal', terms: [{ id: 't1', term: 'term-alpha' }] } }, 200);
    await call({ method: 'POST', url: '/v1/cases', payload: { queue: 'reports', subject: { kind: 'account', id: 'acct-fuzz' }, summary: 'fuzz case' } }, 201);

    await bulwark.reviewers.create({ username: 'fuzz-lead', password: PASSWORD, role: 'lead' });
    const login = await app.inject({ method: 'POST', url: '/console/api/login', payload: { username: 'fuzz-lead', password: PASSWORD } });
    assert.equal(login.statusCode, 200, login.body);
    const cookie = String([login.headers['set-cookie']].flat().find((line) => String(line).startsWith('bulwark_session='))).split(';')[0];
    session = { cookie, 'x-csrf-token': login.json().csrf_token };

    const document = (await app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: { in: string; name: string; schema?: Schema }[] }>>;
    };
    operations = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const query = Object.fromEntries((operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}]));
        operations.push({ method: method.toUpperCase(), path, body: operation.requestBody?.content?.['application/json']?.schema, query });
      }
    }
    operations.push({ method: 'POST', path: '/notices', body: { type: 'object', properties: Object.fromEntries(['category', 'locations', 'explanation', 'name', 'email', 'good_faith'].map((key) => [key, { type: 'string' }])) }, query: {} });
    operations.push(...CONSOLE_ROUTES);
  });
  after(async () => {
    await app.close();
    await bulwark.close();
    rmSync(preservationDir, { recursive: true, force: true });
  });

  it('reads the documented routes from /openapi.json', () => {
    const documented = operations.filter((operation) => !operation.console && operation.path !== '/notices');
    assert.ok(documented.length >= 50, `${documented.length} documented operations`);
    for (const expected of ['POST /v1/banks', 'POST /v1/events', 'PUT /v1/rules', 'POST /v1/notices', 'POST /v1/trusted-flaggers', 'PUT /v1/term-lists/{name}']) {
      assert.ok(documented.some((operation) => `${operation.method} ${operation.path}` === expected), expected);
    }
  });

  it('answers every request below 500 and logs no error', async () => {
    // Destructive routes run last, so that the others meet the fixtures.
    const ordered = [...operations].sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    for (const [index, operation] of ordered.entries()) {
      const pathParams = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const request = fc.record({
        body: operation.method === 'GET' || operation.method === 'DELETE' ? fc.constant(undefined) : valueFor(operation.body),
        query: fc.record(Object.fromEntries(Object.entries(operation.query).map(([name, schema]) => [name, queryValue(schema)])), { requiredKeys: [] }),
        params: fc.tuple(...pathParams.map((name) => fc.oneof({ weight: 5, arbitrary: fc.constant(PATH_VALUES[name] ?? 'x') }, { weight: 1, arbitrary: text }))),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ body, query, params }) => {
          let url = operation.path;
          pathParams.forEach((name, i) => {
            url = url.replace(`{${name}}`, percentEncode((params as string[])[i]) || 'x');
          });
          const search = Object.entries(query)
            .filter(([, value]) => value !== undefined)
            .flatMap(([name, value]) => [value].flat().map((one) => `${percentEncode(name)}=${percentEncode(String(one))}`));
          if (search.length > 0) url += `?${search.join('&')}`;
          const response = await app.inject({
            method: operation.method as InjectOptions['method'],
            url,
            headers: { ...(operation.console ? session : apiKey), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
          });
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const errors = logged.splice(0);
          assert.ok(response.statusCode < 500, `${operation.method} ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
          assert.deepEqual(errors.map((entry) => entry.err?.message ?? entry.msg), [], `${operation.method} ${url} logged an error`);
        }),
        { numRuns: RUNS, seed: SEED + index, endOnFailure: true },
      );
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, operations.length * RUNS, 'every route got its share of requests');
    // Not vacuous: some requests got through validation and some were refused.
    assert.ok([...statuses.keys()].some((status) => status < 300), `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok([...statuses.keys()].some((status) => status === 400), `statuses: ${JSON.stringify([...statuses])}`);
  });
});
