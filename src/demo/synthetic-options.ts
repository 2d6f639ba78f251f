/** Checking the synthetic platform's options and filling in their defaults. */
import { type PlantedNetworkSpec, validateSpecs } from './synthetic-shapes.ts';
import type { SyntheticPlatformOptions } from './synthetic-types.ts';

export interface ResolvedOptions {
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

export function resolveOptions(options: SyntheticPlatformOptions): ResolvedOptions {
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
export function starNetworks(count: number, size: number): PlantedNetworkSpec[] {
  const sellers = Math.max(1, Math.round(size * 0.1));
  return Array.from({ length: count }, () => ({ shape: 'star' as const, sellers, buyers: size - sellers }));
}
