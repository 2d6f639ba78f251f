import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { type RawBankRow, parseBankRows, vpdqRowsFromFiles } from '../src/banks/import-formats.ts';
import { BulwarkError } from '../src/errors.ts';
import { type VpdqFrame, formatVpdqFrames, normalizeVpdq, parseVpdqFrames } from '../src/signals/vpdq/frames.ts';
import { compareVpdq } from '../src/signals/vpdq/match.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';
import { VPDQ_VECTORS, referenceHashes } from './helpers/video.ts';

/** A frame list of `count` frames with pseudo-random hashes (a 600-frame value is about 52 kB). */
function frameList(count: number, seed: number): VpdqFrame[] {
  let state = seed;
  const word = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state.toString(16).padStart(8, '0');
  };
  return Array.from({ length: count }, (_, i) => ({ frameNumber: i * 30, quality: 100, hash: Array.from({ length: 8 }, word).join(''), timestamp: i }));
}

async function rejects(promise: Promise<unknown>, kind: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof BulwarkError && error.kind === kind && message.test(error.message));
}

const rows = (text: string, format: 'jsonl' | 'vpdq', options: { signalType?: string; defaultSource?: string } = {}) =>
  parseBankRows(Readable.from([Buffer.from(text)]), { format, ...options });

const targets: StoreTarget[] = await storeTargets();

