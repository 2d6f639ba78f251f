/**
 * The synthetic platform's simulation, hour by hour: accounts follow on their planned slots
 * (into their network, their community, or whom the recommender suggests), follows inside a
 * network bring messages, viewers are shown impressions, and returned accounts reach for
 * their old circle. Every follow and interaction lands in the plan's schedule.
 */
import type { Population } from './synthetic-population.ts';
import type { Plan } from './synthetic-plan.ts';
import type { ResolvedOptions } from './synthetic-options.ts';
import { Rng, sample, shuffle } from './synthetic-random.ts';
import { Column } from './synthetic-columns.ts';
import { BRIDGE_BUYERS, shapeCamouflage } from './synthetic-shapes.ts';
import { E_COMMENT, E_FOLLOW, E_IMPRESSION, E_LIKE, E_MESSAGE, E_SEARCH_STRING, HOUR, KIND_CELEBRITY, KIND_ORDINARY, KIND_RETURNED, NEVER, PLAIN_QUERIES, ROLE_BUYER, ROLE_SELLER, STREAM_SIM, TERMS, VIA_NONE, VIA_PROFILE, VIA_RECOMMENDATION, VIA_SEARCH } from './synthetic-codes.ts';

export interface FollowGraph {
  /** Follows the simulation chose on the slots, in time order, with how each was found. */
  followSrc: Column;
  followDst: Column;
  followViaBytes: Uint8Array;
  /** Per tick, the first follow of that hour; T + 1 entries. */
  followStart: Int32Array;
  /** Every follow an account made, including planned and recommended ones. */
  degree: (a: number) => number;
  followee: (a: number, k: number) => number;
  /** Followers of removed and returned accounts. */
  followersOf: Map<number, number[]>;
  denseCommunities: number[][];
  bridgeBuyers: Map<number, number[]>;
}

