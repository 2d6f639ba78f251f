import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { FOLLOWER_OVERLAP, jaccard, syntheticPlatform } from '../src/demo/synthetic-platform.ts';
import { platformEventSchema, type PlatformEventInput } from '../src/ingest/platform-events.ts';

type EventOf<K extends PlatformEventInput['type']> = Extract<PlatformEventInput, { type: K }>;

const START = new Date('2026-01-01T00:00:00Z');
const platform = syntheticPlatform({ seed: 7, accounts: 3000, networks: 3, networkSize: 40, impressionViewers: 300 });
const events = [...platform.events()];

/** Everything the assertions below ask about, gathered in one pass over the stream. */
const index = (() => {
  const created = new Map<string, number>();
  const deleted = new Map<string, { at: number; reason: string | undefined }>();
  const identifiers = new Map<string, Map<string, string>>();
  const following = new Map<string, Set<string>>();
  const followers = new Map<string, Set<string>>();
  const messaged = new Map<string, Set<string>>();
  const links = new Map<string, string[]>();
  const hashtags = new Map<string, string[]>();
  const searches = new Map<string, string[]>();
  const attributes = new Map<string, EventOf<'account_attributes'>>();
  const impressions: { at: number; viewer: string; shown: string; surface: string }[] = [];
  const follows: EventOf<'follow'>[] = [];
  const add = (map: Map<string, Set<string>>, key: string, value: string) => {
    if (!map.has(key)) map.set(key, new Set());
    map.get(key)!.add(value);
  };
  const push = <T>(map: Map<string, T[]>, key: string, value: T) => {
    if (!map.has(key)) map.set(key, []);
    map.get(key)!.push(value);
  };
  for (const event of events) {
    const at = Date.parse(event.occurred_at);
    switch (event.type) {
      case 'account_created':
        assert.equal(created.has(event.account), false, `${event.account} created twice`);
        created.set(event.account, at);
        break;
      case 'account_deleted':
        deleted.set(event.account, { at, reason: event.reason });
        break;
      case 'account_attributes':
        attributes.set(event.account, event);
        break;
      case 'identifier':
        if (!identifiers.has(event.account)) identifiers.set(event.account, new Map());
        identifiers.get(event.account)!.set(event.kind, event.value);
        break;
      case 'follow':
        add(following, event.actor, event.target);
        add(followers, event.target, event.actor);
        follows.push(event);
        break;
      case 'message':
        add(messaged, event.actor, event.target);
        break;
      case 'profile_link':
        push(links, event.actor, event.url);
        break;
      case 'hashtag':
        push(hashtags, event.actor, event.hashtag);
        break;
      case 'search':
        push(searches, event.actor, event.query ?? '');
        break;
      case 'recommendation_impression':
        impressions.push({ at, viewer: event.viewer, shown: event.shown, surface: event.surface });
        break;
      default:
        break;
    }
  }
  return { created, deleted, identifiers, following, followers, messaged, links, hashtags, searches, attributes, impressions, follows };
})();

const members = new Set(platform.truth.networks.flatMap((n) => n.members));
const removed = new Set(platform.truth.removed);
const ordinary = [...index.created.keys()].filter((a) => !members.has(a));

function accountsOf(event: PlatformEventInput): string[] {
  switch (event.type) {
    case 'account_created':
    case 'account_deleted':
    case 'account_attributes':
    case 'identifier':
      return [event.account];
    case 'recommendation_impression':
      return [event.viewer, event.shown];
    case 'profile_link':
    case 'hashtag':
    case 'search':
      return [event.actor];
    default:
      return [event.actor, event.target];
  }
}

function digest(stream: Iterable<PlatformEventInput>): string {
  const hash = createHash('sha256');
  for (const event of stream) hash.update(JSON.stringify(event)).update('\n');
  return hash.digest('hex');
}

