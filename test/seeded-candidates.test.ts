import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineWithCandidates } from '../src/graph/seeded-candidates.ts';

/**
 * Accounts 0..59; `seeds` (confirmed by a person), `unconfirmed` (seeds only suspected, or
 * confirmed by a hash match) and `terms` mark who is labelled or matched an operator term.
 */
function inputs(groups: number[][], candidates: number[][], seeds: number[], terms: number[] = [], unconfirmed: number[] = []) {
  const isSeed = new Uint8Array(60);
  const isConfirmedByPerson = new Uint8Array(60);
  const termMatched = new Uint8Array(60);
  for (const a of seeds) isSeed[a] = isConfirmedByPerson[a] = 1;
  for (const a of unconfirmed) isSeed[a] = 1;
  for (const a of terms) termMatched[a] = 1;
  return { groups, candidates, isSeed, isConfirmedByPerson, termMatched, minNetworkSize: 4 };
}
const sorted = (networks: number[][]) => networks.map((n) => [...n].sort((a, b) => a - b));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('seeded detection joined with seedless candidates', () => {
  it("a candidate holding a seed is the seed's network: it absorbs the fragments community detection left of a star", () => {
    // A seller (0) and 20 buyers (1..20): CPM split it into three fragments, one of them with the seed.
    const fragments = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 40], [9, 10, 11, 12]];
    const candidate = range(0, 21);
    const networks = combineWithCandidates(inputs(fragments, [candidate], [3]));
    assert.equal(networks.length, 1);
    // The fragment's one outsider (40) comes along: the fragment lies mostly inside the candidate.
    assert.deepEqual(sorted(networks), [[...candidate, 40]]);
  });

  it('a candidate without a seed is not reported by seeded detection (it stays a candidate for review)', () => {
    const networks = combineWithCandidates(inputs([], [range(0, 10)], []));
    assert.deepEqual(networks, []);
  });

  it('a candidate holding only an unconfirmed seed stays a candidate: the seed\'s own group is judged as before the join', () => {
    // Seed 3 is suspected (or hash-matched): community detection put it with two buyers and two ordinary accounts.
    const group = [3, 4, 5, 50, 51];
    const candidate = range(0, 21);
    assert.deepEqual(sorted(combineWithCandidates(inputs([group], [candidate], [], [], [3]))), [group]);
    // The same seed confirmed by a reviewer makes the candidate its network, the group absorbed.
    assert.deepEqual(sorted(combineWithCandidates(inputs([group], [candidate], [3]))), [[...candidate, 50, 51]]);
  });

  it("a seed its seller's candidate takes in leaves its own benign circle behind, which is then no network", () => {
    // The seed (30) follows a candidate's seller, so the detector adds it to that candidate;
    // community detection had put it with five friends from its home community.
    const circle = [30, 31, 32, 33, 34, 35];
    const candidate = [...range(0, 10), 30];
    assert.deepEqual(sorted(combineWithCandidates(inputs([circle], [candidate], [30]))), [candidate.sort((a, b) => a - b)]);
    // Without such a candidate the group holds a seed and is reported, as an operator who
    // confirmed one account and asks about its surroundings expects.
    assert.deepEqual(sorted(combineWithCandidates(inputs([circle], [], [30]))), [circle]);
  });

  it('one term user and its friends are not a network; two term users among four are', () => {
    assert.deepEqual(combineWithCandidates(inputs([[40, 41, 42, 43]], [], [], [40])), []);
    assert.deepEqual(sorted(combineWithCandidates(inputs([[40, 41, 42, 43]], [], [], [40, 41]))), [[40, 41, 42, 43]]);
  });

  it("a group mostly outside the seed's candidate keeps only what the candidate does not claim, and must stand on its own", () => {
    const candidate = range(0, 12);
    // Two of the group's members are buyers the candidate claims; the other five are the seed's friends.
    const group = [10, 11, 50, 51, 52, 53, 54];
    const networks = combineWithCandidates(inputs([group], [candidate], [10]));
    assert.deepEqual(sorted(networks), [candidate]);
    // The same rest with two seeds of its own is a second network.
    const twoSeeds = combineWithCandidates(inputs([group], [candidate], [10, 50, 51]));
    assert.deepEqual(sorted(twoSeeds), [candidate, [50, 51, 52, 53, 54]]);
  });

  it('membership of any candidate counts as evidence for a group anchored by term matches alone', () => {
    // One term user (20) among four: its friends are no network, unless another member is in a candidate.
    assert.deepEqual(combineWithCandidates(inputs([[20, 21, 22, 23]], [], [], [20])), []);
    const networks = combineWithCandidates(inputs([[20, 21, 22, 23]], [[22, 45, 46, 47, 48, 49]], [], [20]));
    assert.deepEqual(sorted(networks), [[20, 21, 22, 23]]);
  });
});
