import type { PlatformEventInput } from '../ingest/platform-events.ts';
import { BRIDGE_BUYERS, type NetworkShape, type PlantedNetworkSpec, shapeCamouflage, shapeFollowCap, validateSpecs } from './synthetic-shapes.ts';

/**
 * A seeded synthetic platform for tests and benchmarks: ordinary accounts in topical
 * communities, planted offender networks (sellers and buyers) hidden among them, removals
 * with ban evasion, and a simple recommender whose suggestions both show up as impressions
 * and drive part of the follow graph.
 *
 * Everything is abstract: accounts are `acct-000123`, hashtags `tag-17`, `tag-4-2`,
 * `tag-net3-1`, placeholder terms `term-alpha`, links `https://offsite.example/shop-4`.
 *
 * Construction runs the structural simulation (who exists when, who follows whom, what the
 * recommender showed) into typed arrays; the event stream is then rebuilt from those arrays
 * and the seed one hour at a time, so 20M events never sit in memory at once.
 */

export interface SyntheticPlatformOptions {
  seed?: number; // default 1
  accounts: number; // ordinary accounts
  networks: number; // planted offender networks
  networkSize?: number; // members per network, default 60 (about 10% sellers)
  followsPerAccount?: number; // mean, default 15
  evasionRate?: number; // share of removed members that re-register, default 0.5
  removalRate?: number; // share of network members removed, default 0.2
  impressionViewers?: number; // viewers that get recommendation impressions, default min(accounts, 2000)
  impressionsPerViewer?: number; // default 20
  start?: Date; // default 2026-01-01T00:00:00Z
  /** Share of network members' hashtags, searches and comments that use a placeholder term; default 0.3. */
  termRate?: number;
  /** Length of the simulated period in days, at least 14; default 90. */
  days?: number;
  /** Share of a network member's follows that go to ordinary accounts in its home community; default 0.25. Higher is harder to detect. */
  camouflage?: number;
  /** Planted networks by shape (see synthetic-shapes.ts); when given, `networks` and `networkSize` are ignored. */
  plantedNetworks?: PlantedNetworkSpec[];
  /** Accounts created on the first day that most of the platform follows; default 0. */
  celebrities?: number;
  /** Benign groups of 30-200 ordinary accounts of one community that follow and message each other heavily; default 0. */
  denseCommunities?: number;
}

export type EvasionEvidenceKind = 'device' | 'email' | 'phone' | 'ip24' | 'followers';

export interface SyntheticGroundTruth {
  /** Members include accounts that re-registered after a removal, under the role they had. */
  networks: {
    members: string[];
    sellers: string[];
    buyers: string[];
    shape: NetworkShape;
    /** Whether a benchmark may confirm some of its members; unseeded networks are for seedless discovery. */
    seeded: boolean;
    /** The network some of this one's buyers also buy from, and those buyers. */
    bridgedTo?: number;
    bridgeBuyers?: string[];
  }[];
  /** Accounts most of the platform follows: popular, and nothing to do with any network. */
  celebrities: string[];
  /** Dense benign groups with heavy messaging, which must not be taken for networks. */
  denseCommunities: string[][];
  minors: string[];
  removed: string[]; // account ids removed for enforcement
  /**
   * `via` lists what the returned account shares with the removed one: exactly the
   * identifier kinds with equal values, and `followers` where a planted re-follow left a
   * followee or follower Jaccard of at least FOLLOWER_OVERLAP (with 3 or more in common).
   * A returned member rejoins its network, so some overlap (typically 0.15-0.4) is there
   * even without `followers`.
   */
  evasions: { removed: string; returned: string; via: EvasionEvidenceKind[] }[];
  /**
   * Late innocent accounts sharing only an ip24 with a removed one: the planted ones (in the
   * removed account's community) and every ordinary account that happens to register on a
   * removed account's range after its removal.
   */
  decoys: string[];
}

