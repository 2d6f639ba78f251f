/** The synthetic platform's public shapes: its options, its ground truth and the platform itself. */
import type { PlatformEventInput } from '../ingest/platform-events.ts';
import type { NetworkShape, PlantedNetworkSpec } from './synthetic-shapes.ts';

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
