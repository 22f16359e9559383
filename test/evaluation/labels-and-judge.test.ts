/**
 * Human labels and the LLM judge. Runs recorded on `sim:default@0.7` are partly wrong; a person
 * labels each one right or wrong (here: whether the full-quality model reproduces it), each label
 * its own `label` run. The judge, called through a governed, budgeted route as model steps of the
 * evaluation run, grades the same recorded answers, and the evaluation reports its agreement with
 * the people: Cohen's κ, sensitivity and specificity. Also: dataset selection by label, status,
 * kind and limit; an earlier evaluation as the baseline, refused when the scorers differ.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../src/cli/index.ts';
import type { EvaluationReport } from '../../src/evaluation/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-labels-judge-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const database = join(folder, 'keel.db');

async function keel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', database], {
    output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    environment: { ...process.env, NO_COLOR: '1', USER: 'tester' },
    colour: false,
  });
  return { code, stdout, stderr };
}

const json = <T>(result: { code: number; stdout: string; stderr: string }): T => {
  assert.ok((result.code === 0 || result.code === 1) && result.stdout !== '', `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

/** An agent's answer without its prose: what a person checks. */
function factsOf(output: unknown): unknown {
  const answer = (output as { output?: Record<string, unknown> } | null)?.output;
  if (answer === undefined || answer === null) return output ?? null;
  const { answer: _prose, ...facts } = answer;
  return Object.fromEntries(Object.entries(facts).sort(([left], [right]) => left.localeCompare(right)));
}