export interface SyntheticPlatform {
  truth: SyntheticGroundTruth;
  /** The events in time order; a fresh iterator each call, regenerated from the seed, so 20M events need not sit in memory. */
  events(): Iterable<PlatformEventInput>;
  /** Counts by event type, known after construction without iterating. */
  readonly counts: Record<string, number>;
  /** All accounts ever created: ordinary, network members, returned accounts and decoys. */
  readonly accountCount: number;
  /** Every event occurs before this instant. */
  readonly end: Date;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const NEVER = 0x7fffffff;

// Random streams: every consumer reseeds from (seed, stream, index), so the event stream can
// be regenerated hour by hour without replaying the construction.
const STREAM_PLAN = 1;
const STREAM_SLOTS = 2;
const STREAM_SIM = 3;
const STREAM_TICK = 4;
const STREAM_COUNTS = 5;
const STREAM_SHAPES = 6;

const KIND_ORDINARY = 0;
const KIND_MEMBER = 1;
const KIND_RETURNED = 2;
const KIND_DECOY = 3;
const KIND_CELEBRITY = 4;

const ROLE_NONE = 0;
const ROLE_BUYER = 1;
const ROLE_SELLER = 2;

const FLAG_MINOR = 1;
const FLAG_ESTIMATED = 2;
const FLAG_VERIFIED = 4;
const FLAG_PHONE = 8;
const FLAG_LINK = 16;

const VIA_NONE = 0;
const VIA_RECOMMENDATION = 1;
const VIA_SEARCH = 2;
const VIA_PROFILE = 3;
const VIA_NAMES = [undefined, 'recommendation:suggested', 'search', 'profile'] as const;
const SURFACES = ['recommendation:suggested', 'search'] as const;

// Internal event codes; hashtags, searches and links carry their text either as a small
// numeric code or as an index into the model's string table.
const E_CREATED = 0;
const E_ATTRIBUTES = 1;
const E_DEVICE = 2;
const E_EMAIL = 3;
const E_PHONE = 4;
const E_IP24 = 5;
const E_HANDLE = 6;
const E_LINK_ACCOUNT = 7;
const E_LINK_STRING = 8;
const E_FOLLOW = 9;
const E_MESSAGE = 10;
const E_LIKE = 11;
const E_COMMENT = 12;
const E_SHARE = 13;
const E_TAG = 14;
const E_TAG_STRING = 15;
const E_SEARCH = 16;
const E_SEARCH_STRING = 17;
const E_IMPRESSION = 18;
const E_DELETED = 19;

const EVENT_TYPE: Record<number, PlatformEventInput['type']> = {
  [E_CREATED]: 'account_created',
  [E_ATTRIBUTES]: 'account_attributes',
  [E_DEVICE]: 'identifier',
  [E_EMAIL]: 'identifier',
  [E_PHONE]: 'identifier',
  [E_IP24]: 'identifier',
  [E_HANDLE]: 'identifier',
  [E_LINK_ACCOUNT]: 'profile_link',
  [E_LINK_STRING]: 'profile_link',
  [E_FOLLOW]: 'follow',
  [E_MESSAGE]: 'message',
  [E_LIKE]: 'like',
  [E_COMMENT]: 'comment',
  [E_SHARE]: 'share',
  [E_TAG]: 'hashtag',
  [E_TAG_STRING]: 'hashtag',
  [E_SEARCH]: 'search',
  [E_SEARCH_STRING]: 'search',
  [E_IMPRESSION]: 'recommendation_impression',
  [E_DELETED]: 'account_deleted',
};

const ALL_TYPES: PlatformEventInput['type'][] = [
  'follow', 'unfollow', 'message', 'comment', 'like', 'share', 'profile_link', 'hashtag', 'search',
  'recommendation_impression', 'account_created', 'account_deleted', 'account_attributes', 'identifier',
];

// Activity rates per follow edge and per account over the whole period.
const RANDOM_INTERACTIONS = [
  { code: E_LIKE, perFollow: 0.18 },
  { code: E_COMMENT, perFollow: 0.06 },
  { code: E_MESSAGE, perFollow: 0.06 },
  { code: E_SHARE, perFollow: 0.03 },
] as const;
const HASHTAGS_PER_ACCOUNT = 2;
const SEARCHES_PER_ACCOUNT = 0.5;
const COMMUNITY_TAGS = 12;
const GLOBAL_TAGS = 20;
const PLAIN_QUERIES = 500;
const TERMS = ['term-alpha', 'term-bravo'] as const;
/** Followee or follower Jaccard from which a planted re-follow counts as `followers` evidence. */
export const FOLLOWER_OVERLAP = 0.45;

// ---------------------------------------------------------------- randomness

/** murmur3's finaliser: a bijection on 32-bit integers, so distinct inputs stay distinct. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32: small, fast and statistically sound; reseeded in place so hot loops allocate nothing. */
class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(x = 0, y = 0, z = 0) {
    this.reseed(x, y, z);
  }

