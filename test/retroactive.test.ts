import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Bulwark, type BulwarkConfig, openBulwark } from '../src/app.ts';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { hammingAt, hexToHash256 } from '../src/signals/pdq/hash256.ts';
import type { DomainEvent } from '../src/events/event-log.ts';
import { buildServer } from '../src/http/server.ts';
import type { ContentMatchedPayload } from '../src/ingest/content.ts';
import { Hex256Scanner, Pacer } from '../src/match/retroactive/scan.ts';
import { ContentMatchedFacts } from '../src/rules/facts/content-matched.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { evaluateRules, parseRuleFile } from '../src/rules/index.ts';
import type { FactLookup } from '../src/rules/types.ts';
import type { StoreLocation } from '../src/store/sql.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const DAY_MS = 86_400_000;

/** The hash with its first `bits` bytes' lowest bit flipped: `bits` bits away. */
const flip = (hex: string, bits: number) => {
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i < bits; i++) bytes[i] ^= 0x01;
  return bytes.toString('hex');
};

const open = (location: StoreLocation, retroactive: BulwarkConfig['retroactive'] = {}) =>
  // pollMs 0: the stage runs only when the test drains it or steps it.
  openBulwark({ ...location, hashing: { workers: 0 }, bankRefreshMs: 0, retroactive: { pollMs: 0, ...retroactive } });

const images = await Promise.all([11, 12, 13, 14].map((seed) => encodeImage(shapesImage(seed, 160, 120), 'png')));

async function upload(bulwark: Bulwark, contentId: string, image: Buffer): Promise<string> {
  const { record } = await bulwark.content.submit({ contentId, accountId: `acct-${contentId}`, contentType: 'photo', media: image });
  assert.equal(record.matched, false, `${contentId} matches no bank when uploaded`);
  return record.signals.find((signal) => signal.signalType === 'pdq')!.value;
}

/**
 * Every committed content.matched event. A read leaves out events committed behind a writer
 * still running (a background consumer's transaction, on PostgreSQL); reading again once it
 * has ended returns them, so read until nothing is held back.
 */
async function matchedEvents(bulwark: Bulwark): Promise<DomainEvent<ContentMatchedPayload>[]> {
  for (;;) {
    const page = await bulwark.events.readPage({ types: ['content.matched'], limit: 1000 });
    if (!page.heldBack) return page.events as DomainEvent<ContentMatchedPayload>[];
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the PDQ scan of stored hashes', () => {
  // Both ways of scanning (a plain loop for a few new entries, a multi-index of the stored page
  // built on a worker thread for more) must find exactly what comparing every pair finds.
  for (const entryCount of [3, 64, 65, 300]) {
    it(`finds every stored hash within the threshold of ${entryCount} new entries, and nothing else`, async () => {
      const random = seededRandom(entryCount);
      const hex = () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join('');
      const stored = Array.from({ length: 5000 }, hex);
      // Every third new entry lies 1-40 bits from a stored hash: some within 31, some beyond.
      const entries = Array.from({ length: entryCount }, (_, i) => ({
        id: 1000 + i,
        signalType: 'pdq',
        value: i % 3 === 0 ? flip(stored[Math.floor(random() * stored.length)], 1 + (i % 40)) : hex(),
      }));
      const ids = stored.map((_, i) => 10 * i + 7);
      const hits = await new Hex256Scanner(entries, { maxDistance: 31 }).scan({ ids, hex: stored.join('') }, new Pacer());
      const expected: string[] = [];
      const entryHashes = entries.map((entry) => hexToHash256(entry.value));
      for (const [s, value] of stored.entries()) {
        const storedHash = hexToHash256(value);
        for (const [e, entry] of entries.entries()) {
          const distance = hammingAt(storedHash, 0, entryHashes[e], 0);
          if (distance <= 31) expected.push(`${ids[s]} ${entry.id} ${distance}`);
        }
      }
      assert.ok(expected.length > 0, 'some planted entries are within the threshold');
      assert.deepEqual(hits.map((hit) => `${hit.signalId} ${hit.entryId} ${hit.distance}`).sort(), expected.sort());
    });
  }
});

