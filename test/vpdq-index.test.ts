import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hash256ToHex } from '../src/signals/pdq/hash256.ts';
import type { MatchPercent, SignalHit } from '../src/signals/types.ts';
import { type VpdqFrame, formatVpdqFrames, parseVpdqFrames } from '../src/signals/vpdq/frames.ts';
import { VpdqSignalIndex } from '../src/signals/vpdq/index.ts';
import { compareVpdq } from '../src/signals/vpdq/match.ts';

const hashesDir = resolve(import.meta.dirname, '..', '..', 'shared', 'vpdq-vectors', 'hashes');
const reference = (name: string) => parseVpdqFrames(readFileSync(resolve(hashesDir, `${name}.txt`), 'utf8'));

/** A deterministic generator, so a failing case is reproducible from fast-check's seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function randomHash(next: () => number): Uint32Array {
  return Uint32Array.from({ length: 8 }, () => Math.floor(next() * 2 ** 32));
}

function flip(hash: Uint32Array, bits: number, next: () => number): Uint32Array {
  const out = Uint32Array.from(hash);
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(next() * 256));
  for (const bit of chosen) out[bit >>> 5] ^= 1 << (bit & 31);
  return out;
}

const framesOf = (hashes: { hash: Uint32Array; quality: number }[]): VpdqFrame[] =>
  hashes.map((h, i) => ({ frameNumber: i, quality: h.quality, hash: hash256ToHex(h.hash), timestamp: i }));

/**
 * Videos made of "scenes": each frame is a scene's hash with a few to many bits flipped, so
 * frames of different videos are near each other (shared scenes), far, or on the threshold;
 * some frames repeat exactly and some are of low quality.
 */
function library(seed: number, videos: number, framesPerVideo: number, scenes: number) {
  const next = random(seed);
  const sceneHashes = Array.from({ length: scenes }, () => randomHash(next));
  const frame = () => {
    const scene = sceneHashes[Math.floor(next() * scenes)];
    const roll = next();
    const bits = roll < 0.2 ? 0 : roll < 0.7 ? Math.floor(next() * 20) : 20 + Math.floor(next() * 24);
    return { hash: flip(scene, bits, next), quality: next() < 0.1 ? Math.floor(next() * 50) : 50 + Math.floor(next() * 51) };
  };
  const make = () => framesOf(Array.from({ length: 1 + Math.floor(next() * framesPerVideo) }, frame));
  return { banked: Array.from({ length: videos }, make), queries: Array.from({ length: 8 }, make) };
}

/** What the index must answer: compareVpdq against every banked video, matches only. */
function bruteForce(banked: Map<number, VpdqFrame[]>, query: VpdqFrame[], maxDistance: number, minMatchPercent: MatchPercent): SignalHit[] {
  const hits: SignalHit[] = [];
  for (const [entryId, frames] of banked) {
    const result = compareVpdq(query, frames, { maxDistance, minMatchPercent });
    if (result?.matched) hits.push({ entryId, distance: result.meanDistance, matchPercent: result.matchPercent });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId);
}