  reseed(x: number, y = 0, z = 0): this {
    this.a = fmix32((x + 0x9e3779b9) | 0);
    this.b = fmix32(this.a ^ Math.imul(y + 0x7f4a7c15, 0x85ebca6b));
    this.c = fmix32(this.b ^ Math.imul(z + 0x165667b1, 0xc2b2ae35));
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
    return this;
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Pareto with minimum 1: heavy-tailed sizes, degrees and popularity. */
  pareto(alpha: number): number {
    return Math.pow(1 - this.float(), -1 / alpha);
  }

  /** Skewed towards small values, for popular tags and queries. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(n * u * u * u);
  }

  stochasticRound(x: number): number {
    const floor = Math.floor(x);
    return floor + (this.float() < x - floor ? 1 : 0);
  }
}

function hex128(index: number, salt: number): string {
  // The first word is a bijection of the index, so two accounts never share a value by chance.
  const w0 = fmix32((index ^ salt) >>> 0);
  const w1 = fmix32(w0 ^ 0x68e31da4);
  const w2 = fmix32(w1 ^ 0xb5297a4d);
  const w3 = fmix32(w2 ^ 0x1b56c4e9);
  return [w0, w1, w2, w3].map((w) => w.toString(16).padStart(8, '0')).join('');
}

// ---------------------------------------------------------------- growable columns

class Column {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  trimmed(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Events with explicit times, planned or produced by the simulation; sorted by hour at the end. */
class Schedule {
  readonly tick = new Column();
  readonly offset = new Column();
  readonly type = new Column();
  readonly a = new Column();
  readonly b = new Column();
  readonly aux = new Column();
  push(tick: number, offset: number, type: number, a: number, b: number, aux: number): void {
    this.tick.push(tick);
    this.offset.push(offset);
    this.type.push(type);
    this.a.push(a);
    this.b.push(b);
    this.aux.push(aux);
  }
  get length(): number {
    return this.tick.length;
  }
}

interface SortedSchedule {
  start: Int32Array; // per tick, T + 1
  offset: Int32Array;
  type: Int32Array;
  a: Int32Array;
  b: Int32Array;
  aux: Int32Array;
}

function sortSchedule(schedule: Schedule, ticks: number): SortedSchedule {
  const n = schedule.length;
  const start = new Int32Array(ticks + 1);
  const tick = schedule.tick.data;
  for (let i = 0; i < n; i++) start[tick[i] + 1]++;
  for (let t = 0; t < ticks; t++) start[t + 1] += start[t];
  const cursor = start.slice(0, ticks);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[cursor[tick[i]]++] = i;
  const pick = (column: Column) => Int32Array.from(order, (i) => column.data[i]);
  return { start, offset: pick(schedule.offset), type: pick(schedule.type), a: pick(schedule.a), b: pick(schedule.b), aux: pick(schedule.aux) };
}

/** Index of the first element of sorted[from, to) that is >= value. */
function lowerBound(sorted: Int32Array | Float64Array, from: number, to: number, value: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------- options

interface ResolvedOptions {
  seed: number;
  accounts: number;
  specs: PlantedNetworkSpec[];
  followsPerAccount: number;
  evasionRate: number;
  removalRate: number;
  impressionViewers: number;
  impressionsPerViewer: number;
  startMs: number;
  termRate: number;
  days: number;
  camouflage: number;
  celebrities: number;
  denseCommunities: number;
}

function resolveOptions(options: SyntheticPlatformOptions): ResolvedOptions {
  const integer = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
    return value;
  };
  const rate = (name: string, value: number) => {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
    return value;
  };
  const accounts = integer('accounts', options.accounts, 10);
  const start = options.start ?? new Date('2026-01-01T00:00:00Z');
  if (Number.isNaN(start.getTime())) throw new RangeError('start is not a valid date');
  const followsPerAccount = options.followsPerAccount ?? 15;
  if (!(followsPerAccount >= 1 && followsPerAccount <= 500)) throw new RangeError(`followsPerAccount must be between 1 and 500, got ${followsPerAccount}`);
  return {
    seed: integer('seed', options.seed ?? 1, 0) >>> 0,
    accounts,
    specs: options.plantedNetworks ? validateSpecs(options.plantedNetworks) : starNetworks(integer('networks', options.networks, 0), integer('networkSize', options.networkSize ?? 60, 2)),
    followsPerAccount,
    evasionRate: rate('evasionRate', options.evasionRate ?? 0.5),
    removalRate: rate('removalRate', options.removalRate ?? 0.2),
    impressionViewers: integer('impressionViewers', options.impressionViewers ?? Math.min(accounts, 2000), 0),
    impressionsPerViewer: integer('impressionsPerViewer', options.impressionsPerViewer ?? 20, 0),
    startMs: start.getTime(),
    termRate: rate('termRate', options.termRate ?? 0.3),
    days: integer('days', options.days ?? 90, 14),
    camouflage: rate('camouflage', options.camouflage ?? 0.25),
    celebrities: integer('celebrities', options.celebrities ?? 0, 0),
    denseCommunities: integer('denseCommunities', options.denseCommunities ?? 0, 0),
  };
}

/** The classic platform: `count` stars of `size` members, about a tenth of them sellers. */
function starNetworks(count: number, size: number): PlantedNetworkSpec[] {
  const sellers = Math.max(1, Math.round(size * 0.1));
  return Array.from({ length: count }, () => ({ shape: 'star' as const, sellers, buyers: size - sellers }));
}

// ---------------------------------------------------------------- the model

interface Model {
  seed: number;
  ticks: number;
  startMs: number;
  accountCount: number;
  ids: (i: number) => string;
  createdSec: Int32Array;
  createdBefore: Int32Array; // accounts with createdTick < t, T + 1 entries
  deleteTick: Int32Array;
  community: Int32Array;
  flags: Uint8Array;
  ipRange: Int32Array;
  deviceSource: Map<number, number>;
  emailSource: Map<number, number>;
  phoneSource: Map<number, number>;
  followSrc: Int32Array;
  followDst: Int32Array;
  followVia: Uint8Array;
  followStart: Int32Array; // per tick, T + 1
  randomCounts: Int32Array; // per tick: like, comment, message, share, hashtag, search
  safeEdge: number;
  safeAccount: number;
  strings: string[];
  schedule: SortedSchedule;
  salts: { device: number; email: number; phone: number; link: number };
}

const RANDOM_KINDS = RANDOM_INTERACTIONS.length + 2;

export function syntheticPlatform(options: SyntheticPlatformOptions): SyntheticPlatform {
  const o = resolveOptions(options);
  const { model, truth, counts } = buildModel(o);
  return {
    truth,
    counts,
    accountCount: model.accountCount,
    end: new Date(o.startMs + model.ticks * HOUR * 1000),
    events: () => ({ [Symbol.iterator]: () => streamEvents(model) }),
  };
}

function buildModel(o: ResolvedOptions): { model: Model; truth: SyntheticGroundTruth; counts: Record<string, number> } {
  const T = o.days * 24;
  const span = T * HOUR;
  const rng = new Rng(o.seed, STREAM_PLAN);

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

  interface PlannedReturn { removed: PlannedMember; created: number; mode: number; followers: boolean; reuseIp: boolean; plan: number }
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
  const shapeRng = new Rng(o.seed, STREAM_SHAPES);
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
  const alive = (i: number, t: number) => createdTick[i] < t && deleteTick[i] > t;

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

  // ---------------------------------------------------------------- the simulation
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

  // ---- ground truth
  const ids = (i: number) => `acct-${String(i).padStart(6, '0')}`;
  const followeesOf = (a: number) => {
    const out = new Set<number>();
    for (let k = 0; k < degree(a); k++) out.add(followee(a, k));
    return out;
  };
  const evasions: SyntheticGroundTruth['evasions'] = [];
  for (const [r, removed] of returnOf) {
    const via: EvasionEvidenceKind[] = [];
    if ((deviceSource.get(r) ?? r) === (deviceSource.get(removed) ?? removed)) via.push('device');
    if ((emailSource.get(r) ?? r) === (emailSource.get(removed) ?? removed)) via.push('email');
    if (flags[r] & flags[removed] & FLAG_PHONE && (phoneSource.get(r) ?? r) === (phoneSource.get(removed) ?? removed)) via.push('phone');
    if (ipRange[r] === ipRange[removed]) via.push('ip24');
    // Members of one network share followees anyway (the same sellers), so only the planted
    // re-follow counts, and only where it left a clear overlap.
    const overlap = Math.max(jaccard(followeesOf(removed), followeesOf(r)), jaccard(new Set(followersOf.get(removed)), new Set(followersOf.get(r))));
    if (returnPlan.get(r)!.followers && overlap >= FOLLOWER_OVERLAP) via.push('followers');
    if (via.length === 0) {
      // The circle could not be rebuilt (everyone gone); the range is the one trace left.
      ipRange[r] = ipRange[removed];
      via.push('ip24');
    }
    evasions.push({ removed: ids(removed), returned: ids(r), via });
  }
  evasions.sort((x, y) => (x.returned < y.returned ? -1 : 1));

  const removedOnRange = new Map<number, number>(); // ip range -> earliest removal
  for (let i = 0; i < P; i++) {
    if (deleteSec[i] >= 0 && !(removedOnRange.get(ipRange[i])! <= deleteSec[i])) removedOnRange.set(ipRange[i], deleteSec[i]);
  }
  const decoys: string[] = [];
  const minors: string[] = [];
  for (let i = 0; i < P; i++) {
    if (flags[i] & FLAG_MINOR) minors.push(ids(i));
    if (kind[i] !== KIND_ORDINARY && kind[i] !== KIND_DECOY) continue;
    const removal = removedOnRange.get(ipRange[i]);
    if (removal !== undefined && createdSec[i] > removal) decoys.push(ids(i));
  }
  const truth: SyntheticGroundTruth = {
    networks: networkMembers.map((list, n) => ({
      members: list.map(ids),
      sellers: networkSellers[n].map(ids),
      buyers: networkBuyers[n].map(ids),
      shape: o.specs[n].shape,
      seeded: o.specs[n].seeded ?? true,
      ...(bridgeBuyers.has(n) ? { bridgedTo: o.specs[n].bridgedTo, bridgeBuyers: bridgeBuyers.get(n)!.map(ids) } : {}),
    })),
    celebrities: celebrities.map(ids),
    denseCommunities: denseCommunities.map((group) => group.map(ids)),
    minors,
    removed: [...Array(P).keys()].filter((i) => deleteSec[i] >= 0).map(ids),
    evasions,
    decoys,
  };

  // ---- how many random interactions, hashtags and searches each hour gets: in proportion
  // to the follows and accounts that exist by then, and none before a pair or account that
  // is never removed exists, so the stream's fallback pick is always valid.
  const F = followSrc.length;
  let safeEdge = -1;
  for (let e = 0; e < F && safeEdge < 0; e++) if (deleteSec[followSrc.data[e]] < 0 && deleteSec[followDst.data[e]] < 0) safeEdge = e;
  let safeAccount = -1;
  for (let i = 0; i < P && safeAccount < 0; i++) if (deleteSec[i] < 0) safeAccount = i;
  const safeEdgeTick = safeEdge < 0 ? T : lowerBound(followStart, 0, T + 1, safeEdge + 1) - 1;
  const safeAccountTick = safeAccount < 0 ? T : createdTick[safeAccount];
  const randomCounts = new Int32Array(T * RANDOM_KINDS);
  {
    const countRng = new Rng(o.seed, STREAM_COUNTS);
    let edgeWeight = 0;
    let accountWeight = 0;
    for (let t = 0; t < T; t++) {
      if (t > safeEdgeTick) edgeWeight += followStart[t];
      if (t > safeAccountTick) accountWeight += createdBefore[t];
    }
    for (let t = 0; t < T; t++) {
      RANDOM_INTERACTIONS.forEach((interaction, k) => {
        if (t > safeEdgeTick) randomCounts[t * RANDOM_KINDS + k] = countRng.stochasticRound((interaction.perFollow * F * followStart[t]) / edgeWeight);
      });
      if (t > safeAccountTick) {
        randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length] = countRng.stochasticRound((HASHTAGS_PER_ACCOUNT * P * createdBefore[t]) / accountWeight);
        randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length + 1] = countRng.stochasticRound((SEARCHES_PER_ACCOUNT * P * createdBefore[t]) / accountWeight);
      }
    }
  }

