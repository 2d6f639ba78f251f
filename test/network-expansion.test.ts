import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../src/demo/benign-images.ts';
import { type AccountGraph, AccountGraphBuilder, LABEL_CONFIRMED, LABEL_NONE, LABEL_SUSPECTED } from '../src/graph/account-graph.ts';
import { detectNetworks } from '../src/graph/network-detector.ts';
import { calibrateRisk, riskOf } from '../src/graph/risk-calibration.ts';

/**
 * A platform of `ordinary` accounts in communities of 30 that follow within their community,
 * a celebrity every account follows, and planted groups added by `plant`. Ids are store ids.
 */
function platform(plant: (b: AccountGraphBuilder, nextId: () => number, ordinary: number[], celebrity: number) => void, ordinaryCount = 600): { graph: AccountGraph; celebrity: number } {
  const random = seededRandom(5);
  const b = new AccountGraphBuilder();
  let id = 0;
  const nextId = () => {
    id++;
    b.addAccount({ storeId: id, externalId: `a-${id}`, createdAt: 0 });
    return id;
  };
  const ordinary = Array.from({ length: ordinaryCount }, nextId);
  const celebrity = nextId();
  ordinary.forEach((account, i) => {
    const community = Math.floor(i / 30);
    for (let k = 0; k < 6; k++) {
      const other = ordinary[community * 30 + Math.floor(random() * 30)];
      if (other !== account) b.addInteraction(account, other, 'follow', 1);
    }
    if (random() < 0.3) b.addInteraction(account, ordinary[community * 30 + Math.floor(random() * 30)], 'like', 1);
    b.addInteraction(account, celebrity, 'follow', 1);
    b.addFeature(account, 'hashtag', `topic-${community}`);
  });
  plant(b, nextId, ordinary, celebrity);
  return { graph: b.build(), celebrity };
}

/** A star: buyers follow and message their sellers, follow two ordinary accounts and the celebrity; `dense` also ties every buyer pair. */
function plantStar(b: AccountGraphBuilder, nextId: () => number, ordinary: number[], sellers: number, buyers: number, dense: boolean, celebrity?: number) {
  const random = seededRandom(sellers * 100 + buyers);
  const s = Array.from({ length: sellers }, nextId);
  const y = Array.from({ length: buyers }, nextId);
  for (const seller of s) b.addFeature(seller, 'link', `https://offsite.example/${seller}`);
  y.forEach((buyer, i) => {
    const seller = s[i % sellers];
    b.addInteraction(buyer, seller, 'follow', 1);
    b.addInteraction(buyer, seller, 'message', 2);
    b.addInteraction(seller, buyer, 'message', 1);
    for (let k = 0; k < 2; k++) b.addInteraction(buyer, ordinary[Math.floor(random() * ordinary.length)], 'follow', 1);
    if (celebrity !== undefined) b.addInteraction(buyer, celebrity, 'follow', 1);
    if (dense) for (const other of y) if (other !== buyer) b.addInteraction(buyer, other, 'message', 2);
  });
  return { sellers: s, buyers: y };
}

function label(graph: AccountGraph, storeIds: number[]) {
  for (const id of storeIds) graph.label[graph.externalIds.indexOf(`a-${id}`)] = LABEL_CONFIRMED;
}

const indexOf = (graph: AccountGraph, storeId: number) => graph.externalIds.indexOf(`a-${storeId}`);