test('people label runs; the judge grades them through a budgeted route, and its agreement with them is reported', async () => {
  const recorded = json<{ runs: { id: string; status: string }[] }>(await keel(['demo', '--count', '40', '--model', 'sim:default@0.7', '--json']));
  const ended = recorded.runs.filter((run) => ['ok', 'degraded', 'failed', 'escalated'].includes(run.status));
  let wrong = 0;
  for (const run of ended) {
    // The person's judgement: right when the full-quality model ends the same way and states the
    // same facts (refund, amount, policy, confidence), whatever the wording.
    const replayed = json<{ recorded: { status: string; output: unknown }; candidateRun: { status: string; output: unknown } }>(await keel(['replay', run.id, '--model', 'sim:default', '--json']));
    const right = replayed.recorded.status === replayed.candidateRun.status && JSON.stringify(factsOf(replayed.recorded.output)) === JSON.stringify(factsOf(replayed.candidateRun.output));
    if (!right) wrong += 1;
    const labelled = json<{ labelRun: string; by: string }>(await keel(['label', run.id, '--score', right ? '1' : '0', '--note', right ? 'correct' : 'wrong facts', '--as', 'alice', '--json']));
    assert.equal(labelled.by, 'user:alice');
  }
  assert.ok(wrong >= 3 && wrong < ended.length, `${wrong} of ${ended.length} recorded answers are wrong`);

  const bad = await keel(['label', 'run_nope', '--score', '1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /run-not-found/);
  assert.equal((await keel(['label', ended[0]?.id ?? '', '--score', '1.5'])).code, 2);

  // Datasets by label: the bad ones, and all labelled ones.
  const badSet = json<{ items: number }>(await keel(['dataset', 'create', 'bad', '--task', 'support-refund', '--where', 'label=bad', '--json']));
  assert.equal(badSet.items, wrong);
  const labelled = json<{ items: number }>(await keel(['dataset', 'create', 'labelled', '--task', 'support-refund', '--where', 'label=any', '--json']));
  assert.equal(labelled.items, ended.length);
  assert.equal(json<{ items: number }>(await keel(['dataset', 'create', 'two', '--task', 'support-refund', '--status', 'ok', '--limit', '2', '--json'])).items, 2);
  const decisions = json<{ items: number }>(await keel(['dataset', 'create', 'calls', '--task', 'support-refund', '--kind', 'tool-call', '--since', '1d', '--json']));
  assert.ok(decisions.items > ended.length, 'every tool decision of every run');
  const taken = await keel(['dataset', 'create', 'bad', '--task', 'support-refund']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /dataset-exists/);

  // The judge through a route with a run budget: every call reserved, priced and journaled.
  const config = join(folder, 'keel.config.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'judge', models: ['sim:default'] }], budgets: [{ scope: 'run', micros: 5_000_000 }] }));
  const evaluated = json<EvaluationReport & { judge: { agreement: { items: number; kappa: number; sensitivity: number; specificity: number } } }>(
    await keel(['eval', 'run', '--dataset', 'labelled', '--model', 'sim:default', '--scorer', 'exact,judge', '--judge', 'judge', '--config', config, '--json']),
  );
  const { agreement } = evaluated.judge;
  assert.equal(agreement.items, ended.length);
  assert.ok(agreement.kappa > 0.8, JSON.stringify(agreement));
  assert.equal(agreement.sensitivity, 1);
  assert.equal(agreement.specificity, 1);
  // The full-quality candidate fixes the wrong answers: by the judge, better than the recorded runs.
  assert.ok((evaluated.scorers.judge?.candidateMean ?? 0) > (evaluated.scorers.judge?.baselineMean ?? 1), JSON.stringify(evaluated.scorers));

  const shown = json<{ events: { type: string; data: { kind?: string; name?: string; step?: number; outcome?: string; cost?: { micros: number } } }[] }>(await keel(['show', evaluated.evaluation, '--json']));
  const judgeSteps = shown.events.filter((event) => event.type === 'step-start' && event.data.kind === 'model-call' && event.data.name?.startsWith('judge ') === true);
  assert.equal(judgeSteps.length, ended.length * 2, 'one judge call for the candidate and one for the recorded answer, per item');
  const judgeStepNumbers = new Set(judgeSteps.map((event) => event.data.step));
  // The candidate's calls, inside each item's replay, go through the governed route too.
  const budgetEvents = shown.events.filter((event) => event.type === 'budget-decision');
  assert.ok(budgetEvents.length > judgeSteps.length, 'the candidate calls are reserved too');
  assert.equal(budgetEvents.filter((event) => judgeStepNumbers.has(event.data.step)).length, judgeSteps.length, 'every judge call was reserved against the run budget');
  assert.ok(budgetEvents.every((event) => event.data.outcome === 'reserved'));
  const judgeEnds = shown.events.filter((event) => event.type === 'step-end' && event.data.name?.startsWith('judge ') === true);
  assert.ok(judgeEnds.every((event) => (event.data.cost?.micros ?? 0) > 0), 'every judge call is priced');

  // A baseline model re-run the same way: the recorded model's own mistakes, against the full-quality
  // candidate. By `exact` (agreement with the recorded answers) the candidate differs where they were
  // wrong; by the judge, which checks the evidence, it is better by exactly those items.
  const rerun = json<EvaluationReport & { statistics: { meanDifference: number } }>(
    await keel(['eval', 'run', '--dataset', 'labelled', '--model', 'sim:default', '--baseline-model', 'sim:default@0.7', '--scorer', 'judge,exact', '--judge', 'judge', '--config', config, '--json']),
  );
  assert.equal(rerun.baseline, 'sim:default@0.7');
  assert.equal(rerun.verdict, 'improved');
  assert.equal(rerun.scorers.exact?.baselineMean, 1, 'the recorded model reproduces its recorded answers');
  assert.ok(Math.abs(rerun.statistics.meanDifference - wrong / ended.length) < 1e-9, `${rerun.statistics.meanDifference} vs ${wrong}/${ended.length}`);

  // An earlier evaluation as the baseline: comparable only with the same scorers.
  const again = json<EvaluationReport>(await keel(['eval', 'run', '--dataset', 'labelled', '--model', 'sim:default', '--scorer', 'exact,judge', '--judge', 'judge', '--config', config, '--baseline-run', evaluated.evaluation, '--json']));
  assert.equal(again.verdict, 'no-evidence');
  const refused = await keel(['eval', 'run', '--dataset', 'labelled', '--model', 'sim:default', '--scorer', 'exact', '--baseline-run', evaluated.evaluation, '--json']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /evaluation-incomparable.*judge/);
});

test('eval run and dataset commands refuse bad arguments in one line, before opening anything', async () => {
  const cases: [string[], RegExp][] = [
    [['eval', 'run', '--model', 'sim:default'], /needs --dataset NAME and --model/],
    [['eval', 'run', '--dataset', 'x', '--model', 'sim:default', '--scorer', 'nope'], /unknown scorer 'nope'/],
    [['eval', 'run', '--dataset', 'x', '--model', 'sim:default', '--scorer', 'judge'], /needs --judge/],
    [['eval', 'run', '--dataset', 'x', '--model', 'sim:default', '--margin', '2'], /--margin takes a number/],
    [['dataset', 'create', 'x'], /needs --task/],
    [['dataset', 'create', 'bad name', '--task', 't'], /dataset name/],
    [['dataset', 'create', 'x', '--task', 't', '--since', 'yesterday'], /--since takes a duration/],
    [['dataset', 'create', 'x', '--task', 't', '--where', 'colour=red'], /--where takes KEY=VALUE/],
    [['dataset', 'export', 'x', '--format', 'csv', '--out', 'f'], /--format jsonl or openai-chat/],
    [['demo', '--count', '0'], /count/],
  ];
  // A model that cannot be named is a configuration error (exit 1), found before the database is opened.
  let modelError = '';
  const model = await runCli(['eval', 'run', '--dataset', 'x', '--model', 'sim:default@2', '--db', join(folder, 'never.db')], { output: { stdout: () => undefined, stderr: (text) => (modelError += text) }, environment: { ...process.env }, colour: false });
  assert.equal(model, 1);
  assert.match(modelError, /^keel: error \[config-invalid\]: model 'sim:default@2': the quality after @/);
  for (const [args, message] of cases) {
    let stderr = '';
    const code = await runCli([...args, '--db', join(folder, 'never.db')], { output: { stdout: () => undefined, stderr: (text) => (stderr += text) }, environment: { ...process.env }, colour: false });
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stderr.split('\n').length, 2, stderr);
    assert.match(stderr, message, args.join(' '));
  }
});