  const sorted = sortSchedule(schedule, T);
  const counts: Record<string, number> = Object.fromEntries(ALL_TYPES.map((type) => [type, 0]));
  counts.account_created = P;
  counts.account_attributes = P;
  counts.follow = F;
  for (let i = 0; i < P; i++) {
    counts.identifier += 3 + (flags[i] & FLAG_PHONE ? 1 : 0);
    if (flags[i] & FLAG_LINK) counts.profile_link++;
  }
  for (let k = 0; k < sorted.type.length; k++) counts[EVENT_TYPE[sorted.type[k]]]++;
  const randomTypes = [...RANDOM_INTERACTIONS.map((r) => EVENT_TYPE[r.code]), 'hashtag', 'search'];
  for (let t = 0; t < T; t++) for (let k = 0; k < RANDOM_KINDS; k++) counts[randomTypes[k]] += randomCounts[t * RANDOM_KINDS + k];

  const model: Model = {
    seed: o.seed,
    ticks: T,
    startMs: o.startMs,
    accountCount: P,
    ids,
    createdSec,
    createdBefore,
    deleteTick,
    community,
    flags,
    ipRange,
    deviceSource,
    emailSource,
    phoneSource,
    followSrc: followSrc.trimmed(),
    followDst: followDst.trimmed(),
    followVia: followViaBytes.slice(0, F),
    followStart,
    randomCounts,
    safeEdge,
    safeAccount,
    strings,
    schedule: sorted,
    salts: {
      device: fmix32(Math.imul(o.seed, 0x9e3779b1) ^ 0x0de71ce0),
      email: fmix32(Math.imul(o.seed, 0x9e3779b1) ^ 0x3a11b0c5),
      phone: fmix32(Math.imul(o.seed, 0x9e3779b1) ^ 0x7e1e9404),
      link: fmix32(Math.imul(o.seed, 0x9e3779b1) ^ 0x11c4a7e2),
    },
  };
  return { model, truth, counts };
}

