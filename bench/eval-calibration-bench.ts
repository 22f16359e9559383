/**
 * Statistical calibration of `keel eval run`'s verdict. In process, the verdict function (pure over
 * per-item scores) on 200 seeded trials of 200 items each: how often it says `regressed` for an
 * unchanged model (two independent samples of the same model, so scores differ item by item; at
 * most 5% allowed) and for a model at 0.85 of the baseline's task success (at least 80% required).
 * End to end, a few trials through the real CLI code: `keel demo --count 200 --seed S`, a pinned
 * dataset, and `keel eval run` against sim:default and sim:default@0.85 (the simulator is
 * deterministic, so the unchanged model reproduces every recorded answer).
 * `node bench/eval-calibration-bench.ts` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/index.ts';
import { calibrate } from '../src/evaluation/index.ts';
import type { CalibrationResult } from '../src/evaluation/index.ts';
import type { Measure } from './journal-bench.ts';

function describe(result: CalibrationResult): string {
  const { verdicts } = result;
  return `${verdicts.regressed} regressed, ${verdicts['no-evidence']} no-evidence, ${verdicts.inconclusive} inconclusive, ${verdicts.improved} improved; mean difference ${result.meanDifference.toFixed(3)}, mean MDE ${result.meanMinimumDetectableEffect.toFixed(3)}`;
}

async function keel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: { ...process.env, NO_COLOR: '1' }, colour: false });
  return { code, stdout, stderr };
}

/** One end-to-end trial: record, pin, evaluate both models; the verdicts and exit codes. */
async function endToEndTrial(seed: number, count: number): Promise<{ items: number; unchanged: string; dropped: string; unchangedExit: number; droppedExit: number; ms: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-eval-'));
  const began = performance.now();
  try {
    const database = join(folder, 'keel.db');
    const recorded = await keel(['demo', '--count', String(count), '--seed', String(seed), '--json', '--db', database]);
    if (recorded.code !== 0) throw new Error(`keel demo failed: ${recorded.stderr}`);
    const created = await keel(['dataset', 'create', 'trial', '--task', 'support-refund', '--json', '--db', database]);
    if (created.code !== 0) throw new Error(`keel dataset create failed: ${created.stderr}`);
    const verdictOf = async (model: string) => {
      const result = await keel(['eval', 'run', '--dataset', 'trial', '--model', model, '--seed', String(seed), '--json', '--db', database, '--out', join(folder, `${model}.html`)]);
      if (result.code !== 0 && result.code !== 1) throw new Error(`keel eval run failed: ${result.stderr}`);
      return { verdict: (JSON.parse(result.stdout) as { verdict: string }).verdict, code: result.code };
    };
    const unchanged = await verdictOf('sim:default');
    const dropped = await verdictOf('sim:default@0.85');
    return {
      items: (JSON.parse(created.stdout) as { items: number }).items,
      unchanged: unchanged.verdict,
      dropped: dropped.verdict,
      unchangedExit: unchanged.code,
      droppedExit: dropped.code,
      ms: Math.round(performance.now() - began),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function benchEvalCalibration(options: { trials?: number; items?: number; endToEnd?: number } = {}): Promise<Measure[]> {
  const trials = options.trials ?? 200;
  const items = options.items ?? 200;
  const began = performance.now();
  const unchanged = calibrate({ trials, items, quality: 1, seed: 2026 });
  const dropped = calibrate({ trials, items, quality: 0.85, seed: 2026 });
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  const shape = `${trials} seeded trials × ${items} items (conversations of 1-3 items; two thirds easy at 0.97, a third at 0.5-0.9), 95% cluster-bootstrap interval, 2,000 resamples; ${seconds} s`;
  process.stdout.write(`  eval: unchanged model called regressed in ${(unchanged.regressedRate * 100).toFixed(1)}% of trials (${describe(unchanged)})\n`);
  process.stdout.write(`  eval: model at 0.85 called regressed in ${(dropped.regressedRate * 100).toFixed(1)}% of trials (${describe(dropped)})  (${shape})\n`);
  const measures: Measure[] = [
    { name: 'eval: false regressions, unchanged model (in process)', value: Number((unchanged.regressedRate * 100).toFixed(1)), unit: '%', detail: `${describe(unchanged)}; ${shape}` },
    { name: 'eval: regressions detected, model at 0.85 (in process)', value: Number((dropped.regressedRate * 100).toFixed(1)), unit: '%', detail: `${describe(dropped)}; ${shape}` },
  ];
  const endToEnd = options.endToEnd ?? 3;
  if (endToEnd > 0) {
    const results = [];
    for (let trial = 1; trial <= endToEnd; trial += 1) results.push(await endToEndTrial(trial, 200));
    const falseRegressions = results.filter((result) => result.unchanged === 'regressed').length;
    const detected = results.filter((result) => result.dropped === 'regressed' && result.droppedExit === 1).length;
    const detail = results.map((result, index) => `seed ${index + 1}: ${result.items} items, unchanged ${result.unchanged} (exit ${result.unchangedExit}), @0.85 ${result.dropped} (exit ${result.droppedExit}), ${(result.ms / 1000).toFixed(1)} s`).join('; ');
    process.stdout.write(`  eval: end to end (keel demo --count 200, dataset, eval run ×2): ${falseRegressions}/${endToEnd} false regressions, ${detected}/${endToEnd} drops caught  (${detail})\n`);
    measures.push(
      { name: 'eval: false regressions, unchanged model (end to end)', value: falseRegressions, unit: `of ${endToEnd} trials`, detail },
      { name: 'eval: regressions detected, model at 0.85 (end to end)', value: detected, unit: `of ${endToEnd} trials`, detail },
    );
  }
  return measures;
}

if (import.meta.main) await benchEvalCalibration();
