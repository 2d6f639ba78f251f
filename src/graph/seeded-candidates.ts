/**
 * Seeded detection and seedless discovery, joined.
 *
 * Seeded detection groups the accounts its walks reach with Leiden on the Constant Potts
 * Model, which keeps a group only where it is dense: at resolution r, a group of k accounts
 * needs about r * k^2 / 2 of internal weight. A star whose buyers each turn to one seller and
 * to nobody else has about k, so past a dozen buyers it falls apart into fragments, and so
 * does any network held together by what its members share (a hashtag every member uses
 * spreads one unit of weight over the pairs). Seedless discovery groups by evidence instead
 * (a seller's audience, coded terms, shared links), which is what holds such a network
 * together. So:
 *
 * - a candidate network that contains a seed a person confirmed, or that such a seed turns to
 *   (follows or messages one of its sellers or two of its members: network-detector.ts adds
 *   such seeds to the candidate), is that seed's network: it absorbs the seeded groups that
 *   lie mostly inside it, and is reported with them. A seed only suspected, or confirmed by a
 *   hash match's automatic label (one match, which may be a false positive), expands like any
 *   other but does not do this: reporting a network stores it, sets its members' network and
 *   tells the rules, which a whole candidate should not get from one unreviewed account. Its
 *   candidate stays a candidate for review, and its seeded group is judged as below;
 * - every other seeded group keeps only the accounts no such network claims, and needs a
 *   seed inside or, without one, term matches on a quarter of its members and at least two
 *   members with evidence of their own (a term match, membership of a candidate): one term
 *   user and its friends are not a network. Taking the seed into its seller's network is what
 *   leaves the group around a seed's own benign circle with no seed, and so unreported.
 */
export interface CombineInputs {
  /** Seeded groups, from the community detection. */
  groups: number[][];
  /** Seedless candidate networks' members, with the confirmed seeds that turn to one of its sellers. */
  candidates: number[][];
  isSeed: Uint8Array;
  /** Seeds a reviewer or operator confirmed: only these make a candidate a reported network. */
  isConfirmedByPerson: Uint8Array;
  termMatched: Uint8Array;
  minNetworkSize: number;
}

export function combineWithCandidates({ groups, candidates, isSeed, isConfirmedByPerson, termMatched, minNetworkSize }: CombineInputs): number[][] {
  const inCandidate = new Uint8Array(isSeed.length);
  for (const candidate of candidates) for (const account of candidate) inCandidate[account] = 1;
  const absorbed = new Uint8Array(groups.length);
  const networks: number[][] = [];
  const claimed = new Uint8Array(isSeed.length);
  for (const candidate of candidates) {
    if (!candidate.some((account) => isConfirmedByPerson[account])) continue;
    const members = new Set(candidate.filter((account) => !claimed[account]));
    const inside = new Set(members);
    groups.forEach((group, g) => {
      if (absorbed[g]) return;
      const shared = group.reduce((sum, account) => sum + (inside.has(account) ? 1 : 0), 0);
      if (shared * 2 < group.length) return;
      absorbed[g] = 1;
      for (const account of group) if (!claimed[account]) members.add(account);
    });
    if (members.size < minNetworkSize) continue;
    for (const account of members) claimed[account] = 1;
    networks.push([...members]);
  }
  const hasEvidence = (account: number) => termMatched[account] === 1 || inCandidate[account] === 1;
  groups.forEach((group, g) => {
    if (absorbed[g]) return;
    const rest = group.filter((account) => !claimed[account]);
    if (rest.length < minNetworkSize) return;
    const seeds = rest.some((account) => isSeed[account]);
    const terms = rest.filter((account) => termMatched[account]).length;
    if (seeds || (terms >= rest.length / 4 && rest.filter(hasEvidence).length >= 2)) networks.push(rest);
  });
  return networks;
}
