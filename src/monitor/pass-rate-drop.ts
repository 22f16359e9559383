/**
 * A sequential test for a drop in a task's pass rate against a baseline window, valid however
 * often it is looked at (after every run, forever): its false-alarm probability over an unbounded
 * stream is at most `alpha`.
 *
 * 1. Baseline: the first `baselineRuns` scored runs give a pass count; `baselineLowerBound` turns it
 *    into a lower confidence bound p0 on the baseline pass rate (Chernoff's KL bound, exact for
 *    Bernoulli data), which is wrong with probability at most alpha/2.
 * 2. Live: every later run multiplies, for each alternative q = p0·(1−d) over a fixed grid of
 *    drops d, the likelihood ratio of q against p0. The equal-weight mixture of those ratios is a
 *    nonnegative supermartingale whenever the live pass rate is at least p0, so by Ville's
 *    inequality it ever reaches 2/alpha with probability at most alpha/2: that crossing is the alarm.
 * Both halves together: an unchanged stream alarms with probability at most alpha.
 */

/** Relative drops the mixture bets on: from small to total, so no drop size is ignored. */
export const defaultDropGrid: readonly number[] = [0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.65, 0.9];

export interface DropTestOptions {
  /** False-alarm probability over the whole unbounded stream. Default 0.05. */
  alpha?: number;
  /** Scored runs in the baseline window. Default 200. */
  baselineRuns?: number;
  /** Relative drops to bet on. Default `defaultDropGrid`. */
  drops?: readonly number[];
}

export interface DropTestState {
  phase: 'baseline' | 'live' | 'alarmed';
  baselineRuns: number;
  baselinePasses: number;
  /** The baseline pass rate's lower confidence bound; null until the baseline is complete. */
  baselineLowerBound: number | null;
  liveRuns: number;
  livePasses: number;
  /** log of the mixture martingale; the alarm is at log(2/alpha). */
  logEvidence: number;
  threshold: number;
}

/** The KL divergence of Bernoulli(q) from Bernoulli(p), in nats. */
export function bernoulliDivergence(p: number, q: number): number {
  const term = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  return term(p, q) + term(1 - p, 1 - q);
}

/**
 * The smallest q with passes/runs·KL ≤ log(1/delta): by Chernoff's bound, the true rate is below it
 * with probability at most delta.
 */
export function baselineLowerBound(passes: number, runs: number, delta: number): number {
  if (runs === 0) return 0;
  const rate = passes / runs;
  const budget = Math.log(1 / delta) / runs;
  let low = 0;
  let high = rate;
  for (let index = 0; index < 60; index += 1) {
    const middle = (low + high) / 2;
    if (bernoulliDivergence(rate, middle) > budget) low = middle;
    else high = middle;
  }
  return high;
}

function logSumExp(values: readonly number[]): number {
  const top = Math.max(...values);
  if (top === Number.NEGATIVE_INFINITY) return top;
  return top + Math.log(values.reduce((sum, value) => sum + Math.exp(value - top), 0));
}

export class PassRateDropTest {
  readonly alpha: number;
  readonly baselineSize: number;
  readonly #drops: readonly number[];
  #baselineRuns = 0;
  #baselinePasses = 0;
  #lowerBound: number | null = null;
  #liveRuns = 0;
  #livePasses = 0;
  #logRatios: number[];
  #alarmed = false;

  constructor(options: DropTestOptions = {}) {
    this.alpha = options.alpha ?? 0.05;
    this.baselineSize = options.baselineRuns ?? 200;
    this.#drops = options.drops ?? defaultDropGrid;
    if (!(this.alpha > 0 && this.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${this.alpha}`);
    if (!Number.isInteger(this.baselineSize) || this.baselineSize < 1) throw new RangeError(`baselineRuns must be a whole number of at least 1, got ${this.baselineSize}`);
    this.#logRatios = this.#drops.map(() => 0);
  }

  get threshold(): number {
    return Math.log(2 / this.alpha);
  }

  /** Adds one scored run; true when this run made the test alarm (once; `restart` re-arms it). */
  observe(pass: boolean): boolean {
    if (this.#alarmed) return false;
    if (this.#lowerBound === null) {
      this.#baselineRuns += 1;
      if (pass) this.#baselinePasses += 1;
      if (this.#baselineRuns === this.baselineSize) this.#lowerBound = baselineLowerBound(this.#baselinePasses, this.#baselineRuns, this.alpha / 2);
      return false;
    }
    const p0 = this.#lowerBound;
    // Nothing passed in the baseline: there is no rate left to drop from.
    if (p0 <= 0) return false;
    this.#liveRuns += 1;
    if (pass) this.#livePasses += 1;
    this.#logRatios = this.#logRatios.map((logRatio, index) => {
      const q = p0 * (1 - (this.#drops[index] ?? 0));
      return logRatio + (pass ? Math.log(q / p0) : Math.log((1 - q) / (1 - p0)));
    });
    if (this.logEvidence >= this.threshold) {
      this.#alarmed = true;
      return true;
    }
    return false;
  }

  get logEvidence(): number {
    return logSumExp(this.#logRatios) - Math.log(this.#logRatios.length);
  }

  /** After an alarm (or a deliberate change): the next runs form a new baseline. */
  restart(): void {
    this.#baselineRuns = 0;
    this.#baselinePasses = 0;
    this.#lowerBound = null;
    this.#liveRuns = 0;
    this.#livePasses = 0;
    this.#logRatios = this.#drops.map(() => 0);
    this.#alarmed = false;
  }

  get state(): DropTestState {
    return {
      phase: this.#alarmed ? 'alarmed' : this.#lowerBound === null ? 'baseline' : 'live',
      baselineRuns: this.#baselineRuns,
      baselinePasses: this.#baselinePasses,
      baselineLowerBound: this.#lowerBound,
      liveRuns: this.#liveRuns,
      livePasses: this.#livePasses,
      logEvidence: this.logEvidence,
      threshold: this.threshold,
    };
  }
}
