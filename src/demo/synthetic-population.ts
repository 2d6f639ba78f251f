/**
 * Who is on the synthetic platform: topical communities, the planted networks' members, the
 * removals and the accounts that come back, decoys and celebrities, each with its creation
 * time, account id (in creation order) and traits.
 */
import { type ResolvedOptions } from './synthetic-options.ts';
import { type Rng, shuffle } from './synthetic-random.ts';
import { lowerBound } from './synthetic-columns.ts';
import { type NetworkShape, shapeFollowCap } from './synthetic-shapes.ts';
import { DAY, FLAG_ESTIMATED, FLAG_LINK, FLAG_MINOR, FLAG_PHONE, FLAG_VERIFIED, HOUR, KIND_CELEBRITY, KIND_DECOY, KIND_MEMBER, KIND_ORDINARY, KIND_RETURNED, NEVER, ROLE_BUYER, ROLE_SELLER } from './synthetic-codes.ts';

export interface PlannedReturn {
  removed: { plan: number };
  created: number;
  mode: number;
  followers: boolean;
  reuseIp: boolean;
  plan: number;
}

export interface Population {
  T: number;
  communityCount: number;
  networkCount: number;
  /** Accounts ever created. */
  P: number;
  createdSec: Int32Array;
  createdTick: Int32Array;
  /** Accounts with createdTick < t, T + 1 entries. */
  createdBefore: Int32Array;
  deleteTick: Int32Array;
  deleteSec: Int32Array;
  kind: Uint8Array;
  role: Uint8Array;
  netOf: Int32Array;
  community: Int32Array;
  flags: Uint8Array;
  fitness: Float64Array;
  outCap: Int32Array;
  ipRange: Int32Array;
  deviceSource: Map<number, number>;
  emailSource: Map<number, number>;
  phoneSource: Map<number, number>;
  /** Returned index -> removed index. */
  returnOf: Map<number, number>;
  returnPlan: Map<number, PlannedReturn>;
  celebrities: number[];
  shapeOf: (i: number) => NetworkShape | undefined;
}

