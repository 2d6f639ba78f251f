/**
 * What the synthetic platform plans before simulating: whom each community's accounts
 * prefer to follow, when each account will try to follow someone, the sellers' links and
 * handles, members' hashtags and searches, the shapes' coded tags and shares, removals, and
 * the recommender's impression sessions.
 */
import type { Population } from './synthetic-population.ts';
import type { ResolvedOptions } from './synthetic-options.ts';
import { hex128, Rng, sample } from './synthetic-random.ts';
import { aliasTables, bucket, Column, Schedule } from './synthetic-columns.ts';
import { COMMUNITY_TAGS, E_DELETED, E_HANDLE, E_LINK_STRING, E_SEARCH_STRING, E_SHARE, E_TAG_STRING, HOUR, KIND_MEMBER, KIND_ORDINARY, KIND_RETURNED, PLAIN_QUERIES, ROLE_SELLER, STREAM_SLOTS, TERMS } from './synthetic-codes.ts';

export interface Plan {
  communityStart: Int32Array;
  communityAlias: Float64Array;
  networkMembers: number[][];
  networkSellers: number[][];
  networkBuyers: number[][];
  /** Per account, its first follow slot; P + 1 entries. */
  capOffset: Int32Array;
  /** Follow slots bucketed by hour: slotActor[slotStart[t], slotStart[t + 1]) try to follow in hour t. */
  slotStart: Int32Array;
  slotActor: Int32Array;
  strings: string[];
  /** The index of a string in `strings`, added when new. */
  str: (s: string) => number;
  schedule: Schedule;
  /** Members that used a placeholder term, whom a search for one finds. */
  termUsers: number[];
  sessionViewer: Column;
  sessionSize: Column;
  sessionsByTick: { start: Int32Array; order: Int32Array };
}

