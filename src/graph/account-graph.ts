/**
 * The account graph in memory, on flat typed arrays: 1M accounts and 20M interactions fit
 * in well under a gigabyte and are walked many times faster than through a general graph
 * object (see bench/network-detection.ts, which measures graphology beside it).
 *
 * Nodes 0..accountCount-1 are accounts; nodes after them are shared features (a hashtag,
 * a link, a hashed device id...), so "accounts that share X" is a two-step walk instead of
 * a projection whose size grows with the square of a popular feature's users.
 */

export const INTERACTION_KINDS = ['follow', 'message', 'comment', 'like', 'share'] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

const KIND_BITS = Object.fromEntries(INTERACTION_KINDS.map((kind, bit) => [kind, 1 << bit])) as Record<InteractionKind, number>;

/** How much one interaction says about two accounts being connected; a message says more than a like. */
export const INTERACTION_WEIGHTS: Record<InteractionKind, number> = { follow: 1, message: 3, comment: 1.5, like: 0.5, share: 1.5 };

/** How strongly sharing a feature ties two accounts: a device or email says "same person", an IP range barely anything. */
export const FEATURE_WEIGHTS: Record<string, number> = {
  'identifier:device': 5,
  'identifier:email': 5,
  'identifier:phone': 5,
  'identifier:offsite_handle': 4,
  'identifier:ip24': 0.3,
  link: 2,
  link_domain: 0.5,
  hashtag: 1,
  term: 1,
  search: 0.5,
};

export const LABEL_NONE = 0;
export const LABEL_SUSPECTED = 1;
export const LABEL_CONFIRMED = 2;
export const LABEL_CLEARED = 3;
export const LABEL_CODES: Record<string, number> = { suspected: LABEL_SUSPECTED, confirmed: LABEL_CONFIRMED, cleared: LABEL_CLEARED };
export const LABEL_NAMES = ['none', 'suspected', 'confirmed', 'cleared'] as const;

export interface AccountRecord {
  storeId: number;
  externalId: string;
  label?: number;
  /** The label was given by a rule (a hash match labels the uploader), not by a reviewer or operator. */
  labelAutomatic?: boolean;
  minor?: boolean;
  /** ms since the epoch; NaN when unknown */
  createdAt?: number;
  deletedAt?: number;
  /** Removed by the platform's enforcement (not the user's own deletion). */
  enforced?: boolean;
}

export interface GraphBuildOptions {
  /** Features shared by more accounts than this link nothing useful and are left out. */
  maxFeatureDegree?: number;
}

type TypedArray = Int32Array | Float32Array | Uint8Array;

/** Grows a typed array as records arrive, so a 20M-edge load never holds 20M objects. */
class Growable<T extends TypedArray> {
  length = 0;
  constructor(public array: T) {}
  push(value: number): void {
    if (this.length === this.array.length) {
      const next = new (this.array.constructor as new (size: number) => T)(this.array.length * 2);
      next.set(this.array);
      this.array = next;
    }
    this.array[this.length++] = value;
  }
  trimmed(): T {
    return this.array.subarray(0, this.length) as T;
  }
}

/** Compressed sparse rows: row r's entries are offsets[r] .. offsets[r + 1]. */
export interface Csr {
  offsets: Int32Array;
  targets: Int32Array;
}

export class AccountGraphBuilder {
  /** Store ids are small dense integers, so an array maps them to graph indexes (index + 1; 0 = unknown). */
  private indexByStoreId = new Int32Array(1024);
  private readonly accounts: AccountRecord[] = [];
  private readonly arcSrc = new Growable(new Int32Array(1024));
  private readonly arcDst = new Growable(new Int32Array(1024));
  private readonly arcKinds = new Growable(new Uint8Array(1024));
  private readonly arcWeight = new Growable(new Float32Array(1024));
  private readonly featureIndex = new Map<string, Map<string, number>>();
  private readonly featureKinds: string[] = [];
  private readonly featureValues: string[] = [];
  private readonly memberAccount = new Growable(new Int32Array(1024));
  private readonly memberFeature = new Growable(new Int32Array(1024));

  constructor(private readonly options: GraphBuildOptions = {}) {}

