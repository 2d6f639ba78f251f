/** The synthetic platform's ground truth: planted networks, evasions and their evidence, decoys, minors. */
import type { FollowGraph } from './synthetic-simulation.ts';
import type { Plan } from './synthetic-plan.ts';
import type { Population } from './synthetic-population.ts';
import type { ResolvedOptions } from './synthetic-options.ts';
import type { EvasionEvidenceKind, SyntheticGroundTruth } from './synthetic-types.ts';
import { accountId, FLAG_MINOR, FLAG_PHONE, FOLLOWER_OVERLAP, KIND_DECOY, KIND_ORDINARY } from './synthetic-codes.ts';

/** Reads the population and the simulated follows; a returned account whose circle could not be rebuilt gets its removed account's ip range here. */
export function groundTruth(o: ResolvedOptions, pop: Population, plan: Plan, graph: FollowGraph): SyntheticGroundTruth {
  const { P, deviceSource, emailSource, phoneSource, flags, ipRange, returnOf, returnPlan, deleteSec, kind, createdSec, celebrities } = pop;
  const { networkMembers, networkSellers, networkBuyers } = plan;
  const { degree, followee, followersOf, denseCommunities, bridgeBuyers } = graph;
  const ids = accountId;
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
  return truth;
}

/** Jaccard similarity, or 0 when fewer than 3 are in common. */
export function jaccard(x: Set<string> | Set<number>, y: Set<string> | Set<number>): number {
  let shared = 0;
  for (const v of y as Set<unknown>) if ((x as Set<unknown>).has(v)) shared++;
  return shared < 3 ? 0 : shared / (x.size + y.size - shared);
}
