import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom, seedFrom } from '../models/index.ts';
import { baselineLowerBound, bernoulliDivergence, PassRateDropTest } from './index.ts';
import { percentile, TaskStats } from './index.ts';

test('the baseline bound is below the observed rate, tighter with more runs, and holds for the true rate at its level', () => {
  assert.equal(baselineLowerBound(0, 0, 0.025), 0);
  const few = baselineLowerBound(45, 50, 0.025);
  const many = baselineLowerBound(450, 500, 0.025);
  assert.ok(few < many && many < 0.9, `${few} < ${many} < 0.9`);
  assert.ok(Math.abs(500 * bernoulliDivergence(0.9, many) - Math.log(40)) < 1e-6);
  // Coverage: over seeded baselines of a 0.9 stream, the bound exceeds 0.9 at most 2.5% of the time.
  let misses = 0;
  for (let stream = 0; stream < 400; stream += 1) {
    const random = seededRandom(seedFrom(`bound:${stream}`));
    let passes = 0;
    for (let run = 0; run < 200; run += 1) if (random() < 0.9) passes += 1;
    if (baselineLowerBound(passes, 200, 0.025) > 0.9) misses += 1;
  }
  assert.ok(misses <= 10, `${misses} of 400 bounds above the true rate`);
});

test('an unchanged stream rarely alarms, a dropped one alarms, once, and a restart takes a new baseline', () => {
  let falseAlarms = 0;
  const delays: number[] = [];
  for (let stream = 0; stream < 200; stream += 1) {
    const steady = new PassRateDropTest({ alpha: 0.05, baselineRuns: 200 });
    const dropped = new PassRateDropTest({ alpha: 0.05, baselineRuns: 200 });
    const random = seededRandom(seedFrom(`test:${stream}`));
    for (let run = 0; run < 200; run += 1) {
      steady.observe(random() < 0.9);
      dropped.observe(random() < 0.9);
    }
    let alarmed = false;
    for (let run = 1; run <= 1_000; run += 1) {
      if (steady.observe(random() < 0.9)) falseAlarms += 1;
      if (!alarmed && dropped.observe(random() < 0.6)) {
        alarmed = true;
        delays.push(run);
      }
    }
    assert.equal(dropped.state.phase, 'alarmed');
    assert.equal(dropped.observe(false), false, 'an alarmed test stays quiet until restarted');
  }
  assert.ok(falseAlarms <= 10, `${falseAlarms} false alarms in 200 unchanged streams (alpha 0.05)`);
  assert.equal(delays.length, 200, 'every drop from 0.9 to 0.6 is detected');
  const test = new PassRateDropTest({ baselineRuns: 10 });
  for (let run = 0; run < 10; run += 1) test.observe(true);
  test.restart();
  assert.deepEqual({ phase: test.state.phase, baselineRuns: test.state.baselineRuns }, { phase: 'baseline', baselineRuns: 0 });
  assert.throws(() => new PassRateDropTest({ alpha: 1 }), /alpha/);
});

test('task stats: pass and escalation rates, nearest-rank latency percentiles over the recent window', () => {
  const stats = new TaskStats('t');
  assert.deepEqual(stats.snapshot, { task: 't', runs: 0, passRate: null, escalationRate: null, latencyMs: { p50: null, p95: null, p99: null } });
  for (let run = 1; run <= 100; run += 1) stats.add({ status: run % 10 === 0 ? 'escalated' : 'ok', pass: run % 10 !== 0, latencyMs: run });
  assert.deepEqual(stats.snapshot, { task: 't', runs: 100, passRate: 0.9, escalationRate: 0.1, latencyMs: { p50: 50, p95: 95, p99: 99 } });
  assert.equal(percentile([1, 2, 3], 0), 1);
});
