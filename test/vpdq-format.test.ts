import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BulwarkError } from '../src/errors.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { InvalidSignalError } from '../src/signals/types.ts';
import { type VpdqFrame, formatTimestamp, formatVpdqFrames, normalizeVpdq, parseVpdqFrames } from '../src/signals/vpdq/frames.ts';

const hashesDir = resolve(import.meta.dirname, '..', '..', 'shared', 'vpdq-vectors', 'hashes');
const referenceFiles = readdirSync(hashesDir).filter((name) => name.endsWith('.txt')).sort();

const HASH = 'd3d8981ba52c59e79fb49295bed80905036b1dbe57b292c8ea4fb525f52c420e';

function refusal(raw: string): InvalidSignalError {
  try {
    normalizeVpdq(raw);
  } catch (error) {
    assert.ok(error instanceof InvalidSignalError, `expected InvalidSignalError, got ${error}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(raw.slice(0, 80))} to be refused`);
}

const frameArb = fc.record({
  quality: fc.integer({ min: 0, max: 100 }),
  hash: fc.stringMatching(/^[0-9a-f]{64}$/),
  timestamp: fc.double({ min: 0, max: 100_000, noNaN: true, noDefaultInfinity: true }),
});
const framesArb = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), frameArb), { minLength: 1, maxLength: 60 })
  .map((items) => {
    let frameNumber = -1;
    return items.map(([gap, frame]): VpdqFrame => ({ ...frame, frameNumber: (frameNumber += gap) }));
  });

