import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BruteForceHash256Index, MultiIndexHash256Index } from '../src/match/hamming-index.ts';
import { HASH256_WORDS, getBit, hamming256, hash256ToHex, hexToHash256, popcount32 } from '../src/signals/pdq/hash256.ts';
import { PdqSignalIndex } from '../src/signals/pdq/signal.ts';

const hashArb = fc.uint32Array({ minLength: 8, maxLength: 8 });

/** A copy of hash with `flips` distinct bits flipped, chosen by the seed. */
function flipped(hash: Uint32Array, flips: number, seed: number): Uint32Array {
  const out = Uint32Array.from(hash);
  const chosen = new Set<number>();
  let state = seed >>> 0 || 1;
  while (chosen.size < flips) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    chosen.add(state % 256);
  }
  for (const bit of chosen) out[bit >>> 5] ^= 1 << (bit & 31);
  return out;
}

function bankOf(hashes: Uint32Array[]): Uint32Array {
  const words = new Uint32Array(hashes.length * HASH256_WORDS);
  hashes.forEach((hash, i) => words.set(hash, i * HASH256_WORDS));
  return words;
}

/** Random centres, each with planted neighbours at chosen distances, plus exact duplicates. */
const bankArb = fc
  .record({
    centres: fc.array(hashArb, { minLength: 0, maxLength: 40 }),
    neighbours: fc.array(fc.record({ centre: fc.nat(), distance: fc.integer({ min: 0, max: 40 }), seed: fc.nat() }), { maxLength: 200 }),
    duplicates: fc.nat({ max: 5 }),
  })
  .map(({ centres, neighbours, duplicates }) => {
    const hashes: Uint32Array[] = [...centres];
    if (centres.length > 0) {
      for (const n of neighbours) hashes.push(flipped(centres[n.centre % centres.length], n.distance, n.seed));
      for (let i = 0; i < duplicates; i++) hashes.push(Uint32Array.from(centres[i % centres.length]));
    }
    return hashes;
  });

describe('Hamming distance', () => {
  it('popcount32 counts bits', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => popcount32(x) === x.toString(2).replace(/0/g, '').length));
  });

  it('is a metric that counts differing bits', () => {
    fc.assert(
      fc.property(hashArb, hashArb, hashArb, (a, b, c) => {
        const ab = hamming256(a, b);
        let bits = 0;
        for (let k = 0; k < 256; k++) bits += getBit(a, k) ^ getBit(b, k);
        return ab === bits && ab === hamming256(b, a) && hamming256(a, a) === 0 && hamming256(a, c) <= ab + hamming256(b, c);
      }),
    );
  });

  it('round-trips hex', () => {
    fc.assert(fc.property(hashArb, (a) => hash256ToHex(hexToHash256(hash256ToHex(a))) === hash256ToHex(a)));
  });
});

describe('multi-index search equals a linear scan', () => {
  it('for random banks, planted neighbours, duplicates and thresholds', () => {
    fc.assert(
      fc.property(bankArb, fc.array(fc.record({ from: fc.nat(), flips: fc.integer({ min: 0, max: 48 }), seed: fc.nat() }), { minLength: 1, maxLength: 6 }), hashArb, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 8, max: 16 }), (hashes, probes, random, maxDistance, substrings) => {
        const words = bankOf(hashes);
        const brute = new BruteForceHash256Index(words, hashes.length);
        const multi = MultiIndexHash256Index.build(words, hashes.length, { substrings, scanWhenCheaper: false });
        const queries = [random, ...probes.filter(() => hashes.length > 0).map((p) => flipped(hashes[p.from % hashes.length], p.flips, p.seed))];
        for (const query of queries) assert.deepEqual(multi.search(query, maxDistance), brute.search(query, maxDistance));
        assert.deepEqual(multi.searchAny(queries, maxDistance), brute.searchAny(queries, maxDistance));
      }),
      { numRuns: 150 },
    );
  });

  it('at the default threshold on a bank large enough to use the tables', () => {
    const random = fc.sample(hashArb, { numRuns: 20_000, seed: 7 });
    const words = bankOf(random);
    const brute = new BruteForceHash256Index(words, random.length);
    const multi = MultiIndexHash256Index.build(words, random.length, { scanWhenCheaper: false });
    let nonEmpty = 0;
    for (let q = 0; q < 300; q++) {
      const query = q % 3 === 0 ? fc.sample(hashArb, { numRuns: 1, seed: 1000 + q })[0] : flipped(random[(q * 37) % random.length], q % 32, q);
      const expected = brute.search(query, 31);
      if (expected.length > 0) nonEmpty++;
      assert.deepEqual(multi.search(query, 31), expected);
    }
    assert.ok(nonEmpty >= 190, 'planted neighbours are found');
  });
});

describe('PDQ signal index under changes', () => {
  it('adds, removes and compacts exactly like a scan over the live entries', () => {
    fc.assert(
      fc.property(
        fc.array(hashArb, { minLength: 0, maxLength: 60 }),
        fc.array(fc.record({ add: fc.boolean(), hash: hashArb, pick: fc.nat() }), { maxLength: 80 }),
        fc.integer({ min: 0, max: 48 }),
        (initial, operations, maxDistance) => {
          const live = new Map<number, Uint32Array>(initial.map((hash, i) => [i + 1, hash]));
          const index = new PdqSignalIndex([...live].map(([entryId, hash]) => ({ entryId, value: hash256ToHex(hash) })));
          let nextId = initial.length + 1;
          for (const op of operations) {
            if (op.pick % 7 === 0) index.compact();
            if (op.add || live.size === 0) {
              live.set(nextId, op.hash);
              index.add({ entryId: nextId++, value: hash256ToHex(op.hash) });
            } else {
              const ids = [...live.keys()];
              const id = ids[op.pick % ids.length];
              live.delete(id);
              index.remove(id);
            }
          }
          assert.equal(index.size, live.size);
          const query = operations.length > 0 ? operations[0].hash : initial[0] ?? new Uint32Array(8);
          const expected = [...live]
            .map(([entryId, hash]) => ({ entryId, distance: hamming256(hash, query) }))
            .filter((hit) => hit.distance <= maxDistance)
            .sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
          assert.deepEqual(index.search({ value: hash256ToHex(query), maxDistance }), expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
