import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { applyLabelFile, parseLabelLine } from '../src/graph/label-file.ts';

describe('labels from a file', () => {
  let bulwark: Bulwark;
  before(async () => {
    bulwark = await openBulwark({ identifierKey: 'test-key' });
  });
  after(() => bulwark.close());

  it('reads CSV with quoted notes and JSON lines', () => {
    assert.deepEqual(parseLabelLine(3, 'acct-1, confirmed, "seen in review, twice"'), { line: 3, account: 'acct-1', label: 'confirmed', note: 'seen in review, twice' });
    assert.deepEqual(parseLabelLine(4, 'acct-2,cleared'), { line: 4, account: 'acct-2', label: 'cleared' });
    assert.deepEqual(parseLabelLine(5, '{"account": "acct-3", "label": "suspected", "note": "say ""hi"""}'), { line: 5, message: 'not valid JSON' });
    assert.deepEqual(parseLabelLine(6, '{"account_id": "acct-3", "label": "suspected"}'), { line: 6, account: 'acct-3', label: 'suspected' });
    assert.match((parseLabelLine(7, 'acct-4,banned') as { message: string }).message, /label is one of/);
    assert.match((parseLabelLine(8, 'acct-5,"confirmed') as { message: string }).message, /not closed/);
    assert.match((parseLabelLine(9, 'a,b,c,d') as { message: string }).message, /found 4 fields/);
  });

  it('applies the good lines, reports the bad ones by line number', async () => {
    const file = [
      'account,label,note',
      'buyer-a,confirmed,"found by review, case 12"',
      '# a comment',
      'buyer-b,banned',
      '',
      '{"account": "buyer-c", "label": "suspected"}',
      'has space,confirmed',
      '{"account": "buyer-d"',
      'buyer-e,cleared',
    ].join('\n');
    const result = await applyLabelFile(bulwark.accounts, Readable.from([file]), 'operator');
    assert.equal(result.applied, 3);
    assert.equal(result.bad, 3);
    assert.deepEqual(result.problems.map((p) => p.line), [4, 7, 8]);
    assert.match(result.problems[1].message, /account id/);
    const a = await bulwark.accounts.get('buyer-a');
    assert.equal(a.label, 'confirmed');
    assert.equal((await bulwark.accounts.get('buyer-c')).label, 'suspected');
    assert.equal((await bulwark.accounts.get('buyer-e')).label, 'cleared');
    await assert.rejects(bulwark.accounts.get('buyer-b'), /no account/, 'a bad line creates nothing');
    const history = await bulwark.sql.query<{ detail: { note?: string } }>(
      "SELECT l.detail FROM account_labels l JOIN accounts a ON a.id = l.account_id WHERE a.external_id = 'buyer-a'",
    );
    assert.deepEqual(history.rows.map((r) => r.detail.note), ['found by review, case 12']);
  });
});