describe('vPDQ values', () => {
  it('reads every reference hash file unchanged in meaning: canonical form + "\\n" is the file, byte for byte', () => {
    assert.equal(referenceFiles.length, 12);
    for (const name of referenceFiles) {
      const text = readFileSync(resolve(hashesDir, name), 'utf8');
      const canonical = normalizeVpdq(text);
      assert.equal(`${canonical}\n`, text, name);
      const frames = parseVpdqFrames(text);
      assert.equal(frames.length, text.trim().split('\n').length, name);
      assert.deepEqual(frames[0].frameNumber, 0);
      const [number, quality, hash, timestamp] = text.split('\n')[1].split(',');
      assert.deepEqual(frames[1], { frameNumber: Number(number), quality: Number(quality), hash, timestamp: Number(timestamp) }, name);
    }
  });

  it('writes timestamps with three decimals as printf("%.3f") does, ties to even', () => {
    // Exact binary ties (x * 16 odd) go to the even thousandth; everything else to the nearest.
    assert.equal(formatTimestamp(0.0625), '0.062');
    assert.equal(formatTimestamp(0.1875), '0.188');
    assert.equal(formatTimestamp(2.5625), '2.562');
    assert.equal(formatTimestamp(0.0005), '0.001'); // the double is a little above 0.0005
    assert.equal(formatTimestamp(1.0005), '1.000'); // and this one a little below
    assert.equal(formatTimestamp(6.767), '6.767');
    assert.equal(formatTimestamp(0), '0.000');
    assert.equal(formatTimestamp(Math.fround(205 / 30)), '6.833');
  });

  it('normalizes case, spaces, CRLF and blank lines to one canonical form', () => {
    const raw = `\r\n0, 100 ,${HASH.toUpperCase()},0.0\r\n\r\n7,42,${HASH},0.2333333\r\n`;
    assert.equal(normalizeVpdq(raw), `0,100,${HASH},0.000\n7,42,${HASH},0.233`);
  });

  it('refuses bad values with the line and the problem', () => {
    const ok = `0,100,${HASH},0.000`;
    assert.match(refusal('').reason, /no frames/);
    assert.match(refusal('\n\n').reason, /no frames/);
    assert.match(refusal(`${ok}\n1,100,${HASH}`).reason, /^line 2: expected 4 comma-separated fields/);
    assert.match(refusal(`${ok}\n\n1,101,${HASH},0.1`).reason, /^line 3: quality 101 is above 100/);
    assert.match(refusal(`${ok}\n1,-5,${HASH},0.1`).reason, /^line 2: quality "-5" is not an integer/);
    assert.match(refusal(`${ok}\n1,50,${HASH.slice(1)},0.1`).reason, /^line 2: PDQ hash: expected 64 hex digits/);
    assert.match(refusal(`${ok}\n1,50,${HASH.slice(1)}g,0.1`).reason, /^line 2: PDQ hash: non-hex character "g" at position 64/);
    assert.match(refusal(`${ok}\n1,50,${HASH},-0.1`).reason, /^line 2: timestamp "-0.1" is not a non-negative number/);
    assert.match(refusal(`${ok}\n1,50,${HASH},NaN`).reason, /^line 2: timestamp "NaN"/);
    assert.match(refusal(`${ok}\n1,50,${HASH},1e400`).reason, /^line 2: timestamp "1e400" is out of range/);
    assert.match(refusal(`${ok}\nx,50,${HASH},0.1`).reason, /^line 2: frame number "x" is not an integer/);
    assert.match(refusal(`${ok}\n0,50,${HASH},0.1`).reason, /^line 2: frame numbers must increase, but frame 0 follows frame 0/);
    assert.match(refusal(`5,50,${HASH},0.1\n${ok}`).reason, /^line 2: frame numbers must increase/);
  });

  it("accepts python-threatexchange's JSON signal string, numbering frames by position", () => {
    const pytx = JSON.stringify([`${HASH},100,0.0`, `${HASH.toUpperCase()},49,1.23e+02`]);
    assert.equal(normalizeVpdq(pytx), `0,100,${HASH},0.000\n1,49,${HASH},123.000`);
    assert.match(refusal('[1, 2]').reason, /^array element 1: expected a string/);
    assert.match(refusal(`["${HASH},100"]`).reason, /^array element 1: expected 3 comma-separated fields/);
    assert.match(refusal('[not json').reason, /not a JSON array/);
    assert.match(refusal('[]').reason, /no frames/);
  });

  it('is reported through the registry as an invalid vpdq value', () => {
    const registry = defaultSignalRegistry();
    assert.equal(registry.normalize('VPDQ', `0,100,${HASH},0`).value, `0,100,${HASH},0.000`);
    assert.throws(
      () => registry.normalize('vpdq', `0,100,${HASH},0\nbad`),
      (error: unknown) => error instanceof BulwarkError && error.kind === 'invalid' && /invalid vpdq value: line 2/.test(error.message),
    );
    assert.equal(registry.normalize('video_md5', 'D41D8CD98F00B204E9800998ECF8427E').value, 'd41d8cd98f00b204e9800998ecf8427e');
  });

  describe('fuzzed', () => {
    it('formats and reads back any frame list exactly (timestamps to the millisecond)', () => {
      fc.assert(
        fc.property(framesArb, (frames) => {
          const value = formatVpdqFrames(frames);
          const read = parseVpdqFrames(value);
          assert.deepEqual(
            read.map(({ timestamp, ...rest }) => rest),
            frames.map(({ timestamp, ...rest }) => rest),
          );
          read.forEach((frame, i) => assert.ok(Math.abs(frame.timestamp - frames[i].timestamp) <= 0.0005 + 1e-9));
          assert.equal(normalizeVpdq(value), value, 'a canonical value is its own normal form');
        }),
      );
    });

    it('normalizes to a fixed point, and refuses anything else only with InvalidSignalError', () => {
      const lineArb = fc.oneof(
        fc.string({ maxLength: 90 }),
        fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 }), fc.string({ maxLength: 70 }), fc.string({ maxLength: 8 })).map((fields) => fields.join(',')),
        fc.tuple(fc.nat(), fc.integer({ min: -5, max: 120 }), fc.stringMatching(/^[0-9a-fA-F]{62,66}$/), fc.double({ noNaN: false })).map(
          ([n, q, h, t]) => `${n},${q},${h},${t}`,
        ),
      );
      fc.assert(
        fc.property(fc.array(lineArb, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
          const raw = lines.join(eol);
          let canonical: string;
          try {
            canonical = normalizeVpdq(raw);
          } catch (error) {
            assert.ok(error instanceof InvalidSignalError, `unexpected ${error}`);
            assert.match(error.reason, /^(line \d+: |array element \d+: |no frames|more than|starts with|expected a JSON)/);
            return;
          }
          assert.equal(normalizeVpdq(canonical), canonical);
          assert.doesNotMatch(canonical, /\r|\n$|^\n/);
        }),
        { numRuns: 500 },
      );
    });

    it('never throws anything but InvalidSignalError for JSON-looking input', () => {
      fc.assert(
        fc.property(fc.json(), (json) => {
          try {
            normalizeVpdq(json);
          } catch (error) {
            assert.ok(error instanceof InvalidSignalError, `unexpected ${error}`);
          }
        }),
      );
    });
  });
});