describe('synthetic platform: the stream', () => {
  it('every event passes the wire schema unchanged', () => {
    for (const event of events) {
      const parsed = platformEventSchema.parse(event);
      // Parsing adds only the schema's default reason; anything else would mean the
      // generator sends fields the schema strips or rewrites.
      assert.deepEqual({ ...parsed }, { ...event, ...(event.type === 'account_deleted' ? { reason: event.reason ?? 'other' } : {}) });
    }
  });

  it('counts are known up front and match the stream', () => {
    const seen: Record<string, number> = {};
    for (const event of events) seen[event.type] = (seen[event.type] ?? 0) + 1;
    for (const [type, count] of Object.entries(platform.counts)) assert.equal(seen[type] ?? 0, count, type);
    for (const type of Object.keys(seen)) assert.ok(type in platform.counts, type);
    assert.equal(platform.counts.account_created, platform.accountCount);
    for (const type of ['follow', 'message', 'comment', 'like', 'share', 'hashtag', 'search', 'identifier', 'profile_link', 'recommendation_impression', 'account_deleted']) {
      assert.ok(platform.counts[type] > 0, `no ${type} events`);
    }
  });

  it('is in time order within the period, with unique event ids', () => {
    let last = -Infinity;
    const ids = new Set<string>();
    for (const event of events) {
      const at = Date.parse(event.occurred_at);
      assert.ok(at >= last, `${event.event_id} goes back in time`);
      assert.ok(at >= START.getTime() && at < platform.end.getTime());
      last = at;
      assert.ok(event.event_id);
      ids.add(event.event_id);
    }
    assert.equal(ids.size, events.length);
  });

  it('mentions an account only while it exists', () => {
    for (const event of events) {
      if (event.type === 'account_created') continue;
      const at = Date.parse(event.occurred_at);
      for (const account of accountsOf(event)) {
        const created = index.created.get(account);
        assert.ok(created !== undefined && created <= at, `${event.type} ${event.event_id} mentions ${account} before it exists`);
        const deleted = index.deleted.get(account);
        if (event.type !== 'account_deleted') assert.ok(deleted === undefined || at < deleted.at, `${event.type} ${event.event_id} mentions removed ${account}`);
      }
    }
  });

  it('is deterministic for a seed, different across seeds, and fresh on every call', () => {
    const options = { accounts: 400, networks: 1, networkSize: 20, impressionViewers: 50, days: 30 };
    const a = syntheticPlatform({ ...options, seed: 3 });
    const b = syntheticPlatform({ ...options, seed: 3 });
    const c = syntheticPlatform({ ...options, seed: 4 });
    const first = digest(a.events());
    assert.equal(digest(a.events()), first);
    assert.equal(digest(b.events()), first);
    assert.deepEqual(b.truth, a.truth);
    assert.deepEqual(b.counts, a.counts);
    assert.notEqual(digest(c.events()), first);
    // A single iterable can be walked twice too.
    const iterable = a.events();
    assert.equal(digest(iterable), digest(iterable));
  });

  it('honours start and rejects impossible options', () => {
    const start = new Date('2027-03-05T10:17:23Z');
    const shifted = syntheticPlatform({ accounts: 100, networks: 0, start, days: 14 });
    const stream = [...shifted.events()];
    assert.ok(Date.parse(stream[0].occurred_at) >= start.getTime());
    assert.ok(Date.parse(stream[stream.length - 1].occurred_at) < shifted.end.getTime());
    assert.deepEqual(shifted.truth.networks, []);
    assert.deepEqual(shifted.truth.removed, []);
    assert.throws(() => syntheticPlatform({ accounts: 0, networks: 1 }), RangeError);
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 1, removalRate: 2 }), RangeError);
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 1, networkSize: 1 }), RangeError);
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 1, days: 3 }), RangeError);
  });
});

