/**
 * Online monitoring's pass-rate drop test (src/monitor), calibrated over many seeded streams in
 * process: how many runs after a 15% drop (pass rate 0.90 → 0.765) it takes to alarm (median, p90),
 * and how often it alarms on an unchanged stream (the false-alarm rate, bounded by alpha = 0.05).
 * `node --conditions=keel-source bench/monitor-calibration-bench.ts` runs it alone.
 */
import { PassRateDropTest } from '../src/monitor/index.ts';
import { seededRandom, seedFrom } from '../src/models/index.ts';
import type { Measure } from './journal-bench.ts';

export interface CalibrationShape {
  streams: number;
  baselineRate: number;
  /** Relative drop after the baseline window (0.15: 0.90 → 0.765). */
  drop: number;
  baselineRuns: number;
  /** Live runs watched per stream; an unchanged stream that never alarms within them is a true negative. */
  horizon: number;
  alpha: number;
}

export interface Calibration {
  shape: CalibrationShape;
  detected: number;
  delays: { median: number; p90: number; max: number };
  falseAlarms: number;
  falseAlarmRate: number;
}

function quantile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

/** Runs of one stream until the alarm (live runs counted from the change), or undefined within the horizon. */
function runStream(seed: string, shape: CalibrationShape, liveRate: number): number | undefined {
  const random = seededRandom(seedFrom(seed));
  const test = new PassRateDropTest({ alpha: shape.alpha, baselineRuns: shape.baselineRuns });
  for (let run = 0; run < shape.baselineRuns; run += 1) test.observe(random() < shape.baselineRate);
  for (let run = 1; run <= shape.horizon; run += 1) if (test.observe(random() < liveRate)) return run;
  return undefined;
}

export function calibrate(shape: CalibrationShape): Calibration {
  const delays: number[] = [];
  let falseAlarms = 0;
  for (let stream = 0; stream < shape.streams; stream += 1) {
    const delay = runStream(`drop:${stream}`, shape, shape.baselineRate * (1 - shape.drop));
    if (delay !== undefined) delays.push(delay);
    if (runStream(`steady:${stream}`, shape, shape.baselineRate) !== undefined) falseAlarms += 1;
  }
  delays.sort((left, right) => left - right);
  return {
    shape,
    detected: delays.length,
    delays: { median: quantile(delays, 0.5), p90: quantile(delays, 0.9), max: delays.at(-1) ?? Number.NaN },
    falseAlarms,
    falseAlarmRate: falseAlarms / shape.streams,
  };
}

export async function benchMonitorCalibration(shape: CalibrationShape = { streams: 2_000, baselineRate: 0.9, drop: 0.15, baselineRuns: 500, horizon: 5_000, alpha: 0.05 }): Promise<Measure[]> {
  const began = performance.now();
  const result = calibrate(shape);
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  const detail = `${shape.streams} seeded streams each way, baseline ${shape.baselineRuns} runs at ${shape.baselineRate}, then ${shape.horizon} live runs at ${(shape.baselineRate * (1 - shape.drop)).toFixed(3)} (drop) or unchanged; alpha ${shape.alpha}; ${result.detected}/${shape.streams} drops detected within the horizon; ${seconds} s`;
  process.stdout.write(
    `  monitor: 15% drop detected after ${result.delays.median} runs (median), ${result.delays.p90} (p90), ${result.delays.max} (max); false alarms ${result.falseAlarms}/${shape.streams} = ${(result.falseAlarmRate * 100).toFixed(2)}% over ${shape.horizon} runs  (${detail})\n`,
  );
  return [
    { name: 'monitor: runs to detect a 15% pass-rate drop, median', value: result.delays.median, unit: 'runs', detail },
    { name: 'monitor: runs to detect a 15% pass-rate drop, p90', value: result.delays.p90, unit: 'runs', detail },
    { name: 'monitor: false-alarm rate on an unchanged stream', value: Number((result.falseAlarmRate * 100).toFixed(2)), unit: '%', detail },
  ];
}

if (import.meta.main) await benchMonitorCalibration();