for (const target of targets) {
  describe(`vPDQ values in banks on ${target.name}`, () => {
    let bulwark: Bulwark;
    const long = formatVpdqFrames(frameList(600, 7));

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), bankRefreshMs: 0 });
      await bulwark.banks.create('videos');
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('stores, finds duplicates of and removes a 600-frame value, beyond the btree row limit', async () => {
      assert.ok(long.length > 40_000, `${long.length} characters`);
      const entry = await bulwark.banks.addEntry('videos', { signalType: 'vpdq', value: `${long}\n`, source: 'synthetic' });
      assert.equal(entry.value, long);
      await rejects(bulwark.banks.addEntry('videos', { signalType: 'vpdq', value: long }), 'conflict', /already has vpdq/);
      const again = await bulwark.banks.importRows('videos', rows(`${JSON.stringify({ signal_type: 'vpdq', value: long })}\n`, 'jsonl'), { sourceName: 'again.jsonl', format: 'jsonl' });
      assert.deepEqual([again.rowsRead, again.rowsAdded, again.rowsDuplicate], [1, 0, 1]);
      const [listed] = await bulwark.banks.listEntries('videos', { signalType: 'vpdq' });
      assert.equal(listed.value, long);
      await bulwark.banks.removeEntry('videos', 'vpdq', long);
      assert.deepEqual(await bulwark.banks.listEntries('videos', { signalType: 'vpdq' }), []);
      await rejects(bulwark.banks.removeEntry('videos', 'vpdq', long), 'not_found', /has no vpdq/);
      // Values of other types still keep their uniqueness per bank and type.
      await bulwark.banks.addEntry('videos', { signalType: 'video_md5', value: 'D41D8CD98F00B204E9800998ECF8427E' });
      await rejects(bulwark.banks.addEntry('videos', { signalType: 'video_md5', value: 'd41d8cd98f00b204e9800998ecf8427e' }), 'conflict', /already has/);
    });

    it('keeps uniqueness and lookup on md5(value) after migration 0011', async () => {
      const indexes = await bulwark.sql.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bank_entries' ORDER BY indexname",
      );
      const byName = new Map(indexes.rows.map((row) => [row.indexname, row.indexdef]));
      assert.match(byName.get('bank_entries_unique_value') ?? '', /UNIQUE INDEX .*\(bank_id, signal_type, md5\(value\)\)/);
      assert.match(byName.get('bank_entries_by_signal') ?? '', /\(signal_type, md5\(value\)\)/);
      assert.ok(![...byName.values()].some((definition) => /\(bank_id, signal_type, value\)/.test(definition)), 'no btree over the value itself');
    });

    it("imports Meta's reference hash files as one entry each, from a file, a directory or JSON lines", async () => {
      await bulwark.banks.create('reference');
      const one = await bulwark.banks.importRows('reference', rows(referenceHashes('doorknob-hd-no-bar'), 'vpdq', { defaultSource: 'doorknob-hd-no-bar.txt' }), {
        sourceName: 'doorknob-hd-no-bar.txt',
        format: 'vpdq',
      });
      assert.deepEqual([one.rowsRead, one.rowsAdded], [1, 1]);
      const dir = join(VPDQ_VECTORS, 'hashes');
      const files = readdirSync(dir).filter((name) => name.endsWith('.txt')).sort().map((name) => join(dir, name));
      const normalize = (value: string) => bulwark.signals.normalize('vpdq', value).value;
      const all = await bulwark.banks.importRows('reference', vpdqRowsFromFiles(files, normalize), { sourceName: 'hashes', format: 'vpdq' });
      assert.deepEqual([all.rowsRead, all.rowsAdded, all.rowsDuplicate], [12, 11, 1], 'doorknob was already there');
      const entries = await bulwark.banks.listEntries('reference', { limit: 100 });
      assert.equal(entries.length, 12);
      for (const entry of entries) {
        const name = entry.source!.replace(/\.txt$/, '');
        assert.equal(`${entry.value}\n`, referenceHashes(name), `${name} is stored as its file says`);
      }
      const json = `${JSON.stringify({ signal_type: 'vpdq', value: referenceHashes('pattern-hd-no-bar'), source: 'exchange' })}\n`;
      const viaJson = await bulwark.banks.importRows('reference', rows(json, 'jsonl'), { sourceName: 'x.jsonl', format: 'jsonl' });
      assert.deepEqual([viaJson.rowsAdded, viaJson.rowsDuplicate], [0, 1], 'the same list through JSON lines is the same entry');
    });

    it('refuses a bad vPDQ file naming the file and the line, leaving the bank as it was', async () => {
      const before = (await bulwark.banks.listEntries('reference', { limit: 100 })).length;
      const broken = `${referenceHashes('doorknob-hd-no-bar')}12,100,zz,0.4\n`;
      await assert.rejects(
        bulwark.banks.importRows('reference', rows(broken, 'vpdq'), { sourceName: 'broken.txt', format: 'vpdq' }),
        (error: unknown) => error instanceof BulwarkError && /^line 1: invalid vpdq value: line 121: PDQ hash/.test(error.message),
      );
      await assert.rejects(
        (async () => {
          for await (const _row of rows('0,100,ab,0\n', 'vpdq', { signalType: 'pdq' })) void _row;
        })(),
        /the vpdq format holds vpdq values, not pdq/,
      );
      assert.equal((await bulwark.banks.listEntries('reference', { limit: 100 })).length, before);
    });

    it('matches a video against the bank, reporting both percentages, with configurable thresholds', async () => {
      await bulwark.matcher.refresh();
      const doorknob = normalizeVpdq(referenceHashes('doorknob-hd-no-bar'));
      // One frame a second of the doorknob: 4 frames, all in the banked list of 120.
      const query = doorknob.split('\n').filter((line) => Number(line.split(',')[0]) % 30 === 0).join('\n');
      const result = await bulwark.matcher.match([{ signalType: 'vpdq', value: query, frameCount: 4 }]);
      assert.equal(result.matched, true);
      const hits = result.matches.filter((match) => match.bank === 'reference');
      assert.deepEqual(hits.map((hit) => hit.source).sort(), ['doorknob-hd-no-bar-128x128.txt', 'doorknob-hd-no-bar.txt'], 'the list and its twin of frames scaled to 128x128');
      const full = hits.find((hit) => hit.value === doorknob)!;
      const expected = compareVpdq(parseVpdqFrames(query), parseVpdqFrames(doorknob))!;
      assert.deepEqual(full.matchPercent, expected.matchPercent);
      assert.equal(full.matchPercent!.query, 100, 'all 4 query frames');
      assert.ok(full.matchPercent!.compared < 20, 'a small share of the 120 banked frames');
      assert.equal(full.distance, 0);
      assert.ok(hits.every((hit) => hit.matchPercent!.query >= 80));
      const strict = await bulwark.matcher.match([{ signalType: 'vpdq', value: query }], { minMatchPercent: { vpdq: { compared: 50 } } });
      assert.equal(strict.matched, false);
      const unrelated = formatVpdqFrames(frameList(10, 99));
      assert.equal((await bulwark.matcher.match([{ signalType: 'vpdq', value: unrelated }])).matched, false);
    });

    it('reads a whole vPDQ file from a stream as one row', async () => {
      const read: RawBankRow[] = [];
      for await (const row of rows(`\uFEFF${long}\n`, 'vpdq')) read.push(row);
      assert.equal(read.length, 1);
      assert.equal(read[0].value, `${long}\n`);
    });
  });
}
