/**
 * The synthetic platform's model: the structural simulation (who exists when, who follows
 * whom, what the recommender showed) in typed arrays, from which the event stream is rebuilt.
 */
import { planPopulation } from './synthetic-population.ts';
import { planSchedule } from './synthetic-plan.ts';
import { simulate } from './synthetic-simulation.ts';
import { groundTruth } from './synthetic-truth.ts';
import type { ResolvedOptions } from './synthetic-options.ts';
import { fmix32, Rng } from './synthetic-random.ts';
import { lowerBound, type SortedSchedule, sortSchedule } from './synthetic-columns.ts';
import type { SyntheticGroundTruth } from './synthetic-types.ts';
import { accountId, ALL_TYPES, EVENT_TYPE, FLAG_LINK, FLAG_PHONE, HASHTAGS_PER_ACCOUNT, RANDOM_INTERACTIONS, RANDOM_KINDS, SEARCHES_PER_ACCOUNT, STREAM_COUNTS, STREAM_PLAN, STREAM_SHAPES } from './synthetic-codes.ts';

export interface Model {
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

export function buildModel(o: ResolvedOptions): { model: Model; truth: SyntheticGroundTruth; counts: Record<string, number> } {
  const rng = new Rng(o.seed, STREAM_PLAN);
  // Everything the shapes add draws from its own stream, so the classic platform is unchanged.
  const shapeRng = new Rng(o.seed, STREAM_SHAPES);
  const pop = planPopulation(o, rng, shapeRng);
  const plan = planSchedule(o, rng, shapeRng, pop);
  const graph = simulate(o, shapeRng, pop, plan);
  const truth = groundTruth(o, pop, plan, graph);
  const { T, P, createdSec, createdTick, createdBefore, deleteTick, deleteSec, community, flags, ipRange, deviceSource, emailSource, phoneSource } = pop;
  const { strings, schedule } = plan;
  const { followSrc, followDst, followViaBytes, followStart } = graph;
  const ids = accountId;

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