/** Jaccard similarity, or 0 when fewer than 3 are in common. */
export function jaccard(x: Set<string> | Set<number>, y: Set<string> | Set<number>): number {
  let shared = 0;
  for (const v of y as Set<unknown>) if ((x as Set<unknown>).has(v)) shared++;
  return shared < 3 ? 0 : shared / (x.size + y.size - shared);
}

/**
 * Walker alias tables, one per community, as (threshold, account, alias account) triples:
 * draw a slot uniformly, then keep its account below the threshold or take its alias.
 */
function aliasTables(start: Int32Array, community: Int32Array, weight: Float64Array): Float64Array {
  const groups = start.length - 1;
  const members = new Int32Array(community.length);
  const cursor = start.slice(0, groups);
  for (let i = 0; i < community.length; i++) members[cursor[community[i]]++] = i;
  const table = new Float64Array(3 * community.length);
  const scaled = new Float64Array(community.length);
  const small: number[] = [];
  const large: number[] = [];
  for (let c = 0; c < groups; c++) {
    const from = start[c];
    const n = start[c + 1] - from;
    if (n === 0) continue;
    let total = 0;
    for (let k = from; k < from + n; k++) total += weight[members[k]];
    small.length = 0;
    large.length = 0;
    for (let k = from; k < from + n; k++) {
      scaled[k] = (weight[members[k]] * n) / total;
      (scaled[k] < 1 ? small : large).push(k);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      table[3 * s] = scaled[s];
      table[3 * s + 1] = members[s];
      table[3 * s + 2] = members[l];
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    // Left over by rounding: keep their own account always.
    for (const k of [...small, ...large]) {
      table[3 * k] = 1;
      table[3 * k + 1] = members[k];
      table[3 * k + 2] = members[k];
    }
  }
  return table;
}

function shuffle<T>(rng: Rng, list: T[]): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
}

