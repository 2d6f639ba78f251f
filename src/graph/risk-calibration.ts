/**
 * Risk as a probability, estimated from confirmed accounts the run pretends not to know.
 *
 * Each held-out seed is scored by a walk from the other seeds only; where it lands among
 * the run's candidates says how network members score. Held-out seeds are the only
 * members known for sure and everything else is unlabelled, so this is learning from
 * positive and unlabelled examples (Elkan and Noto, 2008): a logistic model of "is a
 * held-out seed" on the log of the score gives g(x); divided by c, the model's mean over
 * the held-out seeds (the share of members that are labelled), it is the probability that
 * an account with that score is a member. That assumes the confirmed accounts are a fair
 * sample of the members, which hash-matched buyers roughly are; a threshold on it means
 * the same thing at any scale and seed count, unlike a share of the run's best score.
 */

export interface RiskCalibration {
  method: 'leave-seeds-out logistic (positive-unlabelled)';
  /** Held-out seeds whose score was measured, and how many of them the walk reached at all. */
  heldOut: number;
  reachedHeldOut: number;
  /** Unlabelled candidates the model was fitted against. */
  unlabelled: number;
  /** g(x) = 1 / (1 + exp(-(intercept + slope * ln x))). */
  intercept: number;
  slope: number;
  /** Estimated share of members that are labelled (Elkan-Noto c). */
  labelledShare: number;
  /** False when the held-out seeds scored no better than anyone: risk is then 0, not a guess. */
  informative: boolean;
  /** Scores from which risk reaches 0.2 and 0.5 (null when never), for operators reading thresholds. */
  scoreAtRisk: { '0.2': number | null; '0.5': number | null };
  /** Where the held-out seeds ranked among all candidates (1 = best), sorted. */
  heldOutRanks: number[];
  /**
   * Detection recall estimated by the same held-out seeds: the share that ranked among the
   * run's leads, with a 95% Wilson interval. The recommender audit scales what it knows by it.
   */
  recall?: HeldOutRecall;
}

export interface HeldOutRecall {
  estimate: number;
  low: number;
  high: number;
  heldOut: number;
  method: string;
}