describe('synthetic platform: ordinary accounts', () => {
  it('about a tenth are minors, as the attributes say', () => {
    const minors = new Set(platform.truth.minors);
    const share = minors.size / ordinary.length;
    assert.ok(share > 0.07 && share < 0.13, `minor share ${share}`);
    for (const [account, event] of index.attributes) {
      assert.equal(event.minor, minors.has(account), account);
      if (event.minor) assert.ok(event.minor_basis === 'declared' || event.minor_basis === 'estimated');
    }
    assert.equal(index.attributes.size, platform.accountCount);
    assert.ok([...index.attributes.values()].some((event) => event.verified));
    for (const account of minors) assert.equal(members.has(account), false);
  });

  it('follower counts are heavy-tailed', () => {
    const counts = [...index.created.keys()].map((a) => index.followers.get(a)?.size ?? 0).sort((x, y) => y - x);
    const mean = counts.reduce((s, x) => s + x, 0) / counts.length;
    assert.ok(mean > 8 && mean < 20, `mean followers ${mean}`);
    assert.ok(counts[0] > 8 * mean, `most followed has ${counts[0]}, mean ${mean}`);
    // Many accounts far below the mean.
    assert.ok(counts.filter((c) => c < mean / 2).length > counts.length * 0.2);
  });

  it('follows stay mostly in hashtag communities, and some come from the recommender', () => {
    // An account's community shows in its tags `tag-<community>-<k>`.
    const home = new Map<string, string>();
    for (const [account, tags] of index.hashtags) {
      const tally = new Map<string, number>();
      for (const tag of tags) {
        const match = /^tag-(\d+)-\d+$/.exec(tag);
        if (match) tally.set(match[1], (tally.get(match[1]) ?? 0) + 1);
      }
      const best = [...tally].sort((x, y) => y[1] - x[1])[0];
      if (best && !members.has(account)) home.set(account, best[0]);
    }
    let same = 0;
    let known = 0;
    for (const event of index.follows) {
      const a = home.get(event.actor);
      const b = home.get(event.target);
      if (a === undefined || b === undefined) continue;
      known++;
      if (a === b) same++;
    }
    assert.ok(known > 1000);
    assert.ok(same / known > 0.5, `same community ${same / known}`);
    const viaRecommendation = index.follows.filter((f) => f.via === 'recommendation:suggested').length;
    assert.ok(viaRecommendation > index.follows.length * 0.05 && viaRecommendation < index.follows.length * 0.5, `${viaRecommendation} of ${index.follows.length}`);
  });

  it('ip ranges are shared widely, devices and emails never by chance', () => {
    const byRange = new Map<string, number>();
    const devices = new Map<string, string[]>();
    for (const [account, ids] of index.identifiers) {
      assert.ok(ids.has('device') && ids.has('email') && ids.has('ip24'), account);
      assert.match(ids.get('device')!, /^[0-9a-f]{32}$/);
      assert.match(ids.get('ip24')!, /^\d+\.\d+\.\d+\.0\/24$/);
      byRange.set(ids.get('ip24')!, (byRange.get(ids.get('ip24')!) ?? 0) + 1);
      const list = devices.get(ids.get('device')!) ?? [];
      list.push(account);
      devices.set(ids.get('device')!, list);
    }
    assert.ok(Math.max(...byRange.values()) >= 20);
    const returned = new Set(platform.truth.evasions.map((e) => e.returned));
    for (const [, accounts] of devices) if (accounts.length > 1) assert.ok(accounts.some((a) => returned.has(a)), `device shared by ${accounts}`);
  });
});