function sample<T>(rng: Rng, list: T[], k: number): T[] {
  const copy = [...list];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, k);
}

function bucket(ticks: Int32Array, T: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(T + 1);
  for (const t of ticks) start[t + 1]++;
  for (let t = 0; t < T; t++) start[t + 1] += start[t];
  const cursor = start.slice(0, T);
  const order = new Int32Array(ticks.length);
  for (let i = 0; i < ticks.length; i++) order[cursor[ticks[i]]++] = i;
  return { start, order };
}

// ---------------------------------------------------------------- the stream

/** One hour's events as compact rows, put in time order by a counting sort on the second. */
class HourBuffer {
  offset = new Int32Array(1 << 14);
  type = new Int32Array(1 << 14);
  a = new Int32Array(1 << 14);
  b = new Int32Array(1 << 14);
  aux = new Int32Array(1 << 14);
  order = new Int32Array(1 << 14);
  length = 0;
  private readonly bySecond = new Int32Array(HOUR + 1);

  push(offset: number, type: number, a: number, b: number, aux: number): void {
    if (this.length === this.offset.length) this.grow();
    const k = this.length++;
    this.offset[k] = offset;
    this.type[k] = type;
    this.a[k] = a;
    this.b[k] = b;
    this.aux[k] = aux;
  }

