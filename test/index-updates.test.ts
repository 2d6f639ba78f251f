import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../src/demo/benign-images.ts';
import { ExactValueIndex } from '../src/signals/exact.ts';
import { HASH256_WORDS, hamming256, hash256ToHex } from '../src/signals/pdq/hash256.ts';
import { PdqSignalIndex } from '../src/signals/pdq/pdq-index.ts';
import type { SignalHit } from '../src/signals/types.ts';

const THRESHOLD = 31;

/** Random hashes clustered round a few centres, so that queries at the threshold find several. */
function hashMaker(seed: number, centres = 6) {
  const random = seededRandom(seed);
  const word = () => Math.floor(random() * 0x1_0000_0000) >>> 0;
  const fresh = () => Uint32Array.from({ length: HASH256_WORDS }, word);
  const hubs = Array.from({ length: centres }, fresh);
  const near = (centre: Uint32Array, flips: number) => {
    const out = Uint32Array.from(centre);
    for (let i = 0; i < flips; i++) {
      const bit = Math.floor(random() * 256);
      out[bit >>> 5] ^= 1 << (bit & 31);
    }
    return out;
  };
  return {
    hubs,
    /** Near a centre most of the time, anywhere otherwise. */
    next: () => (random() < 0.8 ? near(hubs[Math.floor(random() * hubs.length)], Math.floor(random() * 40)) : fresh()),
    queries: () => [...hubs, ...hubs.map((hub) => near(hub, 12)), fresh()],
  };
}

/** What every index must answer: the live entries within the threshold, by distance then id. */
function scan(live: Map<number, Uint32Array>, query: Uint32Array): SignalHit[] {
  const hits: SignalHit[] = [];
  for (const [entryId, hash] of live) {
    const distance = hamming256(hash, query);
    if (distance <= THRESHOLD) hits.push({ entryId, distance });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
}

const entry = (entryId: number, hash: Uint32Array) => ({ entryId, value: hash256ToHex(hash) });

function assertSameAsScan(index: PdqSignalIndex, live: Map<number, Uint32Array>, queries: Uint32Array[], label: string): void {
  assert.equal(index.size, live.size, `${label}: size`);
  // A full rebuild over the live entries is the other reference: the incremental index must agree with both.
  const rebuilt = new PdqSignalIndex([...live].map(([id, hash]) => entry(id, hash)));
  for (const query of queries) {
    const expected = scan(live, query);
    assert.deepEqual(index.search({ value: hash256ToHex(query), maxDistance: THRESHOLD }), expected, `${label}: incremental index`);
    assert.deepEqual(rebuilt.search({ value: hash256ToHex(query), maxDistance: THRESHOLD }), expected, `${label}: rebuilt index`);
  }
}

type Op =
  | { kind: 'add'; count: number }
  | { kind: 'remove'; pick: number; count: number }
  | { kind: 'batch'; adds: number; again: number; removes: number; pick: number }
  | { kind: 'maintain'; during: number }
  | { kind: 'rebuild'; during: number }
  | { kind: 'compact' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('batch' as const), adds: fc.integer({ min: 0, max: 30 }), again: fc.integer({ min: 0, max: 4 }), removes: fc.integer({ min: 0, max: 4 }), pick: fc.nat() }),
  fc.record({ kind: fc.constant('maintain' as const), during: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('rebuild' as const), during: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ kind: 'compact' as const }),
);

