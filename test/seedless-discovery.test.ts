import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../src/demo/benign-images.ts';
import { LABEL_NONE } from '../src/graph/account-graph.ts';
import { EventStreamGraph } from '../src/graph/event-stream-graph.ts';
import { discoverCandidateNetworks } from '../src/graph/seedless/discover.ts';
import { resolveDiscoveryOptions } from '../src/graph/seedless/discovery-options.ts';
import { weighFeatures } from '../src/graph/seedless/feature-weights.ts';
import { findBursts, poissonTail } from '../src/graph/seedless/new-account-bursts.ts';
import { hashtagFeature } from '../src/ingest/event-features.ts';
import { TermMatcher } from '../src/terms/term-matcher.ts';
import { seedlessPlatform } from './helpers/seedless-platform.ts';

const platform = seedlessPlatform();
const stream = new EventStreamGraph({ terms: new TermMatcher(platform.termLists) });
for (const event of platform.events) stream.add(event);
const graph = stream.build();
const result = discoverCandidateNetworks(graph);
const reported = new Set(result.candidates.flatMap((candidate) => candidate.members.map((member) => member.externalId)));
const recall = (accounts: string[]) => accounts.filter((account) => reported.has(account)).length / accounts.length;
const featureIndex = (kind: string, value: string) => graph.featureValues.findIndex((v, i) => v === value && graph.featureKinds[i] === kind);

