import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type ParseOptions, type RawBankRow, parseBankRows, splitDelimited } from '../src/banks/import-formats.ts';
import { BulwarkError } from '../src/errors.ts';

async function parse(text: string, options: ParseOptions): Promise<RawBankRow[]> {
  const rows: RawBankRow[] = [];
  for await (const row of parseBankRows(Readable.from([text]), options)) rows.push(row);
  return rows;
}

async function parseError(text: string, options: ParseOptions): Promise<BulwarkError> {
  try {
    await parse(text, options);
  } catch (error) {
    assert.ok(error instanceof BulwarkError);
    return error;
  }
  assert.fail('expected the list to be refused');
}

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

describe('hash list formats', () => {
  it('reads CSV with a header in any column order, with aliases, quotes and tags', async () => {
    const rows = await parse(`hash,type,tags,source\n${MD5},MD5,"a;b",\"list, v2\"\n`, { format: 'csv' });
    assert.deepEqual(rows, [{ line: 2, signalType: 'md5', value: MD5, source: 'list, v2', tags: ['a', 'b'] }]);
  });

  it('reads headerless TSV positionally and skips comments and blank lines', async () => {
    const rows = await parse(`# exported list\n\nmd5\t${MD5}\tsrc\tx y\n`, { format: 'tsv' });
    assert.deepEqual(rows, [{ line: 3, signalType: 'md5', value: MD5, source: 'src', tags: ['x', 'y'] }]);
  });

  it('reads a bare list of values when the signal type is given for the file', async () => {
    const rows = await parse(`${MD5}\n${MD5.replace('d', 'e')}\r\n`, { format: 'csv', signalType: 'md5', defaultSource: 'file.csv' });
    assert.equal(rows.length, 2);
    assert.equal(rows[1].line, 2);
    assert.equal(rows[1].source, 'file.csv');
    assert.equal(rows[1].signalType, 'md5');
  });

  it('reads JSON lines with tags and a default source', async () => {
    const rows = await parse(`{"signal_type":"md5","value":"${MD5}","tags":["t"]}\n`, { format: 'jsonl', defaultSource: 'feed' });
    assert.deepEqual(rows, [{ line: 1, signalType: 'md5', value: MD5, source: 'feed', tags: ['t'] }]);
  });

  it('names the line of a bad row', async () => {
    assert.match((await parseError(`{"signal_type":"md5","value":"${MD5}"}\n{oops\n`, { format: 'jsonl' })).message, /^line 2: not valid JSON/);
    assert.match((await parseError(`{"value":"${MD5}"}\n`, { format: 'jsonl' })).message, /^line 1: missing "signal_type"/);
    assert.match((await parseError(`{"signal_type":"md5","value":"${MD5}","tags":"x"}\n`, { format: 'jsonl' })).message, /line 1: "tags" must be an array/);
    assert.match((await parseError(`signal_type,value\nmd5,\n`, { format: 'csv' })).message, /^line 2: empty value/);
    assert.match((await parseError(`md5,"unterminated\n`, { format: 'csv' })).message, /^line 1: unterminated quoted field/);
    assert.match((await parseError(`${MD5}\n`, { format: 'tsv' })).message, /^line 1: only one column/);
  });

  it('splits quoted fields with escaped quotes', () => {
    assert.deepEqual(splitDelimited('a,"b ""c""",d', ',', 1), ['a', 'b "c"', 'd']);
    assert.deepEqual(splitDelimited('a\t\tb', '\t', 1), ['a', '', 'b']);
  });
});