/** The share of held-out seeds ranked within the lead limit, with its 95% Wilson score interval. */
export function heldOutRecall(heldOutRanks: number[], leadLimit: number): HeldOutRecall {
  const n = heldOutRanks.length;
  const found = heldOutRanks.filter((rank) => rank <= leadLimit).length;
  const z = 1.96;
  const p = n > 0 ? found / n : 0;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
  return n === 0
    ? { estimate: 0, low: 0, high: 1, heldOut: 0, method: 'leave-seeds-out: held-out seeds ranked among the leads' }
    : { estimate: round(p), low: round(centre - half), high: round(centre + half), heldOut: n, method: 'leave-seeds-out: held-out seeds ranked among the leads' };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** Scores below this are treated as this, so log stays finite for accounts the walk barely touched. */
const FLOOR = 1e-300;

/** Fits a two-parameter logistic regression by Newton's method, with a little ridge on the slope for stability. */
function fitLogistic(positives: number[], unlabelled: Float64Array): { intercept: number; slope: number } {
  // Unweighted on purpose: g must estimate the real chance of being a labelled account, which
  // is what the Elkan-Noto division by c turns into a probability of membership.
  const wPos = 1;
  const wUnl = 1;
  let a = 0;
  let b = 0;
  const ridge = 1e-6;
  for (let iteration = 0; iteration < 50; iteration++) {
    let ga = 0;
    let gb = -ridge * b;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12 + ridge;
    const visit = (lx: number, y: number, w: number) => {
      const p = sigmoid(a + b * lx);
      const r = (y - p) * w;
      ga += r;
      gb += r * lx;
      const h = p * (1 - p) * w;
      haa += h;
      hab += h * lx;
      hbb += h * lx * lx;
    };
    for (const x of positives) visit(Math.log(Math.max(x, FLOOR)), 1, wPos);
    for (const x of unlabelled) visit(Math.log(Math.max(x, FLOOR)), 0, wUnl);
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { intercept: a, slope: b };
}

/**
 * Calibrates from the held-out seeds' scores (0 when the walk from the other seeds never
 * reached one) against the scores of every unlabelled candidate.
 */
export function calibrateRisk(heldOutScores: number[], candidateScores: Float64Array): RiskCalibration {
  const reached = heldOutScores.filter((x) => x > 0);
  const sorted = Float64Array.from(candidateScores).sort().reverse();
  const heldOutRanks = heldOutScores.map((x) => (x > 0 ? rankIn(sorted, x) : sorted.length + 1)).sort((p, q) => p - q);
  const base: Omit<RiskCalibration, 'intercept' | 'slope' | 'labelledShare' | 'informative' | 'scoreAtRisk'> = {
    method: 'leave-seeds-out logistic (positive-unlabelled)',
    heldOut: heldOutScores.length,
    reachedHeldOut: reached.length,
    unlabelled: candidateScores.length,
    heldOutRanks,
  };
  if (reached.length < 2 || candidateScores.length === 0) {
    return { ...base, intercept: 0, slope: 0, labelledShare: 0, informative: false, scoreAtRisk: { '0.2': null, '0.5': null } };
  }
  // Unreached held-out seeds count as the lowest score there is: missing them is part of the truth.
  const lowest = sorted[sorted.length - 1] ?? FLOOR;
  const positives = heldOutScores.map((x) => (x > 0 ? x : lowest));
  const { intercept, slope } = fitLogistic(positives, candidateScores);
  const g = (x: number) => sigmoid(intercept + slope * Math.log(Math.max(x, FLOOR)));
  const labelledShare = positives.reduce((sum, x) => sum + g(x), 0) / positives.length;
  const informative = slope > 0 && labelledShare > 0;
  const calibration: RiskCalibration = { ...base, intercept, slope, labelledShare, informative, scoreAtRisk: { '0.2': null, '0.5': null } };
  calibration.scoreAtRisk = { '0.2': scoreAtRisk(calibration, 0.2), '0.5': scoreAtRisk(calibration, 0.5) };
  return calibration;
}

/** The calibrated probability that an account with this score is a network member. */
export function riskOf(calibration: RiskCalibration | null, score: number): number {
  if (!calibration || !calibration.informative || score <= 0) return 0;
  const g = sigmoid(calibration.intercept + calibration.slope * Math.log(Math.max(score, FLOOR)));
  return Math.min(1, g / calibration.labelledShare);
}

/** The score at which risk reaches `risk`, by inverting the model; null when it never does. */
function scoreAtRisk(calibration: RiskCalibration, risk: number): number | null {
  const g = risk * calibration.labelledShare;
  if (!calibration.informative || g >= 1) return null;
  return Math.exp((Math.log(g / (1 - g)) - calibration.intercept) / calibration.slope);
}

function rankIn(descending: Float64Array, x: number): number {
  let lo = 0;
  let hi = descending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (descending[mid] > x) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** One line for operators: what a run's risk means and how much to trust it. */
export function describeCalibration(calibration: RiskCalibration | null): string {
  if (!calibration) return 'risk: not calibrated (fewer than two live labelled seeds to hold out); every lead has risk 0';
  if (!calibration.informative) {
    return `risk: not calibrated: the ${calibration.heldOut} held-out seeds scored no better than other accounts; every lead has risk 0`;
  }
  const at = (x: number | null) => (x === null ? 'never' : x.toExponential(2));
  return (
    `risk: probability of network membership, calibrated on ${calibration.reachedHeldOut} of ${calibration.heldOut} held-out seeds ` +
    `(best held-out ranks ${calibration.heldOutRanks.slice(0, 5).join(', ')}); reaches 0.2 from score ${at(calibration.scoreAtRisk['0.2'])}, 0.5 from ${at(calibration.scoreAtRisk['0.5'])}`
  );
}
