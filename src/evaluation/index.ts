export { bootstrapMeans, clusterTotals, minimumDetectableEffect, normalQuantile, pairedVerdict, quantile, verdictDefaults } from './paired-statistics.ts';
export type { PairedScore, Verdict, VerdictReport, VerdictSettings } from './paired-statistics.ts';
export { calibrate, trialScores } from './calibration-trials.ts';
export type { CalibrationResult, TrialSettings } from './calibration-trials.ts';