/** Draws from `rng` (the plan stream) and `shapeRng` (what the shapes add) in the order the platform always has. */
export function planPopulation(o: ResolvedOptions, rng: Rng, shapeRng: Rng): Population {
  const T = o.days * 24;
  const span = T * HOUR;

  // Topical communities of Pareto-distributed size: a few big ones, many small.
  const communityCount = Math.max(2, Math.round(o.accounts / 400));
  const communityCdf = new Float64Array(communityCount);
  for (let c = 0, total = 0; c < communityCount; c++) communityCdf[c] = total += Math.min(50, rng.pareto(1.5));
  const pickCommunity = () => Math.min(communityCount - 1, lowerBound(communityCdf, 0, communityCount, rng.float() * communityCdf[communityCount - 1]));

  // ---- plan the people, in plan order; they get their account ids in creation order below.
  interface PlannedMember { created: number; role: number; network: number; community: number; deleted: number; plan: number }
  const members: PlannedMember[] = [];
  const networkCount = o.specs.length;
  const firstMembers = new Set<number>();
  for (let n = 0; n < networkCount; n++) {
    const founded = rng.float() * 0.3 * span;
    // Members live in a few ordinary communities, which is where their camouflage follows go.
    const homes = [pickCommunity(), pickCommunity(), pickCommunity()];
    const { sellers: sellerCount, buyers: buyerCount } = o.specs[n];
    firstMembers.add(members.length);
    for (let k = 0; k < sellerCount + buyerCount; k++) {
      const seller = k < sellerCount;
      // Sellers are there first, so a buyer's first follow always finds one.
      const created = seller ? founded + rng.float() * (DAY - HOUR) : founded + DAY + rng.float() * 0.35 * span;
      members.push({ created: Math.floor(created), role: seller ? ROLE_SELLER : ROLE_BUYER, network: n, community: homes[rng.int(3)], deleted: -1, plan: -1 });
    }
  }

  // Removals: never a network's first seller, so every network keeps one to follow.
  const removable = members.filter((_, i) => !firstMembers.has(i));
  shuffle(rng, removable);
  const removedPlan = removable.slice(0, Math.min(removable.length, Math.round(o.removalRate * members.length)));
  for (const member of removedPlan) {
    const earliest = Math.max(member.created + 7 * DAY, 0.45 * span);
    const latest = Math.max(earliest, 0.8 * span);
    member.deleted = Math.min(Math.floor(earliest + rng.float() * (latest - earliest)), span - 4 * DAY);
  }
  for (const m of removedPlan) if (m.deleted <= m.created + DAY) m.deleted = -1;
  const removedPlanValid = removedPlan.filter((m) => m.deleted >= 0);

  const MODE_DEVICE = 0;
  const MODE_EMAIL = 1;
  const MODE_PHONE = 2;
  const MODE_IP = 3;
  const MODE_FOLLOWERS = 4;
  const returning = [...removedPlanValid];
  shuffle(rng, returning);
  const returnCount = Math.round(o.evasionRate * returning.length);
  const returns: PlannedReturn[] = returning.slice(0, returnCount).map((removed, k) => {
    // Stratified, so from ten returns on every kind of evidence is planted at least once.
    const u = (k + rng.float()) / returnCount;
    const mode = u < 0.35 ? MODE_DEVICE : u < 0.55 ? MODE_EMAIL : u < 0.65 ? MODE_PHONE : u < 0.8 ? MODE_IP : MODE_FOLLOWERS;
    const created = Math.min(removed.deleted + 2 * HOUR + Math.floor(rng.float() * (5 * DAY - 2 * HOUR)), span - 2 * DAY);
    const followers = mode === MODE_IP || mode === MODE_FOLLOWERS || rng.chance(0.4);
    const reuseIp = mode === MODE_IP || (mode !== MODE_FOLLOWERS && rng.chance(0.5));
    return { removed, created, mode, followers, reuseIp, plan: -1 };
  });
  const plantedDecoys: { removed: PlannedMember; created: number; plan: number }[] = [];
  for (const removed of removedPlanValid) {
    if (rng.chance(0.7)) plantedDecoys.push({ removed, created: Math.min(removed.deleted + 2 * HOUR + Math.floor(rng.float() * 10 * DAY), span - DAY), plan: -1 });
  }

  // Plan indices: ordinary accounts first, then members, returns, decoys, celebrities.
  // Everything the shapes add draws from its own stream, so the classic platform is unchanged.
  const P = o.accounts + members.length + returns.length + plantedDecoys.length + o.celebrities;
  const planCreated = new Int32Array(P);
  for (let i = 0; i < o.accounts; i++) {
    // Most of the platform exists from the first day; the rest joins over the period.
    planCreated[i] = Math.floor(rng.chance(0.6) ? rng.float() * DAY : DAY + rng.float() * (span - 3 * DAY));
  }
  let p = o.accounts;
  for (const m of members) planCreated[(m.plan = p++)] = m.created;
  for (const r of returns) planCreated[(r.plan = p++)] = r.created;
  for (const d of plantedDecoys) planCreated[(d.plan = p++)] = d.created;
  const celebrityPlans: number[] = [];
  for (let c = 0; c < o.celebrities; c++) {
    celebrityPlans.push(p);
    planCreated[p++] = Math.floor(shapeRng.float() * HOUR);
  }

  // Account ids follow creation order, as on real platforms; ties keep plan order.
  const PLAN_BITS = 2 ** 26;
  if (P >= PLAN_BITS) throw new RangeError('too many accounts');
  const keys = new Float64Array(P);
  for (let i = 0; i < P; i++) keys[i] = planCreated[i] * PLAN_BITS + i;
  keys.sort();
  const planToIndex = new Int32Array(P);
  const createdSec = new Int32Array(P);
  for (let i = 0; i < P; i++) {
    const plan = keys[i] % PLAN_BITS;
    planToIndex[plan] = i;
    createdSec[i] = planCreated[plan];
  }

  const kind = new Uint8Array(P);
  const role = new Uint8Array(P);
  const netOf = new Int32Array(P).fill(-1);
  const community = new Int32Array(P);
  const deleteTick = new Int32Array(P).fill(NEVER);
  const deleteSec = new Int32Array(P).fill(-1);
  for (let plan = 0; plan < o.accounts; plan++) community[planToIndex[plan]] = pickCommunity();
  for (const m of members) {
    const i = planToIndex[m.plan];
    kind[i] = KIND_MEMBER;
    role[i] = m.role;
    netOf[i] = m.network;
    community[i] = m.community;
    if (m.deleted >= 0) {
      deleteSec[i] = m.deleted;
      deleteTick[i] = Math.floor(m.deleted / HOUR);
    }
  }
  const returnOf = new Map<number, number>(); // returned index -> removed index
  for (const r of returns) {
    const i = planToIndex[r.plan];
    const removed = planToIndex[r.removed.plan];
    kind[i] = KIND_RETURNED;
    role[i] = role[removed];
    netOf[i] = netOf[removed];
    community[i] = community[removed];
    returnOf.set(i, removed);
  }
  for (const d of plantedDecoys) {
    const i = planToIndex[d.plan];
    kind[i] = KIND_DECOY;
    community[i] = community[planToIndex[d.removed.plan]];
  }
  const celebrities = celebrityPlans.map((plan) => planToIndex[plan]);
  for (const i of celebrities) {
    kind[i] = KIND_CELEBRITY;
    community[i] = Math.floor(shapeRng.float() * communityCount);
  }
  const shapeOf = (i: number): NetworkShape | undefined => (netOf[i] >= 0 ? o.specs[netOf[i]].shape : undefined);
  const createdTick = Int32Array.from(createdSec, (s) => Math.floor(s / HOUR));
  const createdBefore = new Int32Array(T + 1);
  for (let i = 0; i < P; i++) createdBefore[createdTick[i] + 1]++;
  for (let t = 0; t < T; t++) createdBefore[t + 1] += createdBefore[t];

  // ---- per-account traits, in index order.
  const flags = new Uint8Array(P);
  const fitness = new Float64Array(P);
  const outCap = new Int32Array(P);
  const ipRangeCount = Math.max(8, Math.round(P / 50));
  const ipRange = new Int32Array(P);
  const degreeCap = Math.max(5, Math.min(1000, Math.floor(P / 3)));
  const degreeMin = o.followsPerAccount * 0.6; // Pareto(2.5) with this minimum has the requested mean
  for (let i = 0; i < P; i++) {
    const ordinary = kind[i] === KIND_ORDINARY || kind[i] === KIND_DECOY;
    const popularity = Math.min(10_000, rng.pareto(1.3));
    // Members keep a low profile and draw few ordinary followers, so most of their edges
    // stay inside their network.
    fitness[i] = ordinary ? popularity : Math.min(popularity, 5) * 0.2;
    outCap[i] = ordinary
      ? Math.max(1, Math.min(degreeCap, Math.round(degreeMin * rng.pareto(2.5))))
      : Math.max(4, Math.round(o.followsPerAccount * (0.8 + 0.8 * rng.float())));
    const shape = shapeOf(i);
    if (shape) outCap[i] = shapeFollowCap(shape, outCap[i]);
    let f = 0;
    if (ordinary && rng.chance(0.1)) f |= FLAG_MINOR | (rng.chance(0.4) ? FLAG_ESTIMATED : 0);
    if ((ordinary && popularity > 35) || rng.chance(0.01)) f |= FLAG_VERIFIED;
    if (rng.chance(ordinary ? 0.4 : 0.3)) f |= FLAG_PHONE;
    if (ordinary && rng.chance(0.08)) f |= FLAG_LINK;
    flags[i] = f;
    // Ranges are shared by dozens to hundreds of accounts, a few much busier than the rest.
    ipRange[i] = Math.floor(ipRangeCount * Math.pow(rng.float(), 1.5));
  }
  // Celebrities are followed through their own plan below, never picked by the community
  // draw (which would follow them twice), and follow few themselves.
  for (const i of celebrities) {
    fitness[i] = 0;
    outCap[i] = 3;
    flags[i] = (flags[i] & ~FLAG_MINOR & ~FLAG_ESTIMATED) | FLAG_VERIFIED;
  }

  // Returned accounts reuse what their mode says; every other value is unique to the account.
  const deviceSource = new Map<number, number>();
  const emailSource = new Map<number, number>();
  const phoneSource = new Map<number, number>();
  const returnPlan = new Map<number, PlannedReturn>();
  for (const r of returns) {
    const i = planToIndex[r.plan];
    const removed = planToIndex[r.removed.plan];
    returnPlan.set(i, r);
    outCap[i] = Math.max(6, outCap[removed] + 2);
    if (r.mode === MODE_DEVICE) deviceSource.set(i, removed);
    if (r.mode === MODE_EMAIL) emailSource.set(i, removed);
    if (r.mode === MODE_PHONE) {
      flags[i] |= FLAG_PHONE;
      flags[removed] |= FLAG_PHONE;
      phoneSource.set(i, removed);
    }
    if (r.reuseIp) ipRange[i] = ipRange[removed];
  }
  for (const d of plantedDecoys) ipRange[planToIndex[d.plan]] = ipRange[planToIndex[d.removed.plan]];

  return {
    T, communityCount, networkCount, P, createdSec, createdTick, createdBefore, deleteTick, deleteSec, kind, role, netOf, community,
    flags, fitness, outCap, ipRange, deviceSource, emailSource, phoneSource, returnOf, returnPlan, celebrities, shapeOf,
  };
}