describe('synthetic platform: planted networks', () => {
  it('sellers and buyers partition the members, about a tenth sellers', () => {
    assert.equal(platform.truth.networks.length, 3);
    for (const network of platform.truth.networks) {
      assert.deepEqual([...network.sellers, ...network.buyers].sort(), [...network.members].sort());
      assert.equal(new Set(network.members).size, network.members.length);
      assert.ok(network.sellers.length >= 4 && network.sellers.length <= 8, `${network.sellers.length} sellers`);
      for (const account of network.members) assert.ok(index.created.has(account));
    }
    assert.equal(members.size, platform.truth.networks.reduce((s, n) => s + n.members.length, 0));
  });

  it('sellers link off-platform and name an off-site handle', () => {
    for (const network of platform.truth.networks) {
      for (const seller of network.sellers) {
        assert.ok(index.links.get(seller)?.some((url) => url.startsWith('https://offsite.example/shop-')), seller);
        assert.ok(index.identifiers.get(seller)?.has('offsite_handle'), seller);
      }
      for (const buyer of network.buyers) assert.equal(index.identifiers.get(buyer)?.has('offsite_handle'), false);
    }
    // Ordinary accounts link out as well, some to the same site, so the domain alone is weak.
    const ordinaryLinks = ordinary.flatMap((a) => index.links.get(a) ?? []);
    assert.ok(ordinaryLinks.length > 0);
    assert.ok(ordinaryLinks.some((url) => url.startsWith('https://offsite.example/')));
  });

  it('every buyer follows or messages a seller of its network, and buyers message sellers', () => {
    for (const network of platform.truth.networks) {
      const sellers = new Set(network.sellers);
      let messaging = 0;
      for (const buyer of network.buyers) {
        const reached = [...(index.following.get(buyer) ?? []), ...(index.messaged.get(buyer) ?? [])];
        assert.ok(reached.some((a) => sellers.has(a)), `${buyer} never reaches a seller`);
        if ([...(index.messaged.get(buyer) ?? [])].some((a) => sellers.has(a))) messaging++;
      }
      assert.ok(messaging > network.buyers.length / 2, `${messaging} of ${network.buyers.length} buyers message a seller`);
    }
  });

  it('members keep most follows inside their network, some outside, and are not a separate component', () => {
    for (const network of platform.truth.networks) {
      const inside = new Set(network.members);
      let within = 0;
      let out = 0;
      let inFromOutside = 0;
      for (const member of network.members) {
        for (const target of index.following.get(member) ?? []) (inside.has(target) ? within++ : out++);
        for (const follower of index.followers.get(member) ?? []) if (!inside.has(follower)) inFromOutside++;
      }
      const share = within / (within + out + inFromOutside);
      assert.ok(share > 0.5, `inside share ${share}`);
      assert.ok(out > network.members.length, `only ${out} follows out of the network`);
      assert.ok(inFromOutside > 0);
      // The recommender helps the network grow.
      const grown = index.follows.filter((f) => f.via === 'recommendation:suggested' && inside.has(f.actor) && inside.has(f.target)).length;
      assert.ok(grown > 0);
    }
  });

  it('camouflage moves members\' follows out of their network', () => {
    const insideShare = (camouflage: number) => {
      const other = syntheticPlatform({ seed: 5, accounts: 1500, networks: 2, networkSize: 40, impressionViewers: 0, camouflage });
      const network = new Map(other.truth.networks.flatMap((n, k) => n.members.map((m) => [m, k] as const)));
      let within = 0;
      let all = 0;
      for (const event of other.events()) {
        if (event.type !== 'follow' || !network.has(event.actor)) continue;
        all++;
        if (network.get(event.target) === network.get(event.actor)) within++;
      }
      return within / all;
    };
    const open = insideShare(0);
    const hidden = insideShare(0.7);
    assert.ok(open > 0.8, `no camouflage: ${open} inside`);
    assert.ok(hidden < 0.45, `camouflage 0.7: ${hidden} inside`);
  });

  it('network tags and placeholder terms come from members only', () => {
    let termUsers = 0;
    for (const [account, tags] of index.hashtags) {
      for (const tag of tags) {
        assert.match(tag, /^(tag-\d+|tag-\d+-\d+|tag-net\d+-\d+|term-alpha|term-bravo)$/);
        if (tag.startsWith('tag-net') || tag.startsWith('term-')) assert.ok(members.has(account), `${account} uses ${tag}`);
      }
      if (tags.some((t) => t.startsWith('term-'))) termUsers++;
    }
    assert.ok(termUsers > 0);
    for (const network of platform.truth.networks) {
      const k = platform.truth.networks.indexOf(network);
      assert.ok(network.members.filter((m) => index.hashtags.get(m)?.some((t) => t.startsWith(`tag-net${k}-`))).length > network.members.length / 2);
    }
    const termSearchers = [...index.searches].filter(([, queries]) => queries.some((q) => q.startsWith('term-')));
    assert.ok(termSearchers.length > 0);
    for (const [account] of termSearchers) assert.ok(members.has(account));
    assert.ok(ordinary.some((a) => index.searches.get(a)?.some((q) => /^query-\d+$/.test(q))));
  });
});