for (const target of targets) {
  describe(`retroactive matching (${target.name})`, () => {
    after(() => target.cleanup());

    it('matches stored content against entries that arrive later, once each, within the window', async () => {
      const bulwark = await open(target.location());
      try {
        const pdq = [await upload(bulwark, 'c-exact', images[0]), await upload(bulwark, 'c-near', images[1]), await upload(bulwark, 'c-other', images[2])];
        const old = await upload(bulwark, 'c-old', images[3]);
        // c-old was received 100 days ago: outside the 90-day window.
        const longAgo = new Date(Date.now() - 100 * DAY_MS);
        await bulwark.sql.query("UPDATE content SET received_at = $1 WHERE content_id = 'c-old'", [longAgo]);
        await bulwark.sql.query("UPDATE content_signals SET received_at = $1 WHERE content_id = 'c-old'", [longAgo]);
        await bulwark.retroactive.drain();
        assert.deepEqual(await matchedEvents(bulwark), [], 'nothing matched before the list arrived');

        await bulwark.banks.create('later-list');
        const near = flip(pdq[1], 6);
        await bulwark.banks.importRows('later-list', [pdq[0], near, old].map((value, i) => ({ line: i + 1, signalType: 'pdq', value, tags: ['tag-alpha'] })), { sourceName: 'test', format: 'lines' });
        await bulwark.retroactive.drain();

        const events = await matchedEvents(bulwark);
        assert.deepEqual(events.map((event) => event.payload.content_id).sort(), ['c-exact', 'c-near']);
        const byContent = new Map(events.map((event) => [event.payload.content_id, event.payload]));
        assert.equal(byContent.get('c-exact')!.retroactive, true);
        assert.deepEqual(byContent.get('c-exact')!.matches.map((m) => [m.bank, m.value, m.distance, m.tags]), [['later-list', pdq[0], 0, ['tag-alpha']]]);
        assert.deepEqual(byContent.get('c-near')!.matches.map((m) => [m.value, m.distance]), [[near, 6]]);
        assert.equal(byContent.get('c-near')!.account_id, 'acct-c-near');

        // The content's record shows the match, marked as found later.
        const record = await bulwark.content.get('c-near');
        assert.equal(record.matched, true);
        assert.deepEqual(record.matches.map((m) => [m.value, m.retroactive]), [[near, true]]);

        // Rules can tell it from a match at upload: the example of docs/retroactive.md reviews it rather than removing it.
        const ruleEvent = await new ContentMatchedFacts(bulwark.signals).toRuleEvent(events[0], { account: async () => undefined } as unknown as FactLookup);
        assert.equal(ruleEvent.facts['match.retroactive'], true);
        const example = /```yaml\n([\s\S]*?)```/.exec(readFileSync(new URL('../docs/retroactive.md', import.meta.url), 'utf8'));
        assert.ok(example, 'docs/retroactive.md has a rule example');
        const rules = parseRuleFile(example[1], 'docs/retroactive.md');
        assert.deepEqual(evaluateRules(rules, ruleEvent).map((firing) => firing.rule), ['retroactive-review']);
        assert.deepEqual(evaluateRules(rules, { ...ruleEvent, facts: { ...ruleEvent.facts, 'match.retroactive': false, 'match.exact': true } }).map((firing) => firing.rule), ['exact-at-upload-remove']);

        // More entries later: only they are matched; nothing is matched twice.
        await bulwark.banks.addEntry('later-list', { signalType: 'pdq', value: flip(pdq[2], 3) });
        await bulwark.retroactive.drain();
        const after = await matchedEvents(bulwark);
        assert.deepEqual(after.map((event) => event.payload.content_id).sort(), ['c-exact', 'c-near', 'c-other']);
        assert.equal(after.filter((event) => event.payload.content_id === 'c-other').length, 1);

        // Content uploaded after the entries matches live, and retroactive matching leaves it alone.
        const { record: live } = await bulwark.content.submit({ contentId: 'c-again', accountId: 'acct-again', contentType: 'photo', media: images[0] });
        assert.equal(live.matched, true);
        await bulwark.banks.addEntry('later-list', { signalType: 'pdq', value: flip(pdq[0], 2) });
        await bulwark.retroactive.drain();
        const last = await matchedEvents(bulwark);
        const again = last.filter((event) => event.payload.content_id === 'c-again');
        // The live match, then the new entry (2 bits from it) found retroactively; the first entry is not repeated.
        assert.deepEqual(again.map((event) => [event.payload.retroactive ?? false, event.payload.matches.map((m) => m.distance)]), [[false, [0]], [true, [2]]]);
        // c-exact, the same picture, gets the new entry too, and only it.
        const exactAgain = last.filter((event) => event.payload.content_id === 'c-exact').map((event) => event.payload.matches.map((m) => m.distance));
        assert.deepEqual(exactAgain, [[0], [2]]);

        const app = await buildServer(bulwark);
        try {
          const key = (await bulwark.apiKeys.create('status reader')).key;
          const response = await app.inject({ url: '/v1/retroactive/status', headers: { authorization: `Bearer ${key}` } });
          assert.equal(response.statusCode, 200);
          const body = response.json();
          assert.equal(body.window_days, 90);
          const bank = body.banks.find((row: { bank: string }) => row.bank === 'later-list');
          assert.equal(bank.revision, bank.store_revision);
          assert.equal(bank.revisions_behind, 0);
          assert.equal(bank.entries_behind, 0);
          assert.equal(bank.job, null);
          assert.equal(bank.entries_done, 5);
          assert.equal(bank.matches, 5);
          assert.ok(bank.content_scanned >= 9, `scanned ${bank.content_scanned}`);
        } finally {
          await app.close();
        }
      } finally {
        await bulwark.close();
      }
    });

    it('matches an exact md5 entry against stored content by md5', async () => {
      const bulwark = await open(target.location());
      try {
        await upload(bulwark, 'file-1', images[0]);
        await upload(bulwark, 'file-2', images[1]);
        await bulwark.banks.create('digests');
        await bulwark.banks.addEntry('digests', { signalType: 'md5', value: createHash('md5').update(images[1]).digest('hex') });
        await bulwark.retroactive.drain();
        const events = await matchedEvents(bulwark);
        assert.deepEqual(events.map((event) => [event.payload.content_id, event.payload.retroactive, event.payload.matches.map((m) => [m.signal_type, m.distance])]), [
          ['file-2', true, [['md5', 0]]],
        ]);
      } finally {
        await bulwark.close();
      }
    });

    it('resumes after a restart between batches with nothing doubled or lost', async () => {
      const dir = target.name === 'pglite' ? await mkdtemp(join(tmpdir(), 'bulwark-retro-')) : undefined;
      const location = dir ? { dataDir: dir } : target.location();
      try {
        let bulwark = await open(location, { batchSize: 1, exactBatch: 1 });
        const pdq = [];
        for (const [i, image] of images.entries()) pdq.push(await upload(bulwark, `r-${i}`, image));
        await bulwark.banks.create('restart-list');
        // Two exact entries (one batch each) and four PDQ entries (one stored signal per batch).
        const md5 = (image: Buffer) => createHash('md5').update(image).digest('hex');
        const rows = [
          ...pdq.map((value) => ({ signalType: 'pdq', value: flip(value, 1) })),
          { signalType: 'md5', value: md5(images[0]) },
          { signalType: 'md5', value: md5(images[3]) },
        ];
        await bulwark.banks.importRows('restart-list', rows.map((row, i) => ({ line: i + 1, tags: [], ...row })), { sourceName: 'test', format: 'lines' });
        // Step until the job is inside its PDQ scan with some matches emitted, then stop the process there.
        for (let steps = 0; ; steps++) {
          assert.ok(steps < 50, 'the job reaches its scan');
          assert.equal(await bulwark.retroactive.step(), true);
          const [status] = (await bulwark.retroactive.status()).filter((row) => row.bank === 'restart-list');
          if (status.job?.phase === 'scan:pdq' && (await matchedEvents(bulwark)).length >= 3) break;
        }
        const before = (await matchedEvents(bulwark)).length;
        assert.ok(before >= 3 && before < 6, `stopped mid-job with ${before} of 6 matches`);
        await bulwark.close();

        bulwark = await open(location, { batchSize: 1, exactBatch: 1 });
        try {
          await bulwark.retroactive.drain();
          const events = await matchedEvents(bulwark);
          const pairs = events.flatMap((event) => event.payload.matches.map((m) => `${event.payload.content_id} ${m.signal_type}`)).sort();
          assert.deepEqual(pairs, ['r-0 md5', 'r-0 pdq', 'r-1 pdq', 'r-2 pdq', 'r-3 md5', 'r-3 pdq']);
          assert.ok(events.every((event) => event.payload.retroactive === true));
        } finally {
          await bulwark.close();
        }
      } finally {
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
