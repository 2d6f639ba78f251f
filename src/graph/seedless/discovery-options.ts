/**
 * Settings of seedless discovery, with the defaults every caller gets when it leaves one out.
 * The weights are evidence units: an account becomes a candidate member at `memberThreshold`
 * units; one coded term used by a few dozen accounts is worth about 0.6 of a unit, so it
 * takes two independent pieces of evidence (two coded terms, a term and a tie to another
 * flagged account, a shared off-platform link and a seller's audience...) to be flagged.
 */
export interface DiscoveryOptions {
  /** Evidence (in units) an account needs to be a candidate member on its own. Default 1. */
  memberThreshold?: number;
  /** Features used by more accounts than this link nothing and carry no suspicion. Default max(500, 2% of accounts). */
  maxFeatureAccounts?: number;
  /** Weight of each feature kind before its specificity; term-list matches weigh most. */
  kindWeights?: Partial<Record<string, number>>;
  /** A feature inherits suspicion from term-matched users when at least this many of its users match a term. Default 2. */
  coOccurrenceMinUsers?: number;
  /** ...and their share among its users is at least this many times the share among all accounts. Default 10. */
  coOccurrenceMinLift?: number;
  /** Inherited suspicion never exceeds this (a term match is 1). Default 0.8. */
  coOccurrenceCap?: number;
  /** Rounds of co-occurrence expansion; each later round's suspicion is damped by `coOccurrenceDamping`. Default 2. */
  coOccurrenceRounds?: number;
  coOccurrenceDamping?: number;
  /** A hashtag or search whose users are (nearly) all matched by one term is the term itself, not more evidence. Default 0.9. */
  aliasShare?: number;
  /** Seller structure: at least this many distinct accounts follow or message the account... Default 5. */
  sellerMinAudience?: number;
  /** ...at most this many (an account everyone follows is popular, not a seller). Default min(1000, max(50, 5% of accounts)). */
  sellerMaxAudience?: number;
  /** ...at least this many times as many as it turns to itself. Default 3. */
  sellerMinAsymmetry?: number;
  /** New-account bursts: accounts created within this window of each other... Default 2 days. */
  burstWindowMs?: number;
  /** ...at least this many sharing a feature or a seller... Default 5. */
  burstMinAccounts?: number;
  /** ...and at least this many times as many as the feature's creation spread would put in the window. Default 4. */
  burstMinLift?: number;
  /** A burst in a seller's audience counts only when it is at least this share of the audience (a celebrity's audience holds everyone's bursts). Default 0.2. */
  burstAudienceMinShare?: number;
  /** A tie counts only when flagged accounts are at least this share of the account's neighbours (a popular account is followed by everyone, flagged or not). Default 0.1. */
  tieMinShare?: number;
  /** ...and chance would put that many in the densest window with at most this probability (Poisson, corrected for the number of windows). Default 0.001. */
  burstMaxPValue?: number;
  /** Evidence units of each signal. */
  signalWeights?: Partial<SignalWeights>;
  /** Accounts whose uploads matched a hash bank (graph indexes), with the number of matched uploads. */
  hashMatches?: ReadonlyMap<number, number>;
  /**
   * A connected group is split where parts of it are much denser than the whole (two networks
   * bridged by a few shared buyers): CPM resolution at this share of the group's density. 0 keeps groups whole. Default 0.5.
   */
  splitShare?: number;
  /** Smallest candidate network reported. Default 4. */
  minCandidateSize?: number;
  /** Candidates with at least this share of already-confirmed members are known networks, not discoveries. Default 0.5. */
  maxConfirmedShare?: number;
  /** At most this many candidates, best first. Default 100. */
  candidateLimit?: number;
}

export interface SignalWeights {
  /** Seller structure (audience, asymmetry, an off-platform link). */
  seller: number;
  /** Turning to a flagged seller. */
  buyer: number;
  /** Each distinct flagged account an account interacts with (capped at two). */
  tie: number;
  /** Being part of a new-account burst. */
  burst: number;
  /** An upload matched a hash bank. */
  hashMatch: number;
  /** A seller whose audience holds a new-account burst. */
  burstAudience: number;
}

export type ResolvedDiscoveryOptions = Required<Omit<DiscoveryOptions, 'hashMatches' | 'kindWeights' | 'signalWeights' | 'maxFeatureAccounts' | 'sellerMaxAudience'>> & {
  maxFeatureAccounts: number;
  sellerMaxAudience: number;
  kindWeights: Record<string, number>;
  signalWeights: SignalWeights;
  hashMatches: ReadonlyMap<number, number>;
};

/** Feature kinds discovery reads; identifiers (same person, not same network) are ban evasion's. */
export const DEFAULT_KIND_WEIGHTS: Record<string, number> = { term: 1, hashtag: 0.8, search: 0.8, link: 0.8, link_domain: 0.3 };

export const DEFAULT_SIGNAL_WEIGHTS: SignalWeights = { seller: 0.5, buyer: 0.5, tie: 0.35, burst: 0.4, hashMatch: 1, burstAudience: 0.5 };

export const DISCOVERY_DEFAULTS = {
  memberThreshold: 1,
  coOccurrenceMinUsers: 2,
  coOccurrenceMinLift: 10,
  coOccurrenceCap: 0.8,
  coOccurrenceRounds: 2,
  coOccurrenceDamping: 0.5,
  aliasShare: 0.9,
  sellerMinAudience: 5,
  sellerMinAsymmetry: 3,
  burstWindowMs: 2 * 24 * 3600 * 1000,
  burstMinAccounts: 5,
  burstMinLift: 4,
  burstMaxPValue: 0.001,
  burstAudienceMinShare: 0.2,
  tieMinShare: 0.1,
  splitShare: 0.5,
  minCandidateSize: 4,
  maxConfirmedShare: 0.5,
  candidateLimit: 100,
} as const;

export function resolveDiscoveryOptions(accountCount: number, options: DiscoveryOptions = {}): ResolvedDiscoveryOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return {
    ...DISCOVERY_DEFAULTS,
    ...defined,
    maxFeatureAccounts: options.maxFeatureAccounts ?? Math.max(500, Math.ceil(accountCount * 0.02)),
    sellerMaxAudience: options.sellerMaxAudience ?? Math.min(1000, Math.max(50, Math.ceil(accountCount * 0.05))),
    kindWeights: { ...DEFAULT_KIND_WEIGHTS, ...(options.kindWeights as Record<string, number> | undefined) },
    signalWeights: { ...DEFAULT_SIGNAL_WEIGHTS, ...options.signalWeights },
    hashMatches: options.hashMatches ?? new Map(),
  };
}