describe('seed expansion corrected for popularity', () => {
  let planted: { sellers: number[]; buyers: number[] } = { sellers: [], buyers: [] };
  // Every buyer of the star follows the celebrity too.
  const { graph, celebrity } = platform((b, nextId, ordinary, celebrity) => {
    planted = plantStar(b, nextId, ordinary, 2, 24, false, celebrity);
  });
  label(graph, [planted.buyers[0], planted.buyers[8], planted.buyers[16]]);
  const members = new Set([...planted.sellers, ...planted.buyers].map((id) => indexOf(graph, id)));
  const celebrityIndex = indexOf(graph, celebrity);

  it('a celebrity everyone follows is not a lead, and is in no network', () => {
    const result = detectNetworks(graph, { leadLimit: 500 });
    const top = result.leads.slice(0, members.size).map((lead) => lead.account);
    assert.ok(!top.includes(celebrityIndex), `the celebrity ranks ${result.leads.findIndex((l) => l.account === celebrityIndex) + 1}`);
    assert.ok(!result.networks.some((network) => network.members.some((m) => m.account === celebrityIndex)));
    const celebrityLead = result.leads.find((lead) => lead.account === celebrityIndex);
    assert.ok(!celebrityLead || celebrityLead.risk < 0.2, `celebrity risk ${celebrityLead?.risk}`);
    // Raw scores put it near the top: the correction is what keeps it out.
    const raw = detectNetworks(graph, { leadLimit: 500, normalisation: 'none' });
    const rawRank = raw.leads.findIndex((lead) => lead.account === celebrityIndex);
    assert.ok(rawRank >= 0 && rawRank < 5, `uncorrected, the celebrity ranks ${rawRank + 1}`);
  });

  it('risk is a calibrated probability: stored with the run, monotone in score, and high for members', () => {
    const result = detectNetworks(graph, { leadLimit: 500 });
    const calibration = result.calibration;
    assert.ok(calibration, 'three live seeds give a calibration');
    assert.equal(calibration.heldOut, 3);
    assert.ok(calibration.informative);
    for (let i = 1; i < result.leads.length; i++) {
      assert.ok(result.leads[i].score <= result.leads[i - 1].score);
      assert.ok(result.leads[i].risk <= result.leads[i - 1].risk, `risk rises from ${result.leads[i - 1].risk} to ${result.leads[i].risk} as score falls`);
    }
    for (const lead of result.leads) assert.equal(lead.risk, riskOf(calibration, lead.score));
    const memberRisk = result.leads.filter((lead) => members.has(lead.account)).map((lead) => lead.risk);
    const otherRisk = result.leads.filter((lead) => !members.has(lead.account)).map((lead) => lead.risk);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
    assert.ok(mean(memberRisk) > 10 * mean(otherRisk), `members' mean risk ${mean(memberRisk)}, others' ${mean(otherRisk)}`);
    // What a probability promises: of the accounts it puts at 0.5 or more, at least half are members.
    const high = result.leads.filter((lead) => lead.risk >= 0.5);
    assert.ok(high.length > 0 && high.filter((lead) => members.has(lead.account)).length >= high.length / 2, `${high.filter((lead) => members.has(lead.account)).length} of ${high.length} leads at risk >= 0.5 are members`);
  });
});

describe('seed groups', () => {
  it('two seeded networks of very different density are both grouped: the dense one does not crowd out the sparse one', () => {
    let dense: { sellers: number[]; buyers: number[] } = { sellers: [], buyers: [] };
    let sparse: { sellers: number[]; buyers: number[] } = { sellers: [], buyers: [] };
    const { graph } = platform((b, nextId, ordinary) => {
      dense = plantStar(b, nextId, ordinary, 3, 40, true);
      sparse = plantStar(b, nextId, ordinary, 1, 16, false);
    });
    label(graph, [dense.buyers[0], dense.buyers[20], sparse.buyers[0], sparse.buyers[8]]);
    const result = detectNetworks(graph, { leadLimit: 500 });
    const reported = new Set(result.networks.flatMap((network) => network.members.map((m) => m.account)));
    const recall = (group: { sellers: number[]; buyers: number[] }) => {
      const all = [...group.sellers, ...group.buyers].map((id) => indexOf(graph, id));
      return all.filter((a) => reported.has(a)).length / all.length;
    };
    assert.ok(recall(dense) >= 0.9, `dense network recall ${recall(dense)}`);
    assert.ok(recall(sparse) >= 0.7, `sparse network recall ${recall(sparse)}`);
    const ordinaryReported = [...reported].filter((a) => Number(graph.externalIds[a].slice(2)) <= 600).length;
    assert.ok(ordinaryReported <= 3, `${ordinaryReported} ordinary accounts reported`);
  });
});

/**
 * A camouflaged star on 3000 ordinary accounts: 40 buyers, each following one of two sellers
 * and its own community. Buyer 1 uses none of the network's terms or hashtags.
 */
function camouflagedStar() {
  // Too sparse for community detection on its own: 40 buyers tied only by one follow each
  // to one of two sellers, and by the coded term and hashtag some of them use.
  const random = seededRandom(17);
  let sellers: number[] = [];
  let buyers: number[] = [];
  const { graph } = platform((b, nextId, ordinary, celebrity) => {
    sellers = [nextId(), nextId()];
    buyers = Array.from({ length: 40 }, nextId);
    for (const seller of sellers) {
      b.addFeature(seller, 'link', `https://offsite.example/${seller}`);
      b.addFeature(seller, 'term', 'codes:a');
      b.addFeature(seller, 'hashtag', 'net-tag');
    }
    buyers.forEach((buyer, i) => {
      b.addInteraction(buyer, sellers[i % 2], 'follow', 1);
      const community = Math.floor(random() * 100);
      for (let k = 0; k < 4; k++) b.addInteraction(buyer, ordinary[community * 30 + Math.floor(random() * 30)], 'follow', 1);
      b.addInteraction(buyer, celebrity, 'follow', 1);
      // The network's coded vocabulary: a listed term and two hashtags that go with it
      // (used by most buyers; buyer 1 uses none, and has nothing but its follow to show).
      const [term, tag, tag2] = [random() < 0.6, random() < 0.6, random() < 0.5].map((used) => used && i !== 1);
      if (term) b.addFeature(buyer, 'term', 'codes:a');
      if (tag) b.addFeature(buyer, 'hashtag', 'net-tag');
      if (tag2) b.addFeature(buyer, 'hashtag', 'net-tag-2');
    });
  }, 3000);
  return { graph, sellers, buyers, starMembers: new Set([...sellers, ...buyers].map((id) => indexOf(graph, id))) };
}