  addAccount(record: AccountRecord): number {
    const known = this.indexOf(record.storeId);
    if (known !== undefined) {
      this.accounts[known] = record;
      return known;
    }
    if (!Number.isInteger(record.storeId) || record.storeId < 0) throw new RangeError(`a store id is a non-negative integer, not ${record.storeId}`);
    if (record.storeId >= this.indexByStoreId.length) {
      const grown = new Int32Array(Math.max(record.storeId + 1, this.indexByStoreId.length * 2));
      grown.set(this.indexByStoreId);
      this.indexByStoreId = grown;
    }
    const index = this.accounts.length;
    this.accounts.push(record);
    this.indexByStoreId[record.storeId] = index + 1;
    return index;
  }

  indexOf(storeId: number): number | undefined {
    const index = storeId >= 0 && storeId < this.indexByStoreId.length ? this.indexByStoreId[storeId] : 0;
    return index === 0 ? undefined : index - 1;
  }

  /** One aggregated directed interaction; kinds is a bit set over INTERACTION_KINDS. */
  addInteraction(srcStoreId: number, dstStoreId: number, kind: InteractionKind, count: number): void {
    const src = this.indexOf(srcStoreId);
    const dst = this.indexOf(dstStoreId);
    if (src === undefined || dst === undefined || src === dst) return;
    this.arcSrc.push(src);
    this.arcDst.push(dst);
    this.arcKinds.push(KIND_BITS[kind]);
    this.arcWeight.push(INTERACTION_WEIGHTS[kind] * (1 + Math.log(Math.max(1, count))));
  }

  addFeature(accountStoreId: number, kind: string, value: string): void {
    const account = this.indexOf(accountStoreId);
    if (account === undefined || FEATURE_WEIGHTS[kind] === undefined) return;
    let ofKind = this.featureIndex.get(kind);
    if (!ofKind) this.featureIndex.set(kind, (ofKind = new Map()));
    let feature = ofKind.get(value);
    if (feature === undefined) {
      feature = this.featureKinds.length;
      ofKind.set(value, feature);
      this.featureKinds.push(kind);
      this.featureValues.push(value);
    }
    this.memberAccount.push(account);
    this.memberFeature.push(feature);
  }

  build(): AccountGraph {
    return new AccountGraph(this.accounts, {
      src: this.arcSrc.trimmed(),
      dst: this.arcDst.trimmed(),
      kinds: this.arcKinds.trimmed(),
      weights: this.arcWeight.trimmed(),
    }, {
      kinds: this.featureKinds,
      values: this.featureValues,
      account: this.memberAccount.trimmed(),
      feature: this.memberFeature.trimmed(),
    }, this.options);
  }
}

function countingSort(rowCount: number, rows: Int32Array): { offsets: Int32Array; order: Int32Array } {
  const offsets = new Int32Array(rowCount + 1);
  for (let i = 0; i < rows.length; i++) offsets[rows[i] + 1]++;
  for (let r = 0; r < rowCount; r++) offsets[r + 1] += offsets[r];
  const cursor = offsets.slice(0, rowCount);
  const order = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) order[cursor[rows[i]]++] = i;
  return { offsets, order };
}

export class AccountGraph {
  readonly accountCount: number;
  readonly featureCount: number;
  /** accounts + features */
  readonly nodeCount: number;
  readonly externalIds: string[];
  readonly storeIds: Int32Array;
  readonly label: Uint8Array;
  /** 1 where the label was given by a rule, not a person (see AccountRecord.labelAutomatic). */
  readonly labelAutomatic: Uint8Array;
  readonly minor: Uint8Array;
  readonly enforced: Uint8Array;
  readonly createdAt: Float64Array;
  readonly deletedAt: Float64Array;

  /** Directed interactions by source, with their kinds as a bit set and summed weight. Parallel arcs are merged. */
  readonly out: Csr & { kinds: Uint8Array; weights: Float32Array };
  /** The same interactions by target. */
  readonly in: Csr & { kinds: Uint8Array; weights: Float32Array };
  readonly featureKinds: string[];
  readonly featureValues: string[];
  /** Features of each account, and accounts of each feature (feature ids are 0-based, not node ids). */
  readonly featuresOf: Csr;
  readonly membersOf: Csr;
  /** Undirected weighted graph over accounts and features, for random walks. */
  readonly walk: Csr & { weights: Float32Array; degree: Float64Array };
  readonly usedFeatures: number;

