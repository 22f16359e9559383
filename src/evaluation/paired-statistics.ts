/**
 * The statistics behind an evaluation's verdict: paired per-item differences (candidate minus
 * baseline), a percentile confidence interval by cluster bootstrap (items of one conversation or
 * one source document are resampled together, since they are not independent), and the minimum
 * detectable effect at this size. Pure functions of the scores and a seed: the same scores and
 * seed give the same interval on every machine.
 */
import { seededRandom } from '../models/index.ts';

/** One item's scores, in [0, 1], and the cluster it belongs to. */
export interface PairedScore {
  cluster: string;
  candidate: number;
  baseline: number;
}

export type Verdict = 'regressed' | 'improved' | 'no-evidence' | 'inconclusive';

export interface VerdictSettings {
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** Two-sided confidence level. Default 0.95. */
  confidence?: number;
  /** A change smaller than this is not a regression (or an improvement). Default 0. */
  margin?: number;
  /** The smallest change worth detecting; a dataset whose MDE exceeds it is `inconclusive`. Default 0.10. */
  effectOfInterest?: number;
  /** Power the MDE is computed for. Default 0.8. */
  power?: number;
  /** Seed of the resampling. Default 1. */
  seed?: number;
}

export interface VerdictReport {
  verdict: Verdict;
  items: number;
  clusters: number;
  candidateMean: number;
  baselineMean: number;
  /** Mean of candidate − baseline over items. */
  meanDifference: number;
  /** Confidence interval of the mean difference. */
  interval: { lower: number; upper: number; level: number };
  /** Standard error of the mean difference (spread of the bootstrap means). */
  standardError: number;
  /** The smallest true difference this dataset would detect with `power`, two-sided at `level`. */
  minimumDetectableEffect: number;
  margin: number;
  effectOfInterest: number;
  resamples: number;
  seed: number;
  /** One sentence saying why this verdict. */
  reason: string;
}

export const verdictDefaults = { resamples: 2000, confidence: 0.95, margin: 0, effectOfInterest: 0.1, power: 0.8, seed: 1 } as const;

/** Item differences summed per cluster, with each cluster's size: what the bootstrap resamples. */
export function clusterTotals(scores: readonly PairedScore[]): { sums: Float64Array; sizes: Float64Array } {
  const index = new Map<string, number>();
  const sums: number[] = [];
  const sizes: number[] = [];
  for (const score of scores) {
    let at = index.get(score.cluster);
    if (at === undefined) {
      at = sums.length;
      index.set(score.cluster, at);
      sums.push(0);
      sizes.push(0);
    }
    sums[at] = (sums[at] ?? 0) + (score.candidate - score.baseline);
    sizes[at] = (sizes[at] ?? 0) + 1;
  }
  return { sums: Float64Array.from(sums), sizes: Float64Array.from(sizes) };
}

/**
 * Means of `resamples` cluster bootstrap samples: each draws as many clusters as there are, with
 * replacement, and takes the mean item difference of what it drew (a ratio estimator, so clusters
 * of different sizes weigh as their items do).
 */
export function bootstrapMeans(scores: readonly PairedScore[], resamples: number, seed: number): Float64Array {
  const { sums, sizes } = clusterTotals(scores);
  const count = sums.length;
  const means = new Float64Array(resamples);
  if (count === 0) return means;
  const random = seededRandom(seed);
  for (let sample = 0; sample < resamples; sample += 1) {
    let total = 0;
    let items = 0;
    for (let draw = 0; draw < count; draw += 1) {
      const at = Math.floor(random() * count);
      total += sums[at] ?? 0;
      items += sizes[at] ?? 0;
    }
    means[sample] = total / items;
  }
  return means;
}

/** The q-quantile of sorted values, interpolated between neighbours (Hyndman-Fan type 7). */
export function quantile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] ?? Number.NaN;
  const high = sorted[above] ?? Number.NaN;
  return low + (high - low) * (position - below);
}

/** The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const [a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0] = a;
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0] = b;
  const [c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0] = c;
  const [d0 = 0, d1 = 0, d2 = 0, d3 = 0] = d;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/** The smallest true difference detected with `power` by a two-sided test at `level`, given the standard error. */
export function minimumDetectableEffect(standardError: number, level: number, power: number): number {
  return (normalQuantile(1 - (1 - level) / 2) + normalQuantile(power)) * standardError;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function standardDeviation(values: Float64Array): number {
  if (values.length < 2) return 0;
  let sum = 0;
  for (const value of values) sum += value;
  const centre = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - centre) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

/**
 * The verdict on paired scores: `regressed` when the whole interval of candidate − baseline lies
 * below −margin, `improved` when it lies above +margin, otherwise `inconclusive` when this many
 * items could not have detected the effect of interest (MDE above it), else `no-evidence`.
 */
export function pairedVerdict(scores: readonly PairedScore[], settings: VerdictSettings = {}): VerdictReport {
  const resamples = settings.resamples ?? verdictDefaults.resamples;
  const level = settings.confidence ?? verdictDefaults.confidence;
  const margin = settings.margin ?? verdictDefaults.margin;
  const effectOfInterest = settings.effectOfInterest ?? verdictDefaults.effectOfInterest;
  const power = settings.power ?? verdictDefaults.power;
  const seed = settings.seed ?? verdictDefaults.seed;
  if (scores.length === 0) throw new RangeError('a verdict needs at least one scored item');
  for (const score of scores) {
    if (!(score.candidate >= 0 && score.candidate <= 1 && score.baseline >= 0 && score.baseline <= 1)) {
      throw new RangeError(`scores are in [0, 1]; cluster ${score.cluster} has ${score.candidate} and ${score.baseline}`);
    }
  }
  const means = bootstrapMeans(scores, resamples, seed).sort();
  const alpha = 1 - level;
  const interval = { lower: quantile(means, alpha / 2), upper: quantile(means, 1 - alpha / 2), level };
  const standardError = standardDeviation(means);
  const mde = minimumDetectableEffect(standardError, level, power);
  const meanDifference = mean(scores.map((score) => score.candidate - score.baseline));
  const clusters = new Set(scores.map((score) => score.cluster)).size;
  const percent = `${Math.round(level * 100)}%`;
  const span = `[${interval.lower.toFixed(3)}, ${interval.upper.toFixed(3)}]`;
  let verdict: Verdict;
  let reason: string;
  if (interval.upper < -margin) {
    verdict = 'regressed';
    reason = `the ${percent} interval of candidate − baseline, ${span}, lies below ${margin === 0 ? '0' : `−${margin}`}`;
  } else if (interval.lower > margin) {
    verdict = 'improved';
    reason = `the ${percent} interval of candidate − baseline, ${span}, lies above ${margin}`;
  } else if (mde > effectOfInterest) {
    verdict = 'inconclusive';
    reason = `the interval ${span} includes no change, and ${scores.length} items in ${clusters} clusters detect only changes of ${mde.toFixed(3)} or more, above the ${effectOfInterest} of interest`;
  } else {
    verdict = 'no-evidence';
    reason = `the interval ${span} includes no change, and a change of ${effectOfInterest} would have been detected (MDE ${mde.toFixed(3)})`;
  }
  return {
    verdict,
    items: scores.length,
    clusters,
    candidateMean: mean(scores.map((score) => score.candidate)),
    baselineMean: mean(scores.map((score) => score.baseline)),
    meanDifference,
    interval,
    standardError,
    minimumDetectableEffect: mde,
    margin,
    effectOfInterest,
    resamples,
    seed,
    reason,
  };
}
