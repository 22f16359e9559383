import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMeans, calibrate, minimumDetectableEffect, normalQuantile, pairedVerdict, quantile, trialScores } from '../../src/evaluation/index.ts';
import type { PairedScore } from '../../src/evaluation/index.ts';

const items = (pairs: [number, number][], clusterOf: (index: number) => string = (index) => `item-${index}`): PairedScore[] =>
  pairs.map(([candidate, baseline], index) => ({ cluster: clusterOf(index), candidate, baseline }));

test('the normal quantile matches published values', () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.8) - 0.841621) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.01) + 2.326348) < 1e-6);
  assert.throws(() => normalQuantile(1), RangeError);
});

test('quantiles interpolate between neighbours', () => {
  assert.equal(quantile([0, 10], 0.5), 5);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
  assert.equal(quantile([7], 0.975), 7);
});

test('the minimum detectable effect is (z(0.975) + z(0.8)) standard errors', () => {
  assert.ok(Math.abs(minimumDetectableEffect(0.01, 0.95, 0.8) - 0.028016) < 1e-5);
  assert.equal(minimumDetectableEffect(0, 0.95, 0.8), 0);
});

test('identical scores: a zero-width interval at 0 and no evidence of a change', () => {
  const report = pairedVerdict(items(Array.from({ length: 50 }, () => [1, 1])));
  assert.equal(report.verdict, 'no-evidence');
  assert.deepEqual([report.interval.lower, report.interval.upper, report.meanDifference, report.minimumDetectableEffect], [0, 0, 0, 0]);
});

test('a clear drop is regressed, a clear gain improved, and the verdict names the interval', () => {
  const drop = pairedVerdict(items(Array.from({ length: 200 }, (_, index) => [index % 5 === 0 ? 0 : 1, 1])));
  assert.equal(drop.verdict, 'regressed');
  assert.ok(drop.interval.upper < 0 && Math.abs(drop.meanDifference + 0.2) < 1e-12, JSON.stringify(drop));
  assert.match(drop.reason, /lies below 0/);
  const gain = pairedVerdict(items(Array.from({ length: 200 }, (_, index) => [1, index % 5 === 0 ? 0 : 1])));
  assert.equal(gain.verdict, 'improved');
});

test('a margin excuses a drop smaller than it', () => {
  const scores = items(Array.from({ length: 400 }, (_, index) => [index % 25 === 0 ? 0 : 1, 1]));
  assert.equal(pairedVerdict(scores).verdict, 'regressed');
  assert.equal(pairedVerdict(scores, { margin: 0.1 }).verdict, 'no-evidence');
});

test('too few noisy items to see the effect of interest: inconclusive, not no-evidence', () => {
  const report = pairedVerdict(items([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]]));
  assert.equal(report.verdict, 'inconclusive');
  assert.ok(report.minimumDetectableEffect > 0.1, JSON.stringify(report));
});

test('clusters are resampled whole: items that move together widen the interval', () => {
  // The same 120 differences, either as 120 independent items or as 12 conversations of 10 alike items.
  const pairs: [number, number][] = Array.from({ length: 120 }, (_, index) => [Math.floor(index / 10) % 3 === 0 ? 0 : 1, 1]);
  const independent = pairedVerdict(items(pairs));
  const clustered = pairedVerdict(items(pairs, (index) => `conversation-${Math.floor(index / 10)}`));
  assert.equal(independent.meanDifference, clustered.meanDifference);
  assert.equal(clustered.clusters, 12);
  assert.ok(clustered.standardError > independent.standardError * 2, `${clustered.standardError} vs ${independent.standardError}`);
});

test('the bootstrap is a function of its seed', () => {
  const scores = trialScores({ items: 100, quality: 0.9, seed: 3 });
  assert.deepEqual(bootstrapMeans(scores, 50, 9), bootstrapMeans(scores, 50, 9));
  assert.notDeepEqual(bootstrapMeans(scores, 50, 9), bootstrapMeans(scores, 50, 10));
});

test('scores outside [0, 1] and empty datasets are refused', () => {
  assert.throws(() => pairedVerdict([]), /at least one/);
  assert.throws(() => pairedVerdict(items([[2, 1]])), /in \[0, 1\]/);
});

test('calibration in small: an unchanged model is rarely called regressed, a 15% drop nearly always', () => {
  // The full 200 × 200 calibration is in the benchmark (bench/eval-calibration-bench.ts); this is its smoke test.
  const unchanged = calibrate({ trials: 40, items: 200, quality: 1, seed: 5 });
  const dropped = calibrate({ trials: 40, items: 200, quality: 0.85, seed: 5 });
  assert.ok(unchanged.regressedRate <= 0.1, JSON.stringify(unchanged));
  assert.ok(dropped.regressedRate >= 0.8, JSON.stringify(dropped));
});