  constructor(
    accounts: AccountRecord[],
    arcs: { src: Int32Array; dst: Int32Array; kinds: Uint8Array; weights: Float32Array },
    features: { kinds: string[]; values: string[]; account: Int32Array; feature: Int32Array },
    options: GraphBuildOptions,
  ) {
    const n = accounts.length;
    this.accountCount = n;
    this.externalIds = accounts.map((a) => a.externalId);
    this.storeIds = Int32Array.from(accounts, (a) => a.storeId);
    this.label = Uint8Array.from(accounts, (a) => a.label ?? LABEL_NONE);
    this.labelAutomatic = Uint8Array.from(accounts, (a) => (a.labelAutomatic ? 1 : 0));
    this.minor = Uint8Array.from(accounts, (a) => (a.minor ? 1 : 0));
    this.enforced = Uint8Array.from(accounts, (a) => (a.enforced ? 1 : 0));
    this.createdAt = Float64Array.from(accounts, (a) => a.createdAt ?? Number.NaN);
    this.deletedAt = Float64Array.from(accounts, (a) => a.deletedAt ?? Number.NaN);

    const out = mergeArcs(n, arcs.src, arcs.dst, arcs.kinds, arcs.weights);
    this.out = out;
    this.in = mergeArcs(n, arcs.dst, arcs.src, arcs.kinds, arcs.weights);

    this.featureKinds = features.kinds;
    this.featureValues = features.values;
    this.featureCount = features.kinds.length;
    this.nodeCount = n + this.featureCount;
    const byAccount = countingSort(n, features.account);
    this.featuresOf = uniqueRows({ offsets: byAccount.offsets, targets: Int32Array.from(byAccount.order, (i) => features.feature[i]) });
    const byFeature = countingSort(this.featureCount, features.feature);
    this.membersOf = uniqueRows({ offsets: byFeature.offsets, targets: Int32Array.from(byFeature.order, (i) => features.account[i]) });

    // The walk graph: each interaction arc in both directions, and each account-feature
    // membership in both directions for features that link 2..max accounts.
    const maxDegree = options.maxFeatureDegree ?? 5000;
    const linking = new Uint8Array(this.featureCount);
    for (let f = 0; f < this.featureCount; f++) {
      const size = this.membersOf.offsets[f + 1] - this.membersOf.offsets[f];
      if (size >= 2 && size <= maxDegree) {
        linking[f] = 1;
      }
    }
    this.usedFeatures = linking.reduce((sum, used) => sum + used, 0);
    const degreeCount = new Int32Array(this.nodeCount + 1);
    for (let u = 0; u < n; u++) {
      for (let k = out.offsets[u]; k < out.offsets[u + 1]; k++) {
        degreeCount[u + 1]++;
        degreeCount[out.targets[k] + 1]++;
      }
    }
    for (let f = 0; f < this.featureCount; f++) {
      if (!linking[f]) continue;
      for (let k = this.membersOf.offsets[f]; k < this.membersOf.offsets[f + 1]; k++) degreeCount[this.membersOf.targets[k] + 1]++;
      degreeCount[n + f + 1] += this.membersOf.offsets[f + 1] - this.membersOf.offsets[f];
    }
    for (let v = 0; v < this.nodeCount; v++) degreeCount[v + 1] += degreeCount[v];
    const offsets = degreeCount;
    const cursor = offsets.slice(0, this.nodeCount);
    const total = offsets[this.nodeCount];
    const targets = new Int32Array(total);
    const weights = new Float32Array(total);
    for (let u = 0; u < n; u++) {
      for (let k = out.offsets[u]; k < out.offsets[u + 1]; k++) {
        const v = out.targets[k];
        const w = out.weights[k];
        targets[cursor[u]] = v;
      weights[cursor[u]++] = w;
        targets[cursor[v]] = u;
        weights[cursor[v]++] = w;
      }
    }
    for (let f = 0; f < this.featureCount; f++) {
      if (!linking[f]) continue;
      const w = FEATURE_WEIGHTS[this.featureKinds[f]];
      const node = n + f;
      for (let k = this.membersOf.offsets[f]; k < this.membersOf.offsets[f + 1]; k++) {
        const account = this.membersOf.targets[k];
        targets[cursor[account]] = node;
        weights[cursor[account]++] = w;
        targets[cursor[node]] = account;
        weights[cursor[node]++] = w;
      }
    }
    const degree = new Float64Array(this.nodeCount);
    for (let v = 0; v < this.nodeCount; v++) {
      let sum = 0;
      for (let k = offsets[v]; k < offsets[v + 1]; k++) sum += weights[k];
      degree[v] = sum;
    }
    this.walk = { offsets, targets, weights, degree };
  }