describe('synthetic platform: removals and ban evasion', () => {
  it('removed accounts are members deleted for enforcement', () => {
    assert.ok(removed.size > 0);
    assert.deepEqual([...index.deleted.keys()].sort(), [...removed].sort());
    for (const account of removed) {
      assert.ok(members.has(account));
      assert.equal(index.deleted.get(account)!.reason, 'enforcement');
    }
    // The removal rate applies to the planted members, before any returned account joins.
    assert.equal(removed.size, Math.round(0.2 * (members.size - platform.truth.evasions.length)));
  });

  it('a returned account is created after the removal and shares exactly what its truth claims', () => {
    assert.equal(platform.truth.evasions.length, Math.round(0.5 * removed.size));
    const kinds = new Set<string>();
    for (const evasion of platform.truth.evasions) {
      assert.ok(removed.has(evasion.removed));
      assert.ok(members.has(evasion.returned), 'a returned account joins its old network');
      assert.ok(index.created.get(evasion.returned)! > index.deleted.get(evasion.removed)!.at);
      assert.ok(evasion.via.length > 0);
      const before = index.identifiers.get(evasion.removed)!;
      const after = index.identifiers.get(evasion.returned)!;
      for (const kind of ['device', 'email', 'phone', 'ip24'] as const) {
        const shared = before.has(kind) && before.get(kind) === after.get(kind);
        assert.equal(shared, evasion.via.includes(kind), `${evasion.returned} ${kind}`);
      }
      const overlap = Math.max(
        jaccard(index.following.get(evasion.removed) ?? new Set<string>(), index.following.get(evasion.returned) ?? new Set<string>()),
        jaccard(index.followers.get(evasion.removed) ?? new Set<string>(), index.followers.get(evasion.returned) ?? new Set<string>()),
      );
      if (evasion.via.includes('followers')) assert.ok(overlap >= FOLLOWER_OVERLAP, `${evasion.returned} overlap ${overlap}`);
      for (const kind of evasion.via) kinds.add(kind);
    }
    // Evidence kinds are drawn stratified, so twelve returns plant every kind at least once.
    assert.deepEqual([...kinds].sort(), ['device', 'email', 'followers', 'ip24', 'phone']);
  });

  it('decoys arrive late and share only an ip range with a removed account', () => {
    assert.ok(platform.truth.decoys.length > 0);
    const removedValues = new Set([...removed].flatMap((a) => ['device', 'email', 'phone'].map((k) => index.identifiers.get(a)?.get(k)).filter((v) => v !== undefined)));
    const returned = new Set(platform.truth.evasions.map((e) => e.returned));
    for (const decoy of platform.truth.decoys) {
      assert.equal(members.has(decoy), false);
      assert.equal(returned.has(decoy), false);
      const ids = index.identifiers.get(decoy)!;
      for (const kind of ['device', 'email', 'phone']) if (ids.has(kind)) assert.equal(removedValues.has(ids.get(kind)!), false, `${decoy} shares ${kind}`);
      const created = index.created.get(decoy)!;
      const match = [...removed].some((r) => index.identifiers.get(r)!.get('ip24') === ids.get('ip24') && index.deleted.get(r)!.at < created);
      assert.ok(match, `${decoy} shares no range with an earlier removal`);
    }
  });
});

