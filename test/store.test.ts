import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { parseBankRows } from '../src/banks/import-formats.ts';
import { BulwarkError } from '../src/errors.ts';
import { CONTENT_MATCHED_EVENT } from '../src/ingest/content.ts';
import { migrate } from '../src/store/migrate.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const md5 = (n: number) => n.toString(16).padStart(32, '0');
const pdq = (n: number) => n.toString(16).padStart(64, 'f');

async function rejects(promise: Promise<unknown>, kind: string, message: RegExp): Promise<BulwarkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BulwarkError, `expected a BulwarkError, got ${error}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${kind} error matching ${message}`);
}

function rowsOf(text: string, format: 'csv' | 'tsv' | 'jsonl', signalType?: string) {
  return parseBankRows(Readable.from([text]), { format, signalType });
}

const targets = await storeTargets();

for (const target of targets) {
  describe(`store on ${target.name}`, () => {
    let bulwark: Bulwark;

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0 });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('applies migrations once', async () => {
      assert.deepEqual(await migrate(bulwark.sql), []);
      const versions = await bulwark.sql.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.ok(versions.rows.length >= 1);
      assert.equal(versions.rows[0].version, '0001_known_media');
    });

    it('creates banks and refuses bad or duplicate names', async () => {
      const bank = await bulwark.banks.create('alpha', 'test bank');
      assert.equal(bank.name, 'alpha');
      assert.equal(bank.revision, 0);
      await rejects(bulwark.banks.create('alpha'), 'conflict', /already exists/);
      await rejects(bulwark.banks.create('Has Spaces'), 'invalid', /invalid bank name/);
      await rejects(bulwark.banks.get('nope'), 'not_found', /no bank named "nope"/);
    });

    it('adds, lists and removes single entries, refusing bad values and duplicates', async () => {
      const entry = await bulwark.banks.addEntry('alpha', { signalType: 'MD5', value: md5(1).toUpperCase(), source: 'unit', tags: ['x', 'x', 'y'] });
      assert.equal(entry.signalType, 'md5');
      assert.equal(entry.value, md5(1));
      assert.deepEqual(entry.tags, ['x', 'y']);
      await rejects(bulwark.banks.addEntry('alpha', { signalType: 'md5', value: md5(1) }), 'conflict', /already has md5/);
      await rejects(bulwark.banks.addEntry('alpha', { signalType: 'md5', value: 'abc' }), 'invalid', /expected 32 hex digits, got 3/);
      await rejects(bulwark.banks.addEntry('alpha', { signalType: 'pdq', value: 'z'.repeat(64) }), 'invalid', /non-hex character "z" at position 1/);
      await rejects(bulwark.banks.addEntry('alpha', { signalType: 'phash', value: md5(1) }), 'invalid', /unknown signal type "phash"/);
      await rejects(bulwark.banks.addEntry('missing', { signalType: 'md5', value: md5(1) }), 'not_found', /no bank named/);
      const entries = await bulwark.banks.listEntries('alpha');
      assert.equal(entries.length, 1);
      await bulwark.banks.removeEntry('alpha', 'md5', md5(1));
      assert.equal((await bulwark.banks.listEntries('alpha')).length, 0);
      await rejects(bulwark.banks.removeEntry('alpha', 'md5', md5(1)), 'not_found', /has no md5/);
    });

    it('imports a list in one transaction, keeping where each entry came from', async () => {
      await bulwark.banks.create('imported');
      const csv = ['signal_type,value,source,tags', ...Array.from({ length: 12_000 }, (_, i) => `md5,${md5(i + 10)},list-a,t1;t2`)].join('\n');
      const progress: number[] = [];
      const result = await bulwark.banks.importRows('imported', rowsOf(csv, 'csv'), { sourceName: 'a.csv', format: 'csv', onProgress: (n) => progress.push(n) });
      assert.deepEqual({ read: result.rowsRead, added: result.rowsAdded, dup: result.rowsDuplicate }, { read: 12_000, added: 12_000, dup: 0 });
      assert.ok(progress.length >= 2, 'progress is reported per batch');
      const [first] = await bulwark.banks.listEntries('imported', { limit: 1 });
      assert.equal(first.source, 'list-a');
      assert.deepEqual(first.tags, ['t1', 't2']);
      assert.equal(first.importId, result.importId);
      const summary = (await bulwark.banks.list()).find((bank) => bank.name === 'imported');
      assert.deepEqual(summary?.entryCounts, { md5: 12_000 });
    });

    it('counts entries already present as duplicates, or refuses them with their line', async () => {
      const again = `${md5(10)}\n${md5(5_000_000)}\n`;
      const skipped = await bulwark.banks.importRows('imported', rowsOf(again, 'csv', 'md5'), { sourceName: 'b', format: 'csv' });
      assert.deepEqual([skipped.rowsAdded, skipped.rowsDuplicate], [1, 1]);
      const error = await rejects(
        bulwark.banks.importRows('imported', rowsOf(`${md5(6_000_000)}\n${md5(11)}\n`, 'csv', 'md5'), { sourceName: 'c', format: 'csv', onDuplicate: 'error' }),
        'invalid',
        /^line 2: duplicate entry: md5 0+b is already in bank "imported"/,
      );
      assert.equal(error.details?.line, 2);
      const counts = (await bulwark.banks.list()).find((bank) => bank.name === 'imported')?.entryCounts;
      assert.deepEqual(counts, { md5: 12_001 }, 'the refused import added nothing');
    });

    it('leaves nothing behind when a row deep in a large import is bad', async () => {
      await bulwark.banks.create('atomic');
      const lines = Array.from({ length: 9_000 }, (_, i) => JSON.stringify({ signal_type: 'pdq', value: pdq(i) }));
      lines[8_499] = JSON.stringify({ signal_type: 'pdq', value: pdq(1).slice(0, 63) });
      const before = await bulwark.banks.get('atomic');
      const error = await rejects(
        bulwark.banks.importRows('atomic', rowsOf(lines.join('\n'), 'jsonl'), { sourceName: 'bad.jsonl', format: 'jsonl', batchSize: 1000 }),
        'invalid',
        /^line 8500: invalid pdq value: expected 64 hex digits, got 63 characters/,
      );
      assert.equal(error.details?.line, 8500);
      assert.equal((await bulwark.banks.listEntries('atomic')).length, 0);
      const imports = await bulwark.sql.query('SELECT 1 FROM bank_imports b JOIN banks k ON k.id = b.bank_id WHERE k.name = $1', ['atomic']);
      assert.equal(imports.rows.length, 0, 'no import record survives a failed import');
      assert.equal((await bulwark.banks.get('atomic')).revision, before.revision);
    });

    it('exports every entry in insertion order across pages', async () => {
      const exported: string[] = [];
      for await (const entry of bulwark.banks.exportEntries('imported', 1000)) exported.push(entry.value);
      assert.equal(exported.length, 12_001);
      assert.equal(exported[0], md5(10));
      assert.equal(new Set(exported).size, exported.length);
    });

    it('matches exact hashes, sees bank changes at once, and honours disabled banks', async () => {
      await bulwark.banks.create('exact');
      await bulwark.banks.addEntry('exact', { signalType: 'sha256', value: 'ab'.repeat(32), tags: ['demo'] });
      const query = [{ signalType: 'sha256', value: 'ab'.repeat(32) }];
      const hit = await bulwark.matcher.match(query);
      assert.equal(hit.matched, true);
      assert.equal(hit.matches[0].bank, 'exact');
      assert.equal(hit.matches[0].distance, 0);
      assert.deepEqual(hit.matches[0].tags, ['demo']);
      await bulwark.banks.update('exact', { enabled: false });
      assert.equal((await bulwark.matcher.match(query)).matched, false);
      await bulwark.banks.update('exact', { enabled: true });
      assert.equal((await bulwark.matcher.match(query)).matched, true);
      await bulwark.banks.removeEntry('exact', 'sha256', 'ab'.repeat(32));
      assert.equal((await bulwark.matcher.match(query)).matched, false);
      await rejects(bulwark.matcher.match(query, { banks: ['nope'] }), 'invalid', /unknown bank: nope/);
    });

    it('stores submitted content once and emits one match event', async () => {
      await bulwark.banks.create('content-bank');
      await bulwark.banks.addEntry('content-bank', { signalType: 'md5', value: md5(77) });
      const seen: string[] = [];
      const unsubscribe = bulwark.events.subscribe((event) => seen.push(event.type));
      const submission = { contentId: 'c-1', accountId: 'acct-9', contentType: 'photo', signals: [{ signalType: 'md5', value: md5(77) }] };
      const first = await bulwark.content.submit(submission);
      assert.equal(first.duplicate, false);
      assert.equal(first.record.matched, true);
      const second = await bulwark.content.submit(submission);
      assert.equal(second.duplicate, true);
      assert.deepEqual(second.record.matches, first.record.matches);
      unsubscribe();
      // The graph stage answers the match with an account.labelled event of its own.
      assert.deepEqual(seen.filter((type) => type === CONTENT_MATCHED_EVENT), [CONTENT_MATCHED_EVENT]);
      const events = await bulwark.events.read({ types: [CONTENT_MATCHED_EVENT] });
      assert.equal(events.length, 1);
      assert.equal((events[0].payload as { account_id: string }).account_id, 'acct-9');
      await rejects(bulwark.content.submit({ ...submission, accountId: 'other' }), 'conflict', /different account/);
      const clean = await bulwark.content.submit({ ...submission, contentId: 'c-2', signals: [{ signalType: "md5", value: md5(99_999_999) }] });
      assert.equal(clean.record.matched, false);
      assert.equal((await bulwark.events.read({ types: [CONTENT_MATCHED_EVENT] })).length, 1, 'no event for content without matches');
    });

    it('authenticates API keys by hash and honours revocation', async () => {
      const { key, info } = await bulwark.apiKeys.create('platform');
      assert.match(key, /^bwk_/);
      assert.equal((await bulwark.apiKeys.verify(key)).id, info.id);
      const stored = await bulwark.sql.query<{ key_sha256: string }>('SELECT key_sha256 FROM api_keys WHERE id = $1', [info.id]);
      assert.notEqual(stored.rows[0].key_sha256, key);
      await rejects(bulwark.apiKeys.verify(`${key.slice(0, -1)}x`), 'unauthenticated', /valid API key/);
      await rejects(bulwark.apiKeys.verify(undefined), 'unauthenticated', /valid API key/);
      await bulwark.apiKeys.revoke(info.id);
      await rejects(bulwark.apiKeys.verify(key), 'unauthenticated', /valid API key/);
    });
  });
}

const postgres = targets.find((target): target is StoreTarget => target.name === 'postgres');
if (postgres) {
  describe('two processes on one PostgreSQL database', () => {
    it('a matcher notices bank changes made by another process', async () => {
      const location = postgres.location();
      const writer = await openBulwark({ ...location, bankRefreshMs: 0 });
      const reader = await openBulwark({ ...location, bankRefreshMs: 0 });
      try {
        await writer.banks.create('shared');
        await writer.banks.addEntry('shared', { signalType: 'md5', value: md5(4242) });
        // A query never waits for another process's change to load: it starts the look and answers from what is loaded.
        await reader.matcher.match([{ signalType: 'md5', value: md5(4242) }]);
        await reader.matcher.idle();
        assert.equal((await reader.matcher.match([{ signalType: 'md5', value: md5(4242) }])).matched, true);
        await writer.banks.removeEntry('shared', 'md5', md5(4242));
        assert.equal((await reader.matcher.match([{ signalType: 'md5', value: md5(4242) }])).matched, false);
      } finally {
        await writer.close();
        await reader.close();
        await postgres.cleanup();
      }
    });
  });
}