  private grow(): void {
    const double = (array: Int32Array) => {
      const next = new Int32Array(array.length * 2);
      next.set(array);
      return next;
    };
    this.offset = double(this.offset);
    this.type = double(this.type);
    this.a = double(this.a);
    this.b = double(this.b);
    this.aux = double(this.aux);
    this.order = new Int32Array(this.offset.length);
  }

  sort(): void {
    const count = this.bySecond;
    count.fill(0);
    for (let k = 0; k < this.length; k++) count[this.offset[k] + 1]++;
    for (let s = 0; s < HOUR; s++) count[s + 1] += count[s];
    for (let k = 0; k < this.length; k++) this.order[count[this.offset[k]]++] = k;
  }
}

function* streamEvents(m: Model): Generator<PlatformEventInput> {
  const rng = new Rng();
  const hour = new HourBuffer();
  const seconds = Array.from({ length: HOUR }, (_, s) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000Z`);
  const aligned = m.startMs % (HOUR * 1000) === 0;
  let serial = 0;
  const idPrefix = `syn-${m.seed}-`;

  for (let t = 0; t < m.ticks; t++) {
    hour.length = 0;
    rng.reseed(m.seed, STREAM_TICK, t);
    const base = t * HOUR;

    for (let i = m.createdBefore[t]; i < m.createdBefore[t + 1]; i++) {
      const offset = m.createdSec[i] - base;
      hour.push(offset, E_CREATED, i, -1, 0);
      hour.push(offset, E_ATTRIBUTES, i, -1, 0);
      hour.push(offset, E_DEVICE, i, -1, 0);
      hour.push(offset, E_EMAIL, i, -1, 0);
      if (m.flags[i] & FLAG_PHONE) hour.push(offset, E_PHONE, i, -1, 0);
      hour.push(offset, E_IP24, i, -1, 0);
      if (m.flags[i] & FLAG_LINK) hour.push(offset, E_LINK_ACCOUNT, i, -1, 0);
    }

    for (let k = m.followStart[t]; k < m.followStart[t + 1]; k++) hour.push(rng.int(HOUR), E_FOLLOW, m.followSrc[k], m.followDst[k], m.followVia[k]);

    // Likes, comments, messages and shares along follows that exist by now, half of them on
    // recent ones; a pick touching a removed account is drawn again.
    const edges = m.followStart[t];
    const recent = Math.max(1, Math.floor(edges / 8));
    for (let k = 0; k < RANDOM_INTERACTIONS.length; k++) {
      const code = RANDOM_INTERACTIONS[k].code;
      for (let n = m.randomCounts[t * RANDOM_KINDS + k]; n > 0; n--) {
        let e = m.safeEdge;
        for (let tries = 0; tries < 64; tries++) {
          const pick = rng.chance(0.5) ? edges - 1 - rng.int(Math.min(edges, recent)) : rng.int(edges);
          if (m.deleteTick[m.followSrc[pick]] > t && m.deleteTick[m.followDst[pick]] > t) {
            e = pick;
            break;
          }
        }
        let a = m.followSrc[e];
        let b = m.followDst[e];
        if (code === E_MESSAGE && rng.chance(0.5)) [a, b] = [b, a];
        hour.push(rng.int(HOUR), code, a, b, rng.int(8));
      }
    }

    const existing = m.createdBefore[t];
    const pickAccount = () => {
      for (let tries = 0; tries < 64; tries++) {
        const i = rng.int(existing);
        if (m.deleteTick[i] > t) return i;
      }
      return m.safeAccount;
    };
    for (let n = m.randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length]; n > 0; n--) {
      const a = pickAccount();
      // Community topics mostly, the platform-wide favourites sometimes.
      const tag = rng.chance(0.15) ? -1 - rng.skewed(GLOBAL_TAGS) : m.community[a] * 16 + rng.skewed(COMMUNITY_TAGS);
      hour.push(rng.int(HOUR), E_TAG, a, -1, tag);
    }
    for (let n = m.randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length + 1]; n > 0; n--) {
      hour.push(rng.int(HOUR), E_SEARCH, pickAccount(), -1, rng.skewed(PLAIN_QUERIES));
    }

    const s = m.schedule;
    for (let k = s.start[t]; k < s.start[t + 1]; k++) hour.push(s.offset[k], s.type[k], s.a[k], s.b[k], s.aux[k]);

    hour.sort();
    const prefix = aligned ? new Date(m.startMs + base * 1000).toISOString().slice(0, 14) : '';
    for (let j = 0; j < hour.length; j++) {
      const k = hour.order[j];
      const offset = hour.offset[k];
      const at = aligned ? prefix + seconds[offset] : new Date(m.startMs + (base + offset) * 1000).toISOString();
      yield materialise(m, idPrefix + serial++, at, hour.type[k], hour.a[k], hour.b[k], hour.aux[k]);
    }
  }
}

type EventOf<K extends PlatformEventInput['type']> = Extract<PlatformEventInput, { type: K }>;

function materialise(m: Model, event_id: string, occurred_at: string, type: number, a: number, b: number, aux: number): PlatformEventInput {
  const { ids } = m;
  switch (type) {
    case E_CREATED:
      return { event_id, occurred_at, type: 'account_created', account: ids(a) };
    case E_ATTRIBUTES: {
      const f = m.flags[a];
      const event: EventOf<'account_attributes'> = { event_id, occurred_at, type: 'account_attributes', account: ids(a), minor: (f & FLAG_MINOR) !== 0 };
      if (f & FLAG_MINOR) event.minor_basis = f & FLAG_ESTIMATED ? 'estimated' : 'declared';
      if (f & FLAG_VERIFIED) event.verified = true;
      return event;
    }
    case E_DEVICE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'device', value: hex128(m.deviceSource.get(a) ?? a, m.salts.device) };
    case E_EMAIL:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'email', value: hex128(m.emailSource.get(a) ?? a, m.salts.email) };
    case E_PHONE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'phone', value: hex128(m.phoneSource.get(a) ?? a, m.salts.phone) };
    case E_IP24: {
      const r = m.ipRange[a];
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'ip24', value: `${10 + (r >>> 16)}.${(r >>> 8) & 255}.${r & 255}.0/24` };
    }
    case E_HANDLE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'offsite_handle', value: m.strings[aux] };
    case E_LINK_ACCOUNT: {
      // Ordinary accounts link out too, some to the same site as sellers, so a domain alone proves nothing.
      const h = fmix32(a ^ m.salts.link);
      const u = h % 10;
      const url = u < 6 ? `https://links.example/u/${ids(a)}` : u < 8 ? `https://offsite.example/page-${h % 500}` : `https://site-${h % 50}.example/`;
      return { event_id, occurred_at, type: 'profile_link', actor: ids(a), url };
    }
    case E_LINK_STRING:
      return { event_id, occurred_at, type: 'profile_link', actor: ids(a), url: m.strings[aux] };
    case E_FOLLOW: {
      const via = VIA_NAMES[aux];
      return via === undefined
        ? { event_id, occurred_at, type: 'follow', actor: ids(a), target: ids(b) }
        : { event_id, occurred_at, type: 'follow', actor: ids(a), target: ids(b), via };
    }
    case E_MESSAGE:
      return { event_id, occurred_at, type: 'message', actor: ids(a), target: ids(b) };
    case E_LIKE:
      return { event_id, occurred_at, type: 'like', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
    case E_SHARE:
      return { event_id, occurred_at, type: 'share', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
    case E_COMMENT: {
      const text = (aux >> 4) - 1;
      const event: EventOf<'comment'> = { event_id, occurred_at, type: 'comment', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
      if (text >= 0) event.text = m.strings[text];
      return event;
    }
    case E_TAG:
      return { event_id, occurred_at, type: 'hashtag', actor: ids(a), hashtag: aux < 0 ? `tag-${-aux - 1}` : `tag-${aux >> 4}-${aux & 15}` };
    case E_TAG_STRING:
      return { event_id, occurred_at, type: 'hashtag', actor: ids(a), hashtag: m.strings[aux] };
    case E_SEARCH:
      return { event_id, occurred_at, type: 'search', actor: ids(a), query: `query-${aux}` };
    case E_SEARCH_STRING:
      return { event_id, occurred_at, type: 'search', actor: ids(a), query: m.strings[aux] };
    case E_IMPRESSION:
      return { event_id, occurred_at, type: 'recommendation_impression', viewer: ids(a), shown: ids(b), surface: SURFACES[aux] };
    case E_DELETED:
      return { event_id, occurred_at, type: 'account_deleted', account: ids(a), reason: 'enforcement' };
    default:
      throw new Error(`unknown synthetic event code ${type}`);
  }
}