export function simulate(o: ResolvedOptions, shapeRng: Rng, pop: Population, plan: Plan): FollowGraph {
  const { T, P, createdTick, deleteTick, deleteSec, role, kind, netOf, community, shapeOf, celebrities, communityCount, returnOf, returnPlan } = pop;
  const { communityStart, communityAlias, networkMembers, networkSellers, networkBuyers, capOffset, slotStart, slotActor, str, schedule, termUsers, sessionViewer, sessionSize, sessionsByTick } = plan;
  const sim = new Rng(o.seed, STREAM_SIM);

  // The hot per-account fields side by side, two accounts to a cache line: the simulation
  // visits random accounts tens of millions of times, and one cache miss beats five.
  const W = 8;
  const F_START = 0; // first slot of the account's followee list in outTargets
  const F_CURSOR = 1; // next free slot
  const F_END = 2; // end of its planned capacity
  const F_CREATED = 3; // creation hour
  const F_DELETED = 4; // removal hour, or NEVER
  const F_BITS = 5;
  const F_NET = 6;
  const F_COMMUNITY = 7;
  const B_OVERFLOW = 1; // has follows beyond its planned capacity, kept in `overflow`
  const B_TRACKED = 2; // removed or returned: its followers are recorded
  const B_SELLER = 4;
  const B_BUYER = 8;
  const B_RETURNED = 16;
  const B_FOLLOWED_SELLER = 32;
  const node = new Int32Array(P * W);
  const followersOf = new Map<number, number[]>();
  for (let i = 0; i < P; i++) {
    const at = i * W;
    node[at + F_START] = capOffset[i];
    node[at + F_CURSOR] = capOffset[i];
    node[at + F_END] = capOffset[i + 1];
    node[at + F_CREATED] = createdTick[i];
    node[at + F_DELETED] = deleteTick[i];
    let bits = role[i] === ROLE_SELLER ? B_SELLER : role[i] === ROLE_BUYER ? B_BUYER : 0;
    if (kind[i] === KIND_RETURNED) bits |= B_RETURNED;
    // Most buyers of a sparse network never follow a seller: they found it by its coded tags.
    if (role[i] === ROLE_BUYER && shapeOf(i) === 'sparse' && shapeRng.chance(0.6)) bits |= B_FOLLOWED_SELLER;
    if (deleteSec[i] >= 0 || kind[i] === KIND_RETURNED) {
      bits |= B_TRACKED;
      followersOf.set(i, []);
    }
    node[at + F_BITS] = bits;
    node[at + F_NET] = netOf[i];
    node[at + F_COMMUNITY] = community[i];
  }
  const outTargets = new Int32Array(capOffset[P]);
  const overflow = new Map<number, number[]>();
  const followSrc = new Column(Math.max(1024, slotStart[T]));
  const followDst = new Column(Math.max(1024, slotStart[T]));
  const followViaBytes = new Uint8Array(slotStart[T] + 1);
  const followStart = new Int32Array(T + 1);
  // At most 6 x 12 samples per call, so a byte holds any score and the array stays in cache.
  const score = new Uint8Array(P);
  const touched = new Int32Array(6 * 12);
  let touchedCount = 0;
  const pending: (number[] | undefined)[] = new Array(T);
  const P_FOLLOW = 0;
  const P_MESSAGE = 1;
  const P_LIKE = 2;
  const P_COMMENT = 3;
  const schedulePending = (t: number, type: number, a: number, b: number, aux: number) => {
    if (t >= T) return;
    (pending[t] ??= []).push(type, a, b, aux);
  };

  const live = (i: number, t: number) => node[i * W + F_CREATED] < t && node[i * W + F_DELETED] > t;
  const degree = (a: number) => {
    const at = a * W;
    const d = node[at + F_CURSOR] - node[at + F_START];
    return node[at + F_BITS] & B_OVERFLOW ? d + overflow.get(a)!.length : d;
  };
  const followee = (a: number, k: number) => {
    const at = a * W;
    const d = node[at + F_CURSOR] - node[at + F_START];
    return k < d ? outTargets[node[at + F_START] + k] : overflow.get(a)![k - d];
  };
  const follows = (a: number, b: number) => {
    const at = a * W;
    for (let k = node[at + F_START], end = node[at + F_CURSOR]; k < end; k++) if (outTargets[k] === b) return true;
    return (node[at + F_BITS] & B_OVERFLOW) !== 0 && overflow.get(a)!.includes(b);
  };
  const canFollow = (a: number, b: number, t: number) => b !== a && live(b, t) && !follows(a, b);

  const addFollow = (a: number, b: number, t: number) => {
    const at = a * W;
    if (node[at + F_CURSOR] < node[at + F_END]) outTargets[node[at + F_CURSOR]++] = b;
    else {
      let extra = overflow.get(a);
      if (!extra) overflow.set(a, (extra = []));
      extra.push(b);
      node[at + F_BITS] |= B_OVERFLOW;
    }
    const bt = b * W;
    const targetBits = node[bt + F_BITS];
    if (targetBits & B_TRACKED) followersOf.get(b)!.push(a);
    const n = node[at + F_NET];
    if (n < 0 || node[bt + F_NET] !== n) return;
    // Inside a network, a follow is followed by contact: buyers write to sellers, who answer.
    if (node[at + F_BITS] & B_BUYER && targetBits & B_SELLER) {
      node[at + F_BITS] |= B_FOLLOWED_SELLER;
      if (o.specs[n].shape === 'camouflaged') {
        // Camouflaged buyers say little: one message now and then.
        if (sim.chance(0.3)) schedulePending(t + 1 + sim.int(48), P_MESSAGE, a, b, 0);
      } else if (sim.chance(0.8)) {
        let when = t;
        for (let k = 1 + sim.int(3); k > 0; k--) schedulePending((when += 1 + sim.int(48)), P_MESSAGE, a, b, 0);
        if (sim.chance(0.5)) schedulePending(when + 1 + sim.int(24), P_MESSAGE, b, a, 0);
      }
    } else if (sim.chance(0.4)) {
      const when = t + 1 + sim.int(96);
      if (sim.chance(0.5)) schedulePending(when, P_LIKE, a, b, sim.int(8));
      else schedulePending(when, P_COMMENT, a, b, sim.chance(o.termRate) ? str(TERMS[sim.int(TERMS.length)]) : -1);
    }
  };

  /**
   * The recommender: accounts followed by the accounts `a` follows, ranked by how many of
   * them follow it (common neighbours); sampled, 6 followees and 12 of each one's
   * followees, so a call costs under a hundred steps.
   */
  const collectCandidates = (a: number, network: number) => {
    const d = degree(a);
    const first = sim.int(d);
    for (let j = 0; j < Math.min(d, 6); j++) {
      const f = followee(a, (first + j) % d);
      const df = degree(f);
      if (df === 0) continue;
      const direct = (node[f * W + F_BITS] & B_OVERFLOW) === 0;
      const base = node[f * W + F_START];
      const m = Math.min(df, 12);
      for (let k = 0, at = sim.int(df); k < m; k++, at = at + 1 === df ? 0 : at + 1) {
        const g = direct ? outTargets[base + at] : followee(f, at);
        if (g === a || (network >= 0 && node[g * W + F_NET] !== network)) continue;
        if (score[g] === 0) touched[touchedCount++] = g;
        score[g]++;
      }
    }
  };
  const takeBest = (a: number, t: number): number => {
    let best = -1;
    let bestScore = 0;
    for (let k = 0; k < touchedCount; k++) {
      const g = touched[k];
      if (score[g] > bestScore && canFollow(a, g, t)) {
        best = g;
        bestScore = score[g];
      }
    }
    if (best >= 0) score[best] = 0;
    return best;
  };
  const clearCandidates = () => {
    for (let k = 0; k < touchedCount; k++) score[touched[k]] = 0;
    touchedCount = 0;
  };
  const recommend = (a: number, t: number, network: number): number => {
    if (degree(a) === 0) return -1;
    collectCandidates(a, network);
    const best = takeBest(a, t);
    clearCandidates();
    return best;
  };

  // By popularity over the whole community, drawing again for accounts not created yet:
  // an alias table answers in one memory access, where a search over the accounts that
  // exist so far took several.
  const pickCommunityMember = (c: number, t: number) => {
    const from = communityStart[c];
    const size = communityStart[c + 1] - from;
    for (let tries = 0; tries < 4; tries++) {
      const at = 3 * (from + sim.int(size));
      const b = sim.float() < communityAlias[at] ? communityAlias[at + 1] : communityAlias[at + 2];
      if (node[b * W + F_CREATED] < t) return b;
    }
    return -1;
  };
  // Platform-wide picks copy the target of an earlier follow: preferential attachment, so
  // the accounts many already follow gain followers from every community.
  const pickGlobal = () => (followSrc.length === 0 ? -1 : followDst.data[sim.int(followSrc.length)]);
  const ordinaryVia = () => {
    const u = sim.float();
    return u < 0.5 ? VIA_PROFILE : u < 0.6 ? VIA_SEARCH : VIA_NONE;
  };

  let via = VIA_NONE;
  const refollow = new Map<number, { list: number[]; next: number }>();
  const chooseTarget = (a: number, t: number): number => {
    const at = a * W;
    const n = node[at + F_NET];
    const bits = node[at + F_BITS];
    const plan = bits & B_RETURNED ? refollow.get(a) : undefined;
    if (plan) {
      while (plan.next < plan.list.length) {
        const b = plan.list[plan.next++];
        if (canFollow(a, b, t)) {
          via = sim.chance(0.5) ? VIA_SEARCH : VIA_PROFILE;
          return b;
        }
      }
      refollow.delete(a);
    }
    if (bits & B_BUYER && !(bits & B_FOLLOWED_SELLER)) {
      const sellers = networkSellers[n];
      const first = sim.int(sellers.length);
      for (let k = 0; k < sellers.length; k++) {
        const b = sellers[(first + k) % sellers.length];
        if (canFollow(a, b, t)) {
          via = sim.chance(0.3) ? VIA_SEARCH : VIA_PROFILE;
          return b;
        }
      }
    }
    // A member's follow goes into the network unless it is camouflage; only when nobody
    // there can be followed yet does it fall back to an ordinary-looking one.
    const shape = n >= 0 ? o.specs[n].shape : undefined;
    if (n >= 0 && !sim.chance(shapeCamouflage(shape!, o.camouflage))) {
      if (shape !== 'camouflaged' && sim.chance(0.35)) {
        // This is how networks grow: the recommender shows members to each other.
        const b = recommend(a, t, n);
        if (b >= 0) {
          via = VIA_RECOMMENDATION;
          return b;
        }
      }
      for (let attempt = 0; attempt < 8; attempt++) {
        // A camouflaged buyer follows one seller only; its other follows inside go to fellow buyers.
        const pool = shape === 'camouflaged' && bits & B_BUYER ? networkBuyers[n] : bits & B_BUYER && sim.chance(0.5) ? networkSellers[n] : networkMembers[n];
        const b = pool[sim.int(pool.length)];
        if (canFollow(a, b, t)) {
          via = ordinaryVia();
          return b;
        }
      }
    }
    for (let attempt = 0; attempt < 6; attempt++) {
      if (n < 0 && sim.chance(0.2)) {
        const b = recommend(a, t, -1);
        if (b >= 0) {
          via = VIA_RECOMMENDATION;
          return b;
        }
      }
      // Members' follows outside their network stay in their home community: camouflage.
      const b = n >= 0 || sim.chance(0.85) ? pickCommunityMember(node[at + F_COMMUNITY], t) : pickGlobal();
      if (b >= 0 && canFollow(a, b, t)) {
        via = ordinaryVia();
        return b;
      }
    }
    return -1;
  };

  // ---- follows and messages the shapes plan up front; they go through the same pending
  // queue as the simulation's own, so a follow is never made twice.
  const between = (a: number, b: number): [number, number] => [Math.max(createdTick[a], createdTick[b]) + 1, Math.min(T, deleteTick[a], deleteTick[b])];
  const planFollow = (a: number, b: number, withMessages: number) => {
    const [lo, hi] = between(a, b);
    if (lo >= hi) return;
    const t = lo + shapeRng.int(hi - lo);
    schedulePending(t, P_FOLLOW, a, b, shapeRng.chance(0.5) ? VIA_PROFILE : VIA_NONE);
    for (let k = 0; k < withMessages; k++) {
      const when = t + 1 + shapeRng.int(Math.max(1, hi - t - 1));
      if (when >= hi) continue;
      const [from, to] = shapeRng.chance(0.5) ? [a, b] : [b, a];
      schedulePending(when, P_MESSAGE, from, to, 0);
    }
  };
  const celebrityReach = celebrities.map(() => 0.3 + 0.45 * shapeRng.float());
  if (celebrities.length > 0) {
    for (let i = 0; i < P; i++) {
      if (kind[i] === KIND_CELEBRITY) continue;
      // Camouflaged buyers follow the celebrities like anyone; other members a little less.
      const shape = shapeOf(i);
      const factor = shape === undefined || shape === 'camouflaged' ? 1 : 0.5;
      celebrities.forEach((c, k) => {
        if (shapeRng.chance(celebrityReach[k] * factor)) planFollow(i, c, 0);
        if (shapeRng.chance(0.05)) {
          const [lo, hi] = between(i, c);
          if (lo < hi) schedulePending(lo + shapeRng.int(hi - lo), P_LIKE, i, c, shapeRng.int(8));
        }
      });
    }
  }
  const denseCommunities: number[][] = [];
  {
    const byCommunity: number[][] = Array.from({ length: communityCount }, () => []);
    for (let i = 0; i < P; i++) if (kind[i] === KIND_ORDINARY) byCommunity[community[i]].push(i);
    const used = new Uint8Array(P);
    for (let g = 0; g < o.denseCommunities; g++) {
      const size = 30 + shapeRng.int(171);
      const candidates = byCommunity.filter((list) => list.length >= size * 2);
      if (candidates.length === 0) break;
      const pool = candidates[shapeRng.int(candidates.length)].filter((i) => !used[i]);
      if (pool.length < size) continue;
      const group = sample(shapeRng, pool, size);
      for (const i of group) used[i] = 1;
      denseCommunities.push(group);
      // A club or a class: half of all pairs follow each other, and talk a lot.
      for (const a of group) for (const b of group) if (a !== b && shapeRng.chance(0.5)) planFollow(a, b, shapeRng.chance(0.6) ? 2 + shapeRng.int(5) : 0);
    }
  }
  o.specs.forEach((spec, n) => {
    if (spec.shape !== 'sparse') return;
    for (const buyer of networkBuyers[n]) {
      if (!(node[buyer * W + F_BITS] & B_FOLLOWED_SELLER) || !shapeRng.chance(0.5)) continue;
      const seller = networkSellers[n][shapeRng.int(networkSellers[n].length)];
      const [lo, hi] = between(buyer, seller);
      if (lo < hi) schedulePending(lo + shapeRng.int(hi - lo), P_MESSAGE, buyer, seller, 0);
    }
  });
  const bridgeBuyers = new Map<number, number[]>();
  o.specs.forEach((spec, n) => {
    if (spec.bridgedTo === undefined) return;
    const shared = sample(shapeRng, networkBuyers[n], Math.min(BRIDGE_BUYERS, networkBuyers[n].length));
    bridgeBuyers.set(n, shared);
    for (const buyer of shared) {
      const sellers = networkSellers[spec.bridgedTo];
      planFollow(buyer, sellers[shapeRng.int(sellers.length)], 1 + shapeRng.int(3));
    }
  });

  const returnedByTick = new Map<number, number[]>();
  for (const r of returnOf.keys()) {
    const t = createdTick[r] + 1;
    if (!returnedByTick.has(t)) returnedByTick.set(t, []);
    returnedByTick.get(t)!.push(r);
  }

  for (let t = 0; t < T; t++) {
    followStart[t] = followSrc.length;

    // A returned account reaches for its old circle as soon as it exists.
    for (const r of returnedByTick.get(t) ?? []) {
      if (!returnPlan.get(r)!.followers) continue;
      const removed = returnOf.get(r)!;
      const old: number[] = [];
      for (let k = 0; k < degree(removed); k++) old.push(followee(removed, k));
      shuffle(sim, old);
      refollow.set(r, { list: old.slice(0, Math.ceil(old.length * 0.75)), next: 0 });
      for (const f of new Set(followersOf.get(removed))) if (sim.chance(0.6)) schedulePending(t + sim.int(96), P_FOLLOW, f, r, sim.chance(0.5) ? VIA_SEARCH : VIA_PROFILE);
    }

    const due = pending[t];
    pending[t] = undefined;
    if (due) {
      for (let k = 0; k < due.length; k += 4) {
        const [type, a, b, aux] = [due[k], due[k + 1], due[k + 2], due[k + 3]];
        if (!live(a, t) || !live(b, t)) continue;
        if (type === P_FOLLOW) {
          if (follows(a, b)) continue;
          addFollow(a, b, t);
          schedule.push(t, sim.int(HOUR), E_FOLLOW, a, b, aux);
        } else if (type === P_MESSAGE) schedule.push(t, sim.int(HOUR), E_MESSAGE, a, b, 0);
        else if (type === P_LIKE) schedule.push(t, sim.int(HOUR), E_LIKE, a, b, aux);
        else schedule.push(t, sim.int(HOUR), E_COMMENT, a, b, (aux + 1) * 16 + sim.int(8));
      }
    }

    for (let k = sessionsByTick.start[t]; k < sessionsByTick.start[t + 1]; k++) {
      const s = sessionsByTick.order[k];
      const v = sessionViewer.data[s];
      const size = sessionSize.data[s];
      if (!live(v, t)) continue;
      const offset = sim.int(HOUR - 120);
      const shown: number[] = [];
      const search = sim.chance(0.25);
      if (search) {
        const term = netOf[v] >= 0 && termUsers.length > 0 && sim.chance(o.termRate * 2);
        const query = term ? TERMS[sim.int(TERMS.length)] : `query-${sim.skewed(PLAIN_QUERIES)}`;
        schedule.push(t, offset, E_SEARCH_STRING, v, -1, str(query));
        // A search for a term finds the accounts that post it.
        for (let tries = 0; term && shown.length < size && tries < 30; tries++) {
          const b = termUsers[sim.int(termUsers.length)];
          if (b !== v && live(b, t) && !shown.includes(b)) shown.push(b);
        }
      } else if (degree(v) > 0) {
        collectCandidates(v, -1);
        while (shown.length < size) {
          const b = takeBest(v, t);
          if (b < 0) break;
          shown.push(b);
        }
        clearCandidates();
      }
      // Too few candidates: fill with what is popular in the viewer's community.
      for (let tries = 0; shown.length < size && tries < 30; tries++) {
        const b = pickCommunityMember(community[v], t);
        if (b >= 0 && b !== v && live(b, t) && !shown.includes(b) && !follows(v, b)) shown.push(b);
      }
      for (const b of shown) {
        schedule.push(t, offset, E_IMPRESSION, v, b, search ? 1 : 0);
        if (!search && sim.chance(0.1) && !follows(v, b)) {
          addFollow(v, b, t);
          schedule.push(t, offset + 1 + sim.int(60), E_FOLLOW, v, b, VIA_RECOMMENDATION);
        }
      }
    }

    for (let k = slotStart[t]; k < slotStart[t + 1]; k++) {
      const a = slotActor[k];
      via = VIA_NONE;
      const b = chooseTarget(a, t);
      if (b >= 0) {
        followSrc.push(a);
        followDst.push(b);
        followViaBytes[followSrc.length - 1] = via;
        addFollow(a, b, t);
      }
    }
  }
  followStart[T] = followSrc.length;
  return { followSrc, followDst, followViaBytes, followStart, degree, followee, followersOf, denseCommunities, bridgeBuyers };
}