describe('seeded detection joined with seedless candidates', () => {
  it("a camouflaged star (each buyer follows one seller and its own community, says little) is reported whole from one seed", () => {
    const { graph, sellers, buyers, starMembers } = camouflagedStar();
    label(graph, [buyers[0]]);
    const all = [...sellers, ...buyers].map((id) => indexOf(graph, id)).filter((a) => a !== indexOf(graph, buyers[0]));
    const recall = (result: ReturnType<typeof detectNetworks>) => {
      const reported = new Set(result.networks.flatMap((network) => network.members.map((m) => m.account)));
      return { recall: all.filter((a) => reported.has(a)).length / all.length, ordinary: [...reported].filter((a) => Number(graph.externalIds[a].slice(2)) <= 3001).length };
    };
    const joined = recall(detectNetworks(graph, { leadLimit: 500 }));
    const alone = recall(detectNetworks(graph, { leadLimit: 500, seedlessCandidates: false }));
    assert.ok(joined.recall >= 0.8, `recall with seedless candidates ${joined.recall}`);
    assert.ok(alone.recall < 0.5, `without them the star falls apart (recall ${alone.recall}), which is what this test is about`);
    assert.ok(joined.ordinary <= 2, `${joined.ordinary} ordinary accounts or the celebrity reported`);

    // A confirmed buyer with no evidence of its own (no coded term or hashtag) is outside the
    // candidate; it follows the candidate's seller, which is what takes it and the star in.
    const quiet = indexOf(graph, buyers[1]);
    graph.label[indexOf(graph, buyers[0])] = LABEL_NONE;
    graph.label[quiet] = LABEL_CONFIRMED;
    const fromQuiet = detectNetworks(graph, { leadLimit: 500 });
    const network = fromQuiet.networks.find((n) => n.members.some((m) => m.account === quiet));
    assert.ok(network, 'the quiet seed is in a network');
    const inStar = network.members.filter((m) => starMembers.has(m.account)).length;
    assert.ok(inStar >= 0.8 * starMembers.size, `${inStar} of ${starMembers.size} star members in the quiet seed's network`);
  });

  it('only a seed a person confirmed takes a candidate in: a suspected or hash-matched buyer following its seller leaves it a candidate', () => {
    const { graph, buyers, starMembers } = camouflagedStar();
    const quiet = indexOf(graph, buyers[1]);
    const largestStarShare = (result: ReturnType<typeof detectNetworks>) =>
      Math.max(0, ...result.networks.map((n) => n.members.filter((m) => starMembers.has(m.account)).length / starMembers.size));
    graph.label[quiet] = LABEL_SUSPECTED;
    const suspected = largestStarShare(detectNetworks(graph, { leadLimit: 500 }));
    assert.ok(suspected < 0.5, `a suspected seed made ${suspected} of the star a reported network`);
    graph.label[quiet] = LABEL_CONFIRMED;
    graph.labelAutomatic[quiet] = 1;
    const hashMatched = largestStarShare(detectNetworks(graph, { leadLimit: 500 }));
    assert.ok(hashMatched < 0.5, `a seed confirmed only by a hash match made ${hashMatched} of the star a reported network`);
    graph.labelAutomatic[quiet] = 0;
    const confirmed = largestStarShare(detectNetworks(graph, { leadLimit: 500 }));
    assert.ok(confirmed >= 0.8, `a seed a reviewer confirmed made only ${confirmed} of the star a reported network`);
  });
});

describe('risk calibration', () => {
  it('is monotone in score for any fit whose held-out seeds outscore the rest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-6, max: 1, noNaN: true }), { minLength: 2, maxLength: 20 }),
        fc.array(fc.double({ min: 1e-9, max: 1e-3, noNaN: true }), { minLength: 5, maxLength: 200 }),
        fc.array(fc.double({ min: 1e-9, max: 1, noNaN: true }), { minLength: 2, maxLength: 50 }),
        (heldOut, candidates, probes) => {
          const calibration = calibrateRisk(heldOut, Float64Array.from(candidates));
          const sorted = [...probes].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++) assert.ok(riskOf(calibration, sorted[i]) >= riskOf(calibration, sorted[i - 1]) - 1e-12);
          for (const x of probes) assert.ok(riskOf(calibration, x) >= 0 && riskOf(calibration, x) <= 1);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('says so instead of guessing when held-out seeds score no better than everyone else', () => {
    const candidates = Float64Array.from({ length: 200 }, (_, i) => (i % 10) + 1);
    const calibration = calibrateRisk([1, 2, 1, 2], candidates);
    assert.equal(calibration.informative, false);
    assert.equal(riskOf(calibration, 10), 0);
    assert.equal(calibrateRisk([0.5], candidates).informative, false, 'one reached seed is not a calibration');
  });
});
