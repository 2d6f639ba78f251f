import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progress } from '../src/cli/progress.ts';

describe('progress when no one watches a terminal', () => {
  it('writes a line every so many items or so much time, and the last count at the end', () => {
    let clock = 0;
    const lines: string[] = [];
    const shown = progress('importing', undefined, 'lines', { terminal: false, everyItems: 1000, everyMs: 10_000, now: () => clock, write: (l) => lines.push(l) });
    for (let n = 100; n <= 2500; n += 100) {
      clock += 1;
      shown.update(n);
    }
    assert.equal(lines.length, 2, lines.join(''));
    clock += 20_000;
    shown.update(2600);
    assert.equal(lines.length, 3, 'a quiet stretch of time gets a line too');
    shown.update(2700);
    shown.stop();
    assert.deepEqual(
      lines.map((l) => l.split(',')[0]),
      ['importing: 1000 lines', 'importing: 2000 lines', 'importing: 2600 lines', 'importing: 2700 lines'],
    );
    assert.match(lines[0], /, 100000 lines\/s\n$/, '1000 lines in 10 ms');
  });

  it('with a known total, says how far through it is every tenth of the way', () => {
    let clock = 0;
    const lines: string[] = [];
    const shown = progress('hashing', 50, 'files', { terminal: false, now: () => clock, write: (l) => lines.push(l) });
    for (let n = 1; n <= 50; n++) {
      clock += 2;
      shown.update(n);
    }
    shown.stop();
    assert.equal(lines.length, 10, lines.join(''));
    assert.match(lines[0], /^hashing: 5\/50 files \(10%\), 500 files\/s\n$/);
    assert.match(lines[9], /^hashing: 50\/50 files \(100%\)/);
  });

  it('on a terminal draws a bar instead of printing lines', () => {
    const lines: string[] = [];
    const shown = progress('hashing', 3, 'files', { terminal: true, write: (l) => lines.push(l) });
    shown.update(3);
    shown.stop();
    assert.deepEqual(lines, [], 'the bar draws on stderr itself, not through the line writer');
  });
});