describe('PDQ index under incremental changes', () => {
  it('answers as a scan and as a full rebuild after any mix of adds, removes, batches, merges and rebuilds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(opArb, { minLength: 1, maxLength: 25 }), async (seed, ops) => {
        // Small limits, so that a few dozen entries already make tails, segments and merges.
        const index = new PdqSignalIndex([], { tailLimit: 8, batchSegmentMin: 8 });
        const live = new Map<number, Uint32Array>();
        const hashes = hashMaker(seed);
        const random = seededRandom(seed ^ 0x5bd1e995);
        let nextId = 1;
        const liveIds = () => [...live.keys()];
        const removeSome = (count: number, pick: number, remove: (id: number) => void) => {
          const ids = liveIds();
          for (let i = 0; i < count && ids.length > 0; i++) {
            const [id] = ids.splice((pick + i * 7) % ids.length, 1);
            remove(id);
            live.delete(id);
          }
          remove(10_000_000 + pick); // absent: nothing happens
        };
        // Changes made while a merge runs: the merge must carry them over when it swaps in.
        const meanwhile = (count: number) => {
          for (let i = 0; i < count; i++) {
            const hash = hashes.next();
            index.add(entry(nextId, hash));
            live.set(nextId++, hash);
            removeSome(1, Math.floor(random() * 1000), (id) => index.remove(id));
          }
        };
        for (const op of ops) {
          if (op.kind === 'add') {
            for (let i = 0; i < op.count; i++) {
              const hash = hashes.next();
              index.add(entry(nextId, hash));
              live.set(nextId++, hash);
            }
          } else if (op.kind === 'remove') {
            removeSome(op.count, op.pick, (id) => index.remove(id));
          } else if (op.kind === 'batch') {
            const batch = index.batch();
            // Entries the index holds already, as a catch-up after a full load re-reads: no duplicates.
            for (const id of liveIds().slice(0, op.again)) batch.add(entry(id, live.get(id)!));
            const added: [number, Uint32Array][] = [];
            for (let i = 0; i < op.adds; i++) added.push([nextId++, hashes.next()]);
            for (const [id, hash] of added) batch.add(entry(id, hash));
            const removed: number[] = [];
            removeSome(op.removes, op.pick, (id) => removed.push(id));
            for (const id of removed) batch.remove(id);
            await batch.prepare();
            batch.apply();
            for (const [id, hash] of added) live.set(id, hash);
          } else if (op.kind === 'maintain' || op.kind === 'rebuild') {
            const running = op.kind === 'maintain' ? index.maintain() : index.rebuild();
            meanwhile(op.during);
            await running;
          } else {
            index.compact();
          }
          assertSameAsScan(index, live, hashes.queries(), JSON.stringify(op));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('stays exact with multi-index segments built on a worker thread, tombstones in them, and merges while changes arrive', async () => {
    const hashes = hashMaker(20261201, 12);
    const live = new Map<number, Uint32Array>();
    const index = new PdqSignalIndex();
    let nextId = 1;
    const addBatch = async (count: number, again: number[] = []) => {
      const batch = index.batch();
      for (const id of again) batch.add(entry(id, live.get(id)!));
      const added: [number, Uint32Array][] = Array.from({ length: count }, () => [nextId++, hashes.next()]);
      for (const [id, hash] of added) batch.add(entry(id, hash));
      await batch.prepare();
      batch.apply();
      for (const [id, hash] of added) live.set(id, hash);
    };
    const removeEvery = (step: number, offset: number) => {
      for (const id of [...live.keys()]) {
        if (id % step !== offset) continue;
        index.remove(id);
        live.delete(id);
      }
    };
    const queries = () => [...hashes.queries(), ...[...live.values()].slice(0, 20)];

    await addBatch(20_000);
    assert.deepEqual(index.pieces, { segments: [20_000], tail: 0 }, 'one batch, one segment');
    // Removal from a multi-index: the removed entries' own hashes must no longer be found.
    const removedHashes = [...live].filter(([id]) => id % 5 === 1).map(([, hash]) => hash);
    removeEvery(5, 1);
    assertSameAsScan(index, live, [...queries(), ...removedHashes.slice(0, 20)], 'after removals from the first segment');

    await addBatch(6_000, [...live.keys()].slice(0, 500));
    for (let i = 0; i < 100; i++) {
      const hash = hashes.next();
      index.add(entry(nextId, hash));
      live.set(nextId++, hash);
    }
    assert.equal(index.pieces.segments.length, 2, 'a second segment beside the first');
    assertSameAsScan(index, live, queries(), 'two segments and a tail');

    // A merge of everything (6,000 new beside 16,000 is a large share) on a worker thread, while removals and additions continue.
    const merging = index.maintain();
    assert.equal(index.maintaining, true);
    removeEvery(7, 3);
    const during: [number, Uint32Array][] = Array.from({ length: 50 }, () => [nextId++, hashes.next()]);
    for (const [id, hash] of during) index.add(entry(id, hash)), live.set(id, hash);
    assertSameAsScan(index, live, queries(), 'while the merge runs');
    await merging;
    assert.equal(index.maintaining, false);
    assert.equal(index.pieces.segments.length, 1, 'merged into one segment');
    assertSameAsScan(index, live, [...queries(), ...removedHashes.slice(0, 20)], 'after the merge');

    removeEvery(3, 0);
    await index.rebuild();
    assertSameAsScan(index, live, queries(), 'after removals and a forced rebuild');
  });
});

describe('PDQ batches', () => {
  it('never count an entry twice that was also added one by one after the batch was prepared', async () => {
    const hashes = hashMaker(7);
    const index = new PdqSignalIndex([], { batchSegmentMin: 4 });
    const live = new Map(Array.from({ length: 10 }, (_, i) => [i + 1, hashes.next()] as [number, Uint32Array]));
    const batch = index.batch();
    for (const [id, hash] of live) batch.add(entry(id, hash));
    await batch.prepare();
    assert.equal(index.size, 0, 'nothing visible before apply');
    index.add(entry(3, live.get(3)!));
    batch.apply();
    assert.deepEqual(index.pieces, { segments: [9], tail: 1 });
    assertSameAsScan(index, live, [...live.values()], 'after apply');
    index.remove(3);
    live.delete(3);
    assertSameAsScan(index, live, [...live.values()], 'after removing the entry held twice');
  });
});

describe('exact index under incremental changes', () => {
  const md5 = (n: number) => n.toString(16).padStart(32, '0');

  it('answers as a full rebuild after adds, removes and batches (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('add', 'remove', 'batch'), fc.nat({ max: 40 }), fc.nat({ max: 40 })), { maxLength: 30 }), async (ops) => {
        const index = new ExactValueIndex();
        const live = new Map<number, string>();
        let nextId = 1;
        for (const [kind, a, b] of ops) {
          if (kind === 'add') {
            index.add({ entryId: nextId, value: md5(a) });
            live.set(nextId++, md5(a));
          } else if (kind === 'remove') {
            const id = [...live.keys()][a % Math.max(1, live.size)];
            if (id !== undefined) index.remove(id), live.delete(id);
          } else {
            const batch = index.batch();
            for (let i = 0; i < a % 5; i++) batch.add({ entryId: nextId, value: md5(b + i) }), live.set(nextId++, md5(b + i));
            const id = [...live.keys()][b % Math.max(1, live.size)];
            if (id !== undefined) batch.remove(id), live.delete(id);
            await batch.prepare();
            batch.apply();
          }
        }
        const rebuilt = new ExactValueIndex([...live].map(([entryId, value]) => ({ entryId, value })));
        assert.equal(index.size, live.size);
        for (let v = 0; v <= 45; v++) assert.deepEqual(index.search({ value: md5(v), maxDistance: 0 }), rebuilt.search({ value: md5(v), maxDistance: 0 }));
      }),
    );
  });

  it('prepares a large batch beside the live maps, and adds in place when the index changed meanwhile', async () => {
    for (const changeMeanwhile of [false, true]) {
      const index = new ExactValueIndex([{ entryId: 1, value: md5(1) }]);
      const batch = index.batch();
      for (let id = 2; id <= 60_002; id++) batch.add({ entryId: id, value: md5(id % 1000) });
      batch.remove(1);
      await batch.prepare();
      assert.equal(index.size, 1, 'nothing visible before apply');
      assert.deepEqual(index.search({ value: md5(1), maxDistance: 0 }), [{ entryId: 1, distance: 0 }]);
      if (changeMeanwhile) index.add({ entryId: 70_000, value: md5(5) });
      batch.apply();
      assert.equal(index.size, 60_001 + (changeMeanwhile ? 1 : 0));
      const hits = index.search({ value: md5(5), maxDistance: 0 }).map((hit) => hit.entryId);
      assert.equal(hits.length, 60 + (changeMeanwhile ? 1 : 0));
      assert.deepEqual(index.search({ value: md5(1), maxDistance: 0 }).map((hit) => hit.entryId).includes(1), false, 'the removal applied');
    }
  });
});