describe('seedless discovery', () => {
  it('finds the sparse coded-hashtag network and the unseeded star as candidates, without seeds', () => {
    const plantedStar = [...platform.star.sellers, ...platform.star.buyers];
    const planted = new Set([...platform.sparse, ...plantedStar]);
    assert.ok(recall(platform.sparse) >= 0.5, `sparse network recall ${recall(platform.sparse)}`);
    assert.ok(recall(plantedStar) >= 0.5, `star recall ${recall(plantedStar)}`);
    const correct = [...reported].filter((account) => planted.has(account)).length;
    assert.ok(correct / reported.size >= 0.9, `member precision ${correct}/${reported.size}`);
    // Each planted network is one candidate, not mixed with the other.
    const sparseCandidate = result.candidates.find((c) => c.members.some((m) => m.externalId === platform.sparse.find((a) => reported.has(a))));
    const starCandidate = result.candidates.find((c) => c.members.some((m) => m.externalId === platform.star.sellers[0]));
    assert.ok(sparseCandidate && starCandidate && sparseCandidate !== starCandidate);
    assert.deepEqual(starCandidate.members.filter((m) => m.role === 'seller').map((m) => m.externalId).sort(), platform.star.sellers);
  });

  it('reports neither the dense benign community, nor celebrities, nor one-off term users, nor audiences without other evidence', () => {
    for (const account of [...platform.denseCommunity, ...platform.celebrities, ...platform.oneOffTermUsers, 'user-5', 'user-6']) {
      assert.ok(!reported.has(account), `${account} was reported`);
    }
  });

  it('does not take in a benign shop, the friend who links its page, or its audience', () => {
    // A seller's shape and a link a related account shares are what any shop and its staff look like.
    const { hub, friend, audience } = platform.benignShop;
    const hubIndex = graph.externalIds.indexOf(hub);
    assert.ok(hubIndex >= 0 && audience.length >= 50);
    for (const account of [hub, friend, ...audience]) assert.ok(!reported.has(account), `${account} was reported`);
  });

  it('keeps two networks that share a listed term apart, as two candidates', () => {
    const shared = seedlessPlatform({ background: 1000, seed: 5, sharedTermNetworks: true });
    const sharedStream = new EventStreamGraph({ terms: new TermMatcher(shared.termLists) });
    for (const event of shared.events) sharedStream.add(event);
    const found = discoverCandidateNetworks(sharedStream.build());
    const candidateOf = (account: string) => found.candidates.findIndex((c) => c.members.some((m) => m.externalId === account));
    // Each circle's found members (most of it) are one candidate, and the two are different candidates.
    const [deltaCandidate, epsilonCandidate] = shared.termCircles!.map((circle, i) => {
      const found = circle.map(candidateOf).filter((c) => c >= 0);
      assert.ok(found.length >= 0.7 * circle.length, `circle ${i}: ${found.length} of ${circle.length} found`);
      assert.equal(new Set(found).size, 1, `circle ${i} in candidates ${[...new Set(found)]}`);
      return found[0];
    });
    assert.notEqual(deltaCandidate, epsilonCandidate);
    // The sparse network uses the same term too, and is a third candidate.
    const sparseCandidates = new Set(shared.sparse.map(candidateOf).filter((c) => c >= 0));
    assert.ok(sparseCandidates.size >= 1 && !sparseCandidates.has(deltaCandidate) && !sparseCandidates.has(epsilonCandidate), `${[...sparseCandidates]}`);
  });

  it('counts an ordinary community\'s hashtags as one piece of evidence, however many of them co-occur with term matches', () => {
    // Some network members belong to an ordinary community and use its hashtags; so do
    // twenty others who use no term at all. The hashtags co-occur with term matches, and each
    // is weak evidence; an account using all eight is in that community, not in the network.
    const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
    const stream = new EventStreamGraph({ terms: new TermMatcher(platform.termLists) });
    const background = Array.from({ length: 1000 }, (_, i) => `person-${i}`);
    for (const account of background) stream.add({ type: 'hashtag', occurred_at: at, actor: account, hashtag: `#hobby-${background.indexOf(account) % 20}` });
    const termUsers = Array.from({ length: 20 }, (_, i) => `coder-${i}`);
    const neighbours = Array.from({ length: 20 }, (_, i) => `neighbour-${i}`);
    for (const account of termUsers) {
      stream.add({ type: 'search', occurred_at: at, actor: account, query: 'term-alpha' });
      stream.add({ type: 'hashtag', occurred_at: at, actor: account, hashtag: '#tag-alpha' });
    }
    // Each uses about six of the eight, chosen at random, so no hashtag merely repeats another.
    const random = seededRandom(7);
    for (const account of [...termUsers, ...neighbours]) {
      for (let t = 0; t < 8; t++) if (random() < 0.75) stream.add({ type: 'hashtag', occurred_at: at, actor: account, hashtag: `#street-${t}` });
    }
    const communityGraph = stream.build();
    const found = discoverCandidateNetworks(communityGraph);
    const members = new Set(found.candidates.flatMap((c) => c.members.map((m) => m.externalId)));
    const street = found.featureWeights.suspicion[communityGraph.featureValues.indexOf(hashtagFeature('#street-0'))];
    assert.ok(street > 0, 'the community hashtags co-occur with term matches');
    assert.ok(termUsers.filter((a) => members.has(a)).length >= 16, `term users found: ${termUsers.filter((a) => members.has(a)).length}`);
    for (const account of neighbours) assert.ok(!members.has(account), `${account} was reported`);
    const coded = found.candidates.flatMap((c) => c.members).find((m) => m.externalId === 'coder-0')!.evidence.filter((e) => e.signal === 'coded_feature' && e.feature?.origin === 'co_occurrence');
    assert.ok(coded.length >= 3, JSON.stringify(coded.map((e) => [e.feature?.value, e.weight])));
    assert.ok(coded.every((item, i) => i === 0 || item.weight <= coded[i - 1].weight / 2 + 0.001), JSON.stringify(coded.map((e) => e.weight)));
  });

  it('weights features by how unusual they are, term matches most, and expands to co-occurring hashtags', () => {
    const { specificity, suspicion, evidence, aliasOf } = result.featureWeights;
    const daily = featureIndex('hashtag', hashtagFeature('#daily'));
    const garden = featureIndex('hashtag', hashtagFeature('#garden'));
    const beta = featureIndex('hashtag', hashtagFeature('#tag-beta'));
    const alpha = featureIndex('hashtag', hashtagFeature('#tag-alpha'));
    const term = featureIndex('term', 'codes:t1');
    assert.ok(daily >= 0 && garden >= 0 && beta >= 0 && alpha >= 0 && term >= 0);
    // Used by ~2,200 of ~3,200 accounts: above the limit, it links nothing.
    assert.equal(specificity[daily], 0);
    // ~300 users against ~40: less specific, though both are ordinary hashtags.
    assert.ok(specificity[garden] < specificity[beta] * 0.7, `${specificity[garden]} vs ${specificity[beta]}`);
    assert.equal(suspicion[garden], 0);
    assert.equal(suspicion[term], 1);
    // tag-beta is in no list; it is suspicious because its users are the term-matched ones, and weighs less than a term.
    assert.ok(suspicion[beta] > 0 && evidence[beta] < evidence[term], `${evidence[beta]} vs ${evidence[term]}`);
    // The listed hashtag is the term itself, not a second piece of evidence.
    assert.equal(aliasOf[alpha], term);
    assert.equal(suspicion[alpha], 0);
  });

  it('gives every candidate and member its evidence, and labels nobody', () => {
    for (const candidate of result.candidates) {
      assert.equal(candidate.status, 'candidate');
      assert.match(candidate.summary.text, /not confirmed/);
      assert.ok(candidate.score > 0);
      for (const member of candidate.members) assert.ok(member.evidence.length > 0 && member.evidence.every((item) => item.weight > 0 && item.text), member.externalId);
    }
    const sparseCandidate = result.candidates.find((c) => c.members.some((m) => platform.sparse.includes(m.externalId)))!;
    const origins = new Set(sparseCandidate.summary.features.map((f) => f.origin));
    assert.ok(origins.has('term_list') && origins.has('co_occurrence'), JSON.stringify(sparseCandidate.summary.features));
    const starCandidate = result.candidates.find((c) => c.members.some((m) => m.externalId === platform.star.sellers[0]))!;
    assert.ok(starCandidate.summary.features.some((f) => f.origin === 'shared_link' && f.value === 'offsite.example/alpha-shop'));
    assert.ok(starCandidate.summary.bursts.length > 0 && starCandidate.summary.signals.new_account_burst >= 10);
    assert.ok(graph.label.every((label) => label === LABEL_NONE));
  });

  it('counts hash matches as evidence', () => {
    // Two ordinary accounts that follow each other, each with a matched upload, and two more they follow.
    const a = graph.externalIds.indexOf('user-100');
    const friends: number[] = [];
    for (let k = graph.out.offsets[a]; k < graph.out.offsets[a + 1] && friends.length < 3; k++) friends.push(graph.out.targets[k]);
    const hashMatches = new Map([a, ...friends].map((account) => [account, 1]));
    const withMatches = discoverCandidateNetworks(graph, { hashMatches });
    const found = withMatches.candidates.find((c) => c.members.some((m) => m.account === a));
    assert.ok(found, 'accounts with hash matches that interact form a candidate');
    assert.ok(found.members.every((m) => m.evidence.some((item) => item.signal === 'hash_match')));
  });

  it('leaves out a group most of whose members a reviewer already confirmed', () => {
    const labelled = new EventStreamGraph({ terms: new TermMatcher(platform.termLists) });
    for (const event of platform.events) labelled.add(event);
    for (const account of [...platform.star.sellers, ...platform.star.buyers]) labelled.label(account, 'confirmed');
    const known = discoverCandidateNetworks(labelled.build());
    assert.equal(known.stats.knownGroups, 1);
    assert.ok(!known.candidates.some((c) => c.members.some((m) => platform.star.sellers.includes(m.externalId))));
    assert.ok(known.candidates.some((c) => c.members.some((m) => platform.sparse.includes(m.externalId))));
  });

  it('keeps celebrities out where they are half the platform\'s audience and the star\'s burst follows them too', () => {
    for (const seed of [1, 4]) {
      const small = seedlessPlatform({ background: 1000, seed });
      const smallStream = new EventStreamGraph({ terms: new TermMatcher(small.termLists) });
      for (const event of small.events) smallStream.add(event);
      const found = discoverCandidateNetworks(smallStream.build());
      const members = found.candidates.flatMap((c) => c.members.map((m) => m.externalId));
      const planted = new Set([...small.sparse, ...small.star.sellers, ...small.star.buyers]);
      assert.ok(members.filter((m) => planted.has(m)).length / members.length >= 0.9, `seed ${seed}: ${members.filter((m) => !planted.has(m))}`);
      for (const celebrity of small.celebrities) assert.ok(!members.includes(celebrity), `seed ${seed}: ${celebrity}`);
    }
  });

  it('splits two stars bridged by six shared buyers into two candidates, and keeps each star whole', () => {
    const bridged = seedlessPlatform({ background: 1000, seed: 3, bridged: true });
    const bridgedStream = new EventStreamGraph({ terms: new TermMatcher(bridged.termLists) });
    for (const event of bridged.events) bridgedStream.add(event);
    const bridgedGraph = bridgedStream.build();
    const candidateOf = (found: ReturnType<typeof discoverCandidateNetworks>, account: string) => found.candidates.findIndex((c) => c.members.some((m) => m.externalId === account));
    const split = discoverCandidateNetworks(bridgedGraph);
    const first = candidateOf(split, bridged.star.sellers[0]);
    const second = candidateOf(split, bridged.secondStar!.sellers[0]);
    assert.ok(first >= 0 && second >= 0 && first !== second, `${first} ${second}`);
    for (const account of [...bridged.star.sellers, ...bridged.star.buyers.slice(6)]) assert.equal(candidateOf(split, account), first, account);
    for (const account of [...bridged.secondStar!.sellers, ...bridged.secondStar!.buyers]) assert.equal(candidateOf(split, account), second, account);
    // Kept whole (splitShare 0), the bridge joins them: the split is what tells them apart.
    const whole = discoverCandidateNetworks(bridgedGraph, { splitShare: 0 });
    assert.equal(candidateOf(whole, bridged.star.sellers[0]), candidateOf(whole, bridged.secondStar!.sellers[0]));
  });

  it('measures bursts against the platform\'s own creation: a launch day is no burst, eight accounts on a quiet day are', () => {
    const day = (d: number, hour = 0) => new Date(Date.UTC(2026, 0, 1 + d, hour)).toISOString();
    const launch = new EventStreamGraph();
    for (let i = 0; i < 400; i++) launch.add({ type: 'account_created', occurred_at: day(0, i % 20), account: `early-${i}` });
    for (let i = 0; i < 100; i++) launch.add({ type: 'account_created', occurred_at: day(1 + i), account: `later-${i}` });
    for (let i = 0; i < 8; i++) launch.add({ type: 'account_created', occurred_at: day(50, i), account: `wave-${i}` });
    for (let i = 0; i < 30; i++) launch.add({ type: 'hashtag', occurred_at: day(101), actor: `early-${i}`, hashtag: '#launch-day' });
    for (let i = 0; i < 8; i++) launch.add({ type: 'hashtag', occurred_at: day(101), actor: `wave-${i}`, hashtag: '#wave' });
    for (let i = 0; i < 8; i++) launch.add({ type: 'hashtag', occurred_at: day(101), actor: `later-${i * 10 + 5}`, hashtag: '#wave' });
    const launchGraph = launch.build();
    const options = resolveDiscoveryOptions(launchGraph.accountCount);
    const bursts = findBursts(launchGraph, weighFeatures(launchGraph, options), [], options, new Uint8Array(launchGraph.accountCount));
    const burstMembers = bursts.bursts.map((burst) => burst.accounts.map((a) => launchGraph.externalIds[a]).sort());
    assert.deepEqual(burstMembers, [Array.from({ length: 8 }, (_, i) => `wave-${i}`)]);
  });

  it('ignores a burst that chance alone explains', () => {
    assert.ok(Math.abs(poissonTail(2, 0) - 1) < 1e-12);
    assert.ok(Math.abs(poissonTail(2, 1) - (1 - Math.exp(-2))) < 1e-12);
    assert.ok(poissonTail(1.7, 10) < 1e-4 && poissonTail(1.7, 5) > 0.02);
  });
});