describe('synthetic platform: recommendation impressions', () => {
  it('show existing, not yet removed accounts other than the viewer, on the two surfaces', () => {
    assert.equal(index.impressions.length, platform.counts.recommendation_impression);
    assert.ok(index.impressions.length > 300 * 20 * 0.8);
    const surfaces = new Set<string>();
    for (const { at, viewer, shown, surface } of index.impressions) {
      surfaces.add(surface);
      assert.notEqual(viewer, shown);
      for (const account of [viewer, shown]) {
        assert.ok(index.created.get(account)! < at);
        const deleted = index.deleted.get(account);
        assert.ok(deleted === undefined || deleted.at > at);
      }
    }
    assert.deepEqual([...surfaces].sort(), ['recommendation:suggested', 'search']);
  });

  it('suggest network members to members far more than to anyone else: that is how networks spread', () => {
    const tally = { member: { shown: 0, members: 0 }, ordinary: { shown: 0, members: 0 } };
    for (const { viewer, shown, surface } of index.impressions) {
      if (surface !== 'recommendation:suggested') continue;
      const row = members.has(viewer) ? tally.member : tally.ordinary;
      row.shown++;
      if (members.has(shown)) row.members++;
    }
    assert.ok(tally.member.shown > 100 && tally.ordinary.shown > 1000);
    const toMembers = tally.member.members / tally.member.shown;
    const toOthers = tally.ordinary.members / tally.ordinary.shown;
    const base = members.size / platform.accountCount;
    assert.ok(toMembers > 3 * base && toMembers > 5 * toOthers, `members see members in ${toMembers}, others in ${toOthers}, base rate ${base}`);
  });

  it('searches for a placeholder term surface the accounts that post it', () => {
    const termPosters = new Set([...index.hashtags].filter(([, tags]) => tags.some((t) => t.startsWith('term-'))).map(([a]) => a));
    const fromSearch = index.impressions.filter((i) => i.surface === 'search');
    assert.ok(fromSearch.length > 0);
    assert.ok(fromSearch.some((i) => termPosters.has(i.shown) && members.has(i.viewer)));
  });
});

