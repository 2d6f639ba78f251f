/**
 * The shapes a planted network can take on the synthetic platform, after the ones an
 * independent evaluation planted (issue 14): how many sellers and buyers, how the members
 * find each other, and whether anyone has confirmed one of them yet.
 */

/**
 * - `star`: buyers follow and message a few sellers, and each other a little.
 * - `ring`: like a star, and the sellers share each other's posts and one common off-site link.
 * - `camouflaged`: each buyer follows one seller, messages rarely, otherwise follows its home
 *   community and the celebrities like anyone else.
 * - `sparse`: few follows at all; members are tied by coded hashtags and search queries
 *   (placeholders such as `tag-code3-1`, `query-code3-0`), which is how the buyers found each other.
 */
export type NetworkShape = 'star' | 'ring' | 'camouflaged' | 'sparse';
export const NETWORK_SHAPES: readonly NetworkShape[] = ['star', 'ring', 'camouflaged', 'sparse'];

export interface PlantedNetworkSpec {
  shape: NetworkShape;
  sellers: number;
  buyers: number;
  /** Whether the benchmark may confirm some of its members as seeds; default true. */
  seeded?: boolean;
  /** Index of another planted network whose sellers BRIDGE_BUYERS of this one's buyers also buy from. */
  bridgedTo?: number;
}

/** Buyers shared with the network a bridged network is bridged to. */
export const BRIDGE_BUYERS = 6;

/** The seven networks of issue 14's evaluation: five shapes, two of them unseeded, one of those bridged. */
export const ISSUE_14_NETWORKS: PlantedNetworkSpec[] = [
  { shape: 'star', sellers: 3, buyers: 45 },
  { shape: 'ring', sellers: 8, buyers: 30 },
  { shape: 'star', sellers: 4, buyers: 120 },
  { shape: 'camouflaged', sellers: 5, buyers: 150 },
  { shape: 'sparse', sellers: 3, buyers: 57 },
  { shape: 'star', sellers: 3, buyers: 45, seeded: false, bridgedTo: 2 },
  { shape: 'sparse', sellers: 3, buyers: 57, seeded: false },
];

/** Per shape: the share of a member's follows that go outside the network, given the platform's camouflage. */
export function shapeCamouflage(shape: NetworkShape, camouflage: number): number {
  if (shape === 'camouflaged') return Math.max(camouflage, 0.9);
  if (shape === 'sparse') return Math.max(camouflage, 0.8);
  return camouflage;
}

/** Per shape: how many follows a member makes, from what an ordinary member of a star would make. */
export function shapeFollowCap(shape: NetworkShape, cap: number): number {
  return shape === 'sparse' ? Math.max(2, Math.round(cap * 0.25)) : cap;
}

export function validateSpecs(specs: PlantedNetworkSpec[]): PlantedNetworkSpec[] {
  specs.forEach((spec, n) => {
    if (!NETWORK_SHAPES.includes(spec.shape)) throw new RangeError(`plantedNetworks[${n}].shape must be one of ${NETWORK_SHAPES.join(', ')}`);
    if (!Number.isInteger(spec.sellers) || spec.sellers < 1) throw new RangeError(`plantedNetworks[${n}].sellers must be an integer >= 1`);
    if (!Number.isInteger(spec.buyers) || spec.buyers < 1) throw new RangeError(`plantedNetworks[${n}].buyers must be an integer >= 1`);
    if (spec.bridgedTo !== undefined) {
      if (!Number.isInteger(spec.bridgedTo) || spec.bridgedTo < 0 || spec.bridgedTo >= specs.length || spec.bridgedTo === n) {
        throw new RangeError(`plantedNetworks[${n}].bridgedTo must name another planted network`);
      }
      if (spec.buyers < BRIDGE_BUYERS) throw new RangeError(`plantedNetworks[${n}] needs at least ${BRIDGE_BUYERS} buyers to be bridged`);
    }
  });
  return specs;
}