  isFeatureNode(node: number): boolean {
    return node >= this.accountCount;
  }

  /** Interaction kinds from a to b, as a bit set (0 when none). */
  kindsFrom(a: number, b: number): number {
    const { offsets, targets, kinds } = this.out;
    let lo = offsets[a];
    let hi = offsets[a + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = targets[mid];
      if (t === b) return kinds[mid];
      if (t < b) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  hasFeatureKind(account: number, kind: string): boolean {
    for (let k = this.featuresOf.offsets[account]; k < this.featuresOf.offsets[account + 1]; k++) {
      if (this.featureKinds[this.featuresOf.targets[k]] === kind) return true;
    }
    return false;
  }
}

/** Arc indexes fit below 2^25 (33M arcs) and columns below 2^27, so (column, index) packs exactly into a float64. */
const INDEX_SPACE = 2 ** 25;

/**
 * Groups arcs by row with a counting sort, orders each row by column with a native typed
 * array sort on packed (column, arc) keys, and merges parallel arcs into one with the
 * union of their kinds and the sum of their weights. No comparison callbacks: at 20M arcs
 * those dominate the build.
 */
function mergeArcs(rowCount: number, rows: Int32Array, columns: Int32Array, kinds: Uint8Array, weights: Float32Array): Csr & { kinds: Uint8Array; weights: Float32Array } {
  if (rows.length >= INDEX_SPACE) throw new RangeError(`more than ${INDEX_SPACE} interactions: split the graph`);
  const { offsets: rowOffsets, order } = countingSort(rowCount, rows);
  const keys = new Float64Array(order.length);
  for (let k = 0; k < order.length; k++) keys[k] = columns[order[k]] * INDEX_SPACE + order[k];
  const offsets = new Int32Array(rowCount + 1);
  const targets = new Int32Array(order.length);
  const mergedKinds = new Uint8Array(order.length);
  const mergedWeights = new Float32Array(order.length);
  let written = 0;
  for (let r = 0; r < rowCount; r++) {
    offsets[r] = written;
    const start = rowOffsets[r];
    const end = rowOffsets[r + 1];
    if (end - start > 1) keys.subarray(start, end).sort();
    for (let k = start; k < end; k++) {
      const key = keys[k];
      const column = Math.floor(key / INDEX_SPACE);
      const i = key - column * INDEX_SPACE;
      if (column === r) continue;
      if (written > offsets[r] && targets[written - 1] === column) {
        mergedKinds[written - 1] |= kinds[i];
        mergedWeights[written - 1] += weights[i];
      } else {
        targets[written] = column;
        mergedWeights[written] = weights[i];
        mergedKinds[written++] = kinds[i];
      }
    }
  }
  offsets[rowCount] = written;
  return { offsets, targets: targets.slice(0, written), kinds: mergedKinds.slice(0, written), weights: mergedWeights.slice(0, written) };
}

/** Sorts each row and drops repeated entries: an account that used a hashtag twice is one member of it. */
function uniqueRows(csr: Csr): Csr {
  const offsets = new Int32Array(csr.offsets.length);
  const targets = new Int32Array(csr.targets.length);
  let written = 0;
  for (let r = 0; r + 1 < csr.offsets.length; r++) {
    offsets[r] = written;
    const start = csr.offsets[r];
    const end = csr.offsets[r + 1];
    if (end - start === 1) {
      targets[written++] = csr.targets[start];
      continue;
    }
    const row = csr.targets.slice(start, end).sort();
    for (let k = 0; k < row.length; k++) if (k === 0 || row[k] !== row[k - 1]) targets[written++] = row[k];
  }
  offsets[csr.offsets.length - 1] = written;
  return { offsets, targets: targets.slice(0, written) };
}