describe('synthetic platform: issue 14 shapes, celebrities and dense benign communities', () => {
  const shaped = syntheticPlatform({
    seed: 9,
    accounts: 3000,
    networks: 0,
    impressionViewers: 0,
    celebrities: 3,
    denseCommunities: 2,
    plantedNetworks: [
      { shape: 'star', sellers: 3, buyers: 30 },
      { shape: 'ring', sellers: 6, buyers: 20 },
      { shape: 'camouflaged', sellers: 3, buyers: 40 },
      { shape: 'sparse', sellers: 3, buyers: 40 },
      { shape: 'star', sellers: 2, buyers: 20, seeded: false, bridgedTo: 0 },
    ],
  });
  const following = new Map<string, Set<string>>();
  const followers = new Map<string, number>();
  const messages = new Map<string, number>();
  const shares = new Set<string>();
  const hashtags = new Map<string, Set<string>>();
  const links = new Map<string, string[]>();
  for (const event of shaped.events()) {
    if (event.type === 'follow') {
      if (!following.has(event.actor)) following.set(event.actor, new Set());
      assert.ok(!following.get(event.actor)!.has(event.target), `${event.actor} follows ${event.target} twice`);
      following.get(event.actor)!.add(event.target);
      followers.set(event.target, (followers.get(event.target) ?? 0) + 1);
    } else if (event.type === 'message') messages.set(`${event.actor}>${event.target}`, (messages.get(`${event.actor}>${event.target}`) ?? 0) + 1);
    else if (event.type === 'share') shares.add(`${event.actor}>${event.target}`);
    else if (event.type === 'hashtag') {
      if (!hashtags.has(event.actor)) hashtags.set(event.actor, new Set());
      hashtags.get(event.actor)!.add(event.hashtag);
    } else if (event.type === 'profile_link') links.set(event.actor, [...(links.get(event.actor) ?? []), event.url]);
  }
  const [star, ring, camouflaged, sparse, bridged] = shaped.truth.networks;
  const outDegree = (accounts: string[]) => accounts.reduce((sum, a) => sum + (following.get(a)?.size ?? 0), 0) / accounts.length;

  it('keeps each network\'s shape, whether it may be seeded, and its bridge', () => {
    assert.deepEqual(shaped.truth.networks.map((n) => [n.shape, n.seeded, n.sellers.length]), [['star', true, 3], ['ring', true, 6], ['camouflaged', true, 3], ['sparse', true, 3], ['star', false, 2]]);
    assert.equal(bridged.bridgedTo, 0);
    assert.equal(bridged.bridgeBuyers!.length, 6);
    const starSellers = new Set(star.sellers);
    for (const buyer of bridged.bridgeBuyers!) {
      assert.ok(bridged.buyers.includes(buyer));
      assert.ok([...(following.get(buyer) ?? [])].some((a) => starSellers.has(a)), `${buyer} buys from the seeded star too`);
    }
  });

  it('celebrities are followed by most accounts and belong to no network', () => {
    assert.equal(shaped.truth.celebrities.length, 3);
    for (const celebrity of shaped.truth.celebrities) assert.ok((followers.get(celebrity) ?? 0) > shaped.accountCount * 0.25, `${celebrity}: ${followers.get(celebrity)} followers`);
    const members = new Set(shaped.truth.networks.flatMap((n) => n.members));
    assert.ok(shaped.truth.celebrities.every((c) => !members.has(c)));
  });

  it('dense benign communities of 30-200 accounts follow each other and message heavily', () => {
    assert.equal(shaped.truth.denseCommunities.length, 2);
    for (const group of shaped.truth.denseCommunities) {
      assert.ok(group.length >= 30 && group.length <= 200, `${group.length} accounts`);
      const inside = new Set(group);
      let follows = 0;
      let messaged = 0;
      for (const a of group) {
        follows += [...(following.get(a) ?? [])].filter((b) => inside.has(b)).length;
        for (const b of group) messaged += messages.get(`${a}>${b}`) ?? 0;
      }
      assert.ok(follows / (group.length * (group.length - 1)) > 0.3, `follow density ${follows / (group.length * (group.length - 1))}`);
      assert.ok(messaged > follows, `${messaged} messages over ${follows} follows`);
    }
  });

  it('ring sellers share each other\'s posts and one link', () => {
    const sellers = ring.sellers;
    let pairs = 0;
    for (const a of sellers) for (const b of sellers) if (a !== b && shares.has(`${a}>${b}`)) pairs++;
    assert.ok(pairs >= sellers.length * (sellers.length - 1) * 0.4, `${pairs} seller pairs share`);
    for (const seller of sellers) if (!shaped.truth.removed.includes(seller)) assert.ok(links.get(seller)?.some((url) => /\/ring-1$/.test(url)), seller);
  });

  it('camouflaged buyers follow one seller at most and message little; sparse members follow little and share coded hashtags', () => {
    const sellers = new Set(camouflaged.sellers);
    for (const buyer of camouflaged.buyers) assert.ok([...(following.get(buyer) ?? [])].filter((a) => sellers.has(a)).length <= 1, buyer);
    const messagesTo = (network: typeof star) => network.buyers.reduce((sum, b) => sum + network.sellers.reduce((s, seller) => s + (messages.get(`${b}>${seller}`) ?? 0), 0), 0) / network.buyers.length;
    assert.ok(messagesTo(camouflaged) < messagesTo(star) / 3, `camouflaged ${messagesTo(camouflaged)} vs star ${messagesTo(star)} messages per buyer`);
    assert.ok(outDegree(sparse.members) < outDegree(star.members) / 2, `sparse ${outDegree(sparse.members)} vs star ${outDegree(star.members)} follows per member`);
    const coded = sparse.members.filter((a) => [...(hashtags.get(a) ?? [])].some((tag) => /^tag-code3-\d$/.test(tag))).length;
    assert.ok(coded >= sparse.members.length * 0.8, `${coded} of ${sparse.members.length} use a coded hashtag`);
    const ordinaryCoded = [...hashtags.entries()].filter(([a, tags]) => !sparse.members.includes(a) && [...tags].some((tag) => tag.startsWith('tag-code3-'))).length;
    assert.ok(ordinaryCoded > 0 && ordinaryCoded < 30, `${ordinaryCoded} others use it: rare, not exclusive`);
  });

  it('rejects impossible shapes', () => {
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 0, plantedNetworks: [{ shape: 'blob' as never, sellers: 1, buyers: 5 }] }), RangeError);
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 0, plantedNetworks: [{ shape: 'star', sellers: 1, buyers: 5, bridgedTo: 0 }] }), RangeError);
    assert.throws(() => syntheticPlatform({ accounts: 100, networks: 0, celebrities: -1 }), RangeError);
  });
});