describe('vPDQ index', () => {
  it('answers exactly as brute-force comparison with every banked video, for any thresholds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        fc.record({ query: fc.integer({ min: 0, max: 100 }), compared: fc.integer({ min: 0, max: 100 }) }),
        (seed, videos, maxDistance, minMatchPercent) => {
          const { banked, queries } = library(seed, videos, 25, 12);
          const entries = new Map(banked.map((frames, i) => [100 + i * 7, frames]));
          const index = new VpdqSignalIndex([...entries].map(([entryId, frames]) => ({ entryId, value: formatVpdqFrames(frames) })));
          assert.equal(index.size, entries.size);
          for (const query of [...queries, ...banked.slice(0, 2)]) {
            const expected = bruteForce(entries, query, maxDistance, minMatchPercent);
            assert.deepEqual(index.search({ value: formatVpdqFrames(query), maxDistance, minMatchPercent }), expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('agrees with brute force beyond the size where the frame index switches to multi-index hashing', () => {
    // 300 videos of up to 40 frames over many scenes: well over 4096 unique frame hashes.
    const { banked, queries } = library(20261207, 300, 40, 2000);
    const entries = new Map(banked.map((frames, i) => [i + 1, frames]));
    const index = new VpdqSignalIndex([...entries].map(([entryId, frames]) => ({ entryId, value: formatVpdqFrames(frames) })));
    assert.ok(index.frameCount > 4096, `only ${index.frameCount} unique frames`);
    let matched = 0;
    for (const query of [...queries, ...banked.slice(0, 20)]) {
      for (const thresholds of [{ query: 80, compared: 0 }, { query: 10, compared: 5 }]) {
        const expected = bruteForce(entries, query, 31, thresholds);
        matched += expected.length;
        assert.deepEqual(index.search({ value: formatVpdqFrames(query), maxDistance: 31, minMatchPercent: thresholds }), expected);
      }
    }
    assert.ok(matched > 20, 'the data must hold matches for the comparison to mean something');
  });

  it('stays exact through additions, removals and compaction, with frames shared between videos', () => {
    const { banked, queries } = library(77, 40, 20, 6);
    const index = new VpdqSignalIndex();
    const live = new Map<number, VpdqFrame[]>();
    const check = () => {
      for (const query of queries) {
        assert.deepEqual(index.search({ value: formatVpdqFrames(query), maxDistance: 31, minMatchPercent: { query: 30, compared: 0 } }), bruteForce(live, query, 31, { query: 30, compared: 0 }));
      }
      assert.equal(index.size, live.size);
    };
    banked.forEach((frames, i) => {
      index.add({ entryId: i + 1, value: formatVpdqFrames(frames) });
      live.set(i + 1, frames);
    });
    index.add({ entryId: 1, value: formatVpdqFrames(banked[5]) }); // an id already present is ignored
    check();
    index.compact();
    check();
    for (let id = 1; id <= 40; id += 3) {
      index.remove(id);
      live.delete(id);
    }
    index.remove(9999);
    check();
    index.compact();
    check();
    const shared = framesOf([{ hash: Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), quality: 100 }]);
    index.add({ entryId: 500, value: formatVpdqFrames(shared) });
    index.add({ entryId: 501, value: formatVpdqFrames(shared) });
    index.remove(500);
    const hits = index.search({ value: formatVpdqFrames(shared), maxDistance: 0 });
    assert.deepEqual(hits, [{ entryId: 501, distance: 0, matchPercent: { query: 100, compared: 100 } }], 'a frame shared by two videos stays for the one left');
    index.remove(501);
    assert.deepEqual(index.search({ value: formatVpdqFrames(shared), maxDistance: 0 }), []);
  });

  it('filters frames below quality 50 and repeated frames on both sides, as python-threatexchange', () => {
    const a = Uint32Array.from([0, 0, 0, 0, 0, 0, 0, 0]);
    const far = Uint32Array.from([~0, ~0, ~0, ~0, 0, 0, 0, 0]);
    const banked = framesOf([{ hash: a, quality: 100 }, { hash: a, quality: 90 }, { hash: far, quality: 49 }]);
    const index = new VpdqSignalIndex([{ entryId: 1, value: formatVpdqFrames(banked) }]);
    // Query: a twice (one unique frame) plus a low-quality far frame: 1 of 1 query frame, 1 of 1 banked.
    const query = framesOf([{ hash: a, quality: 100 }, { hash: far, quality: 10 }, { hash: a, quality: 100 }]);
    assert.deepEqual(index.search({ value: formatVpdqFrames(query), maxDistance: 31 }), [{ entryId: 1, distance: 0, matchPercent: { query: 100, compared: 100 } }]);
    // Only low-quality frames: nothing to match with.
    assert.deepEqual(index.search({ value: formatVpdqFrames(framesOf([{ hash: a, quality: 49 }])), maxDistance: 31 }), []);
  });

  it('uses 80% of the query and 0% of the banked video by default, and reports both percentages', () => {
    const next = random(5);
    const scenes = Array.from({ length: 10 }, () => randomHash(next));
    const banked = framesOf(scenes.map((hash) => ({ hash, quality: 100 })));
    const index = new VpdqSignalIndex([{ entryId: 1, value: formatVpdqFrames(banked) }]);
    // 4 of 5 query frames are (near) banked frames: 80% of the query, 40% of the banked video.
    const query = framesOf([...scenes.slice(0, 4).map((hash) => ({ hash: flip(hash, 5, next), quality: 100 })), { hash: randomHash(next), quality: 100 }]);
    const value = formatVpdqFrames(query);
    assert.deepEqual(index.search({ value, maxDistance: 31 }), [{ entryId: 1, distance: 5, matchPercent: { query: 80, compared: 40 } }]);
    assert.deepEqual(index.search({ value, maxDistance: 31, minMatchPercent: { query: 80.01 } }), []);
    assert.deepEqual(index.search({ value, maxDistance: 31, minMatchPercent: { compared: 41 } }), []);
    assert.deepEqual(index.search({ value, maxDistance: 4 }), []);
  });

  it('matches the best of the query and its variants, naming the variant', () => {
    const next = random(9);
    const scenes = Array.from({ length: 5 }, () => randomHash(next));
    const index = new VpdqSignalIndex([{ entryId: 3, value: formatVpdqFrames(framesOf(scenes.map((hash) => ({ hash, quality: 100 })))) }]);
    const unrelated = formatVpdqFrames(framesOf(scenes.map(() => ({ hash: randomHash(next), quality: 100 }))));
    const near = formatVpdqFrames(framesOf(scenes.map((hash) => ({ hash: flip(hash, 3, next), quality: 100 }))));
    assert.deepEqual(index.search({ value: unrelated, maxDistance: 31 }), []);
    assert.deepEqual(index.search({ value: unrelated, variants: [{ name: 'bars_removed', value: near }], maxDistance: 31 }), [
      { entryId: 3, distance: 3, matchPercent: { query: 100, compared: 100 }, variant: 'bars_removed' },
    ]);
    assert.deepEqual(index.search({ value: near, variants: [{ name: 'bars_removed', value: unrelated }], maxDistance: 31 }), [
      { entryId: 3, distance: 3, matchPercent: { query: 100, compared: 100 } },
    ]);
  });

  describe("with Meta's reference hash lists", () => {
    const names = ['chair-19-sd-bar', 'chair-22-sd-grey-bar', 'doorknob-hd-no-bar', 'pattern-hd-no-bar', 'pattern-sd-grey-bar', 'pattern-sd-with-small-logo-bar'];
    const lists = new Map(names.map((name) => [name, reference(name)]));
    const ids = new Map(names.map((name, i) => [name, i + 1]));
    const index = new VpdqSignalIndex(names.map((name) => ({ entryId: ids.get(name)!, value: formatVpdqFrames(lists.get(name)!) })));
    const search = (frames: VpdqFrame[]) => index.search({ value: formatVpdqFrames(frames), maxDistance: 31 });
    const oneFramePerSecond = (frames: VpdqFrame[], phase = 0) => frames.filter((frame) => frame.frameNumber % 30 === phase);

    it('finds each list at 100% / 100% of itself', () => {
      for (const name of names) {
        const self = search(lists.get(name)!).find((hit) => hit.entryId === ids.get(name));
        assert.deepEqual(self?.matchPercent, { query: 100, compared: 100 }, name);
      }
    });

    it('finds chair-22 (one frame a second, at any phase) in chair-19 hashed every frame, and the reverse', () => {
      for (const phase of [0, 7, 15, 29]) {
        const hits22 = search(oneFramePerSecond(lists.get('chair-22-sd-grey-bar')!, phase));
        assert.ok(hits22.some((hit) => hit.entryId === ids.get('chair-19-sd-bar') && hit.matchPercent!.query >= 80), `phase ${phase}`);
        const hits19 = search(oneFramePerSecond(lists.get('chair-19-sd-bar')!, phase));
        assert.ok(hits19.some((hit) => hit.entryId === ids.get('chair-22-sd-grey-bar')), `phase ${phase}`);
      }
    });

    it('never matches a list of another source', () => {
      const source = (name: string) => name.split('-')[0];
      for (const name of names) {
        for (const hit of search(lists.get(name)!)) assert.equal(source(names[hit.entryId - 1]), source(name), `${name} matched ${names[hit.entryId - 1]}`);
        const crossSource = compareVpdq(lists.get(name)!, lists.get(names.find((other) => source(other) !== source(name))!)!);
        assert.deepEqual(crossSource?.matchPercent, { query: 0, compared: 0 });
      }
    });
  });
});