export function planSchedule(o: ResolvedOptions, rng: Rng, shapeRng: Rng, pop: Population): Plan {
  const { T, P, community, fitness, communityCount, networkCount, netOf, role, outCap, createdTick, deleteTick, deleteSec, kind } = pop;
  // ---- popularity within each community, for picking whom to follow.
  const communityStart = new Int32Array(communityCount + 1);
  for (let i = 0; i < P; i++) communityStart[community[i] + 1]++;
  for (let c = 0; c < communityCount; c++) communityStart[c + 1] += communityStart[c];
  const communityAlias = aliasTables(communityStart, community, fitness);

  // ---- network member lists, in index order.
  const networkMembers: number[][] = Array.from({ length: networkCount }, () => []);
  const networkSellers: number[][] = Array.from({ length: networkCount }, () => []);
  const networkBuyers: number[][] = Array.from({ length: networkCount }, () => []);
  for (let i = 0; i < P; i++) {
    if (netOf[i] < 0) continue;
    networkMembers[netOf[i]].push(i);
    (role[i] === ROLE_SELLER ? networkSellers : networkBuyers)[netOf[i]].push(i);
  }

  // ---- follow slots: when each account will try to follow someone, bucketed by hour.
  const capOffset = new Int32Array(P + 1);
  for (let i = 0; i < P; i++) capOffset[i + 1] = capOffset[i] + outCap[i];
  const slotTick = new Int32Array(capOffset[P]).fill(-1);
  const slotStart = new Int32Array(T + 1);
  {
    const slotRng = new Rng();
    for (let i = 0; i < P; i++) {
      const lo = createdTick[i] + 1;
      const hi = Math.min(T, deleteTick[i]);
      if (lo >= hi) continue;
      slotRng.reseed(o.seed, STREAM_SLOTS, i);
      // New accounts follow in a burst; returned accounts rebuild their circle fast.
      const burst = kind[i] === KIND_RETURNED ? 0.8 : kind[i] === KIND_MEMBER ? 0.5 : 0.4;
      const burstSpan = Math.min(48, hi - lo);
      for (let k = capOffset[i]; k < capOffset[i + 1]; k++) {
        const t = slotRng.chance(burst) ? lo + slotRng.int(burstSpan) : lo + slotRng.int(hi - lo);
        slotTick[k] = t;
        slotStart[t + 1]++;
      }
    }
  }
  for (let t = 0; t < T; t++) slotStart[t + 1] += slotStart[t];
  const slotActor = new Int32Array(slotStart[T]);
  {
    const cursor = slotStart.slice(0, T);
    for (let i = 0; i < P; i++) {
      for (let k = capOffset[i]; k < capOffset[i + 1]; k++) if (slotTick[k] >= 0) slotActor[cursor[slotTick[k]]++] = i;
    }
  }

  // ---- events planned up front: links and handles of sellers, members' hashtags and
  // searches, removals.
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const str = (s: string) => {
    let k = stringIndex.get(s);
    if (k === undefined) {
      k = strings.length;
      strings.push(s);
      stringIndex.set(s, k);
    }
    return k;
  };
  const schedule = new Schedule();
  const termUsers: number[] = [];
  let sellerOrdinal = 0;
  for (let n = 0; n < networkCount; n++) {
    for (const i of networkMembers[n]) {
      const lo = createdTick[i] + 1;
      const hi = Math.min(T, deleteTick[i]);
      if (lo >= hi) continue;
      if (role[i] === ROLE_SELLER) {
        const t = lo + rng.int(Math.min(24, hi - lo));
        const offset = rng.int(HOUR);
        const ordinal = sellerOrdinal++;
        schedule.push(t, offset, E_LINK_STRING, i, -1, str(`https://offsite.example/shop-${ordinal}`));
        schedule.push(t, offset, E_HANDLE, i, -1, str(`handle-${hex128(ordinal, o.seed ^ 0x5e11e7).slice(0, 12)}`));
      }
      let usedTerm = false;
      for (let k = 3 + rng.int(6); k > 0; k--) {
        const u = rng.float();
        const tag = u < o.termRate ? TERMS[rng.int(TERMS.length)] : u < o.termRate + (1 - o.termRate) * 0.6 ? `tag-net${n}-${rng.int(3)}` : `tag-${community[i]}-${rng.skewed(COMMUNITY_TAGS)}`;
        usedTerm ||= tag.startsWith('term-');
        schedule.push(lo + rng.int(hi - lo), rng.int(HOUR), E_TAG_STRING, i, -1, str(tag));
      }
      if (usedTerm) termUsers.push(i);
      for (let k = rng.int(4); k > 0; k--) {
        const query = rng.chance(o.termRate) ? TERMS[rng.int(TERMS.length)] : `query-${rng.skewed(PLAIN_QUERIES)}`;
        schedule.push(lo + rng.int(hi - lo), rng.int(HOUR), E_SEARCH_STRING, i, -1, str(query));
      }
      if (o.specs[n].shape === 'sparse') {
        // The coded hashtags and searches that tie a sparse network together.
        for (let k = 2 + shapeRng.int(3); k > 0; k--) schedule.push(lo + shapeRng.int(hi - lo), shapeRng.int(HOUR), E_TAG_STRING, i, -1, str(`tag-code${n}-${shapeRng.int(4)}`));
        for (let k = 1 + shapeRng.int(3); k > 0; k--) schedule.push(lo + shapeRng.int(hi - lo), shapeRng.int(HOUR), E_SEARCH_STRING, i, -1, str(`query-code${n}-${shapeRng.int(3)}`));
      }
    }
    const lifetime = (i: number): [number, number] => [createdTick[i] + 1, Math.min(T, deleteTick[i])];
    if (o.specs[n].shape === 'sparse') {
      // A few ordinary accounts stumble on a coded hashtag once, so it is rare but not exclusive.
      for (let k = 0; k < 20; k++) {
        const i = shapeRng.int(o.accounts);
        const [lo, hi] = lifetime(i);
        if (kind[i] === KIND_ORDINARY && lo < hi) schedule.push(lo + shapeRng.int(hi - lo), shapeRng.int(HOUR), E_TAG_STRING, i, -1, str(`tag-code${n}-${shapeRng.int(4)}`));
      }
    }
    if (o.specs[n].shape === 'ring') {
      // Ring sellers post one common link and share each other's posts.
      const sellers = networkSellers[n];
      for (const a of sellers) {
        const [lo, hi] = lifetime(a);
        if (lo < hi) schedule.push(lo + shapeRng.int(hi - lo), shapeRng.int(HOUR), E_LINK_STRING, a, -1, str(`https://offsite.example/ring-${n}`));
        for (const b of sellers) {
          const [blo, bhi] = lifetime(b);
          const from = Math.max(lo, blo);
          const to = Math.min(hi, bhi);
          if (a === b || from >= to || !shapeRng.chance(0.7)) continue;
          for (let k = 1 + shapeRng.int(3); k > 0; k--) schedule.push(from + shapeRng.int(to - from), shapeRng.int(HOUR), E_SHARE, a, b, shapeRng.int(8));
        }
      }
    }
  }
  for (let i = 0; i < P; i++) if (deleteSec[i] >= 0) schedule.push(deleteTick[i], deleteSec[i] % HOUR, E_DELETED, i, -1, 0);

  // Impression sessions: a sample of viewers, a tenth of them network members, each shown
  // a few accounts per visit at random hours of their life.
  const SESSION = 5;
  const sessionTick = new Column();
  const sessionViewer = new Column();
  const sessionSize = new Column();
  {
    const ordinaryIds: number[] = [];
    const memberIds: number[] = [];
    for (let i = 0; i < P; i++) (netOf[i] >= 0 ? memberIds : ordinaryIds).push(i);
    const fromMembers = Math.min(memberIds.length, Math.floor(o.impressionViewers / 10));
    const viewers = [...sample(rng, memberIds, fromMembers), ...sample(rng, ordinaryIds, Math.min(ordinaryIds.length, o.impressionViewers - fromMembers))];
    for (const v of viewers) {
      let lo = createdTick[v] + 1;
      const hi = Math.min(T, deleteTick[v]);
      if (lo >= hi) continue;
      if (hi - lo > 48) lo += 24; // a day to follow someone first
      for (let left = o.impressionsPerViewer; left > 0; left -= SESSION) {
        sessionTick.push(lo + rng.int(hi - lo));
        sessionViewer.push(v);
        sessionSize.push(Math.min(SESSION, left));
      }
    }
  }
  const sessionsByTick = bucket(sessionTick.trimmed(), T);

  return { communityStart, communityAlias, networkMembers, networkSellers, networkBuyers, capOffset, slotStart, slotActor, strings, str, schedule, termUsers, sessionViewer, sessionSize, sessionsByTick };
}
