
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
import type { SyntheticPlatform, SyntheticPlatformOptions } from './synthetic-types.ts';
import { resolveOptions } from './synthetic-options.ts';
import { buildModel } from './synthetic-model.ts';
import { streamEvents } from './synthetic-stream.ts';
import { HOUR } from './synthetic-codes.ts';

export type { EvasionEvidenceKind, SyntheticGroundTruth, SyntheticPlatform, SyntheticPlatformOptions } from './synthetic-types.ts';
export { FOLLOWER_OVERLAP } from './synthetic-codes.ts';
export { jaccard } from './synthetic-truth.ts';

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
