import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { parseBankRows } from '../src/banks/import-formats.ts';
import { importEventLines } from '../src/ingest/event-import.ts';
import { contentLines } from '../src/ingest/text-lines.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const BOM = '\uFEFF';
const collect = async <T>(items: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

// Issue 12, item 7: `bulwark events import` refused # comment lines and a byte order mark
// that hash-list import accepts. Both now read their files through contentLines.
describe('contentLines: the lines of an import file that hold something', () => {
  it('drops a leading byte order mark, skips blank and # lines, reads CRLF, and keeps file line numbers', async () => {
    const text = `${BOM}# exported 2026-02-01\r\n\r\nfirst\r\n   \n# another comment\nsecond\n\uFEFFthird`;
    assert.deepEqual(await collect(contentLines(Readable.from([text]))), [
      { line: 3, text: 'first' },
      { line: 6, text: 'second' },
      // Only the file's first character is a byte order mark; one later is data.
      { line: 7, text: '\uFEFFthird' },
    ]);
  });

  it('serves hash-list import the same way', async () => {
    const rows = await collect(parseBankRows(Readable.from([`${BOM}# list v1\nsignal_type,value\n# md5 only\nmd5,${'a'.repeat(32)}\n`]), { format: 'csv' }));
    assert.deepEqual(rows.map((row) => [row.line, row.signalType, row.value]), [[4, 'md5', 'a'.repeat(32)]]);
  });
});

for (const target of targets) {
  describe(`events import takes comments and a byte order mark like hash-list import (${target.name})`, () => {
    let bulwark: Bulwark;
    before(async () => {
      bulwark = await openBulwark({ ...target.location(), hashing: { workers: 0 } });
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    const event = (i: number) => JSON.stringify({ event_id: `imp-${i}`, type: 'follow', occurred_at: `2026-02-0${i}T10:00:00Z`, actor: `importer-${i}`, target: 'import-target' });

    it('imports a file that starts with a BOM and carries # comments and CRLF endings', async () => {
      const file = `${BOM}# platform export, 2026-02\r\n${event(1)}\r\n\r\n# the second half\r\n${event(2)}\r\n`;
      const result = await importEventLines(bulwark.platformEvents, () => Readable.from([file]));
      assert.equal(result.applied, 2);
      assert.equal(result.lines, 5);
      assert.deepEqual((await bulwark.accounts.get('import-target')).interactions.map((row) => [row.kind, row.incoming]), [['follow', 2]]);
    });

    it('still names a bad line by its number in the file, comments counted', async () => {
      const file = `${BOM}# header comment\n${event(3)}\n# note\n{"type":\n`;
      await assert.rejects(importEventLines(bulwark.platformEvents, () => Readable.from([file])), (error: Error & { details?: { problems: { line: number }[] } }) => {
        assert.match(error.message, /^1 bad line; nothing was imported \(first: line 4, \(line\): not valid JSON\)/);
        assert.deepEqual(error.details?.problems.map((problem) => problem.line), [4]);
        return true;
      });
    });
  });
}
