/**
 * Seeded synthetic evaluations for calibrating the verdict: a dataset of conversations (clusters
 * of one to three items that share a difficulty), a baseline run, and a candidate run whose
 * success on each item is `quality` times the baseline's chance. Both runs are independent draws,
 * as two samples of a model at a non-zero temperature are, so an unchanged model (`quality` 1)
 * still scores differently item by item: the verdict must not call that a regression more often
 * than its confidence level allows.
 */
import { seededRandom } from '../models/index.ts';
import type { PairedScore, VerdictReport, VerdictSettings } from './paired-statistics.ts';
import { pairedVerdict } from './paired-statistics.ts';

export interface TrialSettings {
  items: number;
  /** The candidate's task success as a share of the baseline's: 1 unchanged, 0.85 a 15% drop. */
  quality: number;
  seed: number;
}

/** Per-item success chances: most conversations easy (0.97), a third harder (0.5 to 0.9). */
export function trialScores({ items, quality, seed }: TrialSettings): PairedScore[] {
  const random = seededRandom(seed);
  const scores: PairedScore[] = [];
  let conversation = 0;
  while (scores.length < items) {
    conversation += 1;
    const size = 1 + Math.floor(random() * 3);
    const chance = random() < 2 / 3 ? 0.97 : 0.5 + random() * 0.4;
    for (let turn = 0; turn < size && scores.length < items; turn += 1) {
      const baseline = random() < chance ? 1 : 0;
      const candidate = random() < chance * quality ? 1 : 0;
      scores.push({ cluster: `conversation-${conversation}`, candidate, baseline });
    }
  }
  return scores;
}

export interface CalibrationResult {
  trials: number;
  items: number;
  quality: number;
  verdicts: Record<VerdictReport['verdict'], number>;
  /** Share of trials whose verdict was `regressed`. */
  regressedRate: number;
  meanDifference: number;
  meanMinimumDetectableEffect: number;
}

/** Runs `trials` seeded trials of `items` items each and counts the verdicts. */
export function calibrate(options: { trials: number; items: number; quality: number; seed: number; verdict?: VerdictSettings }): CalibrationResult {
  const verdicts: CalibrationResult['verdicts'] = { regressed: 0, improved: 0, 'no-evidence': 0, inconclusive: 0 };
  let differences = 0;
  let effects = 0;
  for (let trial = 0; trial < options.trials; trial += 1) {
    const seed = (options.seed * 1_000_003 + trial * 7_919) >>> 0;
    const report = pairedVerdict(trialScores({ items: options.items, quality: options.quality, seed }), { ...options.verdict, seed: seed ^ 0x5bd1e995 });
    verdicts[report.verdict] += 1;
    differences += report.meanDifference;
    effects += report.minimumDetectableEffect;
  }
  return {
    trials: options.trials,
    items: options.items,
    quality: options.quality,
    verdicts,
    regressedRate: verdicts.regressed / options.trials,
    meanDifference: differences / options.trials,
    meanMinimumDetectableEffect: effects / options.trials,
  };
}
