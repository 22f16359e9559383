/**
 * What an evaluation spent: the candidate's calls (made inside each item's replay, not as model
 * steps of the evaluation run), the baseline's when it is re-run, and the judge's, in tokens and
 * integer micro-USD, in `--json`, the terminal report and the HTML report, and matching what the
 * evaluation run's own journal recorded of those calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../src/cli/index.ts';
import type { EvaluationReport } from '../../src/evaluation/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-eval-costs-'));
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

interface ShownEvent {
  type: string;
  data: { step?: number; name?: string; kind?: string; usage?: { inputTokens: number; outputTokens: number }; cost?: { micros: number } };
}

test('an evaluation reports what the candidate, the re-run baseline and the judge spent, as its journal recorded it', async () => {
  assert.equal((await keel(['demo', '--count', '12', '--json'])).code, 0);
  assert.equal((await keel(['dataset', 'create', 'spend', '--task', 'support-refund', '--json'])).code, 0);
  const config = join(folder, 'keel.config.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'judge', models: ['sim:default'] }], budgets: [{ scope: 'run', micros: 5_000_000 }] }));
  const html = join(folder, 'report.html');
  const result = await keel(['eval', 'run', '--dataset', 'spend', '--model', 'sim:default', '--baseline-model', 'sim:default@0.7', '--scorer', 'exact,judge', '--judge', 'judge', '--config', config, '--out', html, '--json']);
  assert.equal(result.code === 0 || result.code === 1, true, result.stderr);
  const report = JSON.parse(result.stdout) as EvaluationReport;
  const { costs } = report;
  assert.ok(costs.candidate.calls > 0 && costs.candidate.micros > 0, JSON.stringify(costs));
  assert.ok(costs.baseline !== null && costs.baseline.calls > 0 && costs.baseline.micros > 0, 'the re-run baseline is counted');
  assert.ok(costs.judge !== null && costs.judge.calls === 2 * Number((report.statistics as { items: number }).items), 'two judge calls per item');
  assert.equal(costs.totalMicros, costs.candidate.micros + costs.baseline.micros + costs.judge.micros);
  assert.ok(costs.recorded.micros > 0 && costs.recorded.tokens > 0, 'what the recorded runs cost, for comparison');

  // The journal of the evaluation run agrees: the replays' attempts inside item steps, the judge's step costs.
  const shown = JSON.parse((await keel(['show', report.evaluation, '--json'])).stdout) as { events: ShownEvent[] };
  const itemSteps = new Set(shown.events.filter((event) => event.type === 'step-start' && event.data.name?.startsWith('item ') === true).map((event) => event.data.step));
  const replayTokens = shown.events
    .filter((event) => event.type === 'model-attempt-end' && itemSteps.has(event.data.step))
    .reduce((sum, event) => sum + (event.data.usage?.inputTokens ?? 0) + (event.data.usage?.outputTokens ?? 0), 0);
  assert.equal(replayTokens, costs.candidate.inputTokens + costs.candidate.outputTokens + costs.baseline.inputTokens + costs.baseline.outputTokens);
  const judgeMicros = shown.events.filter((event) => event.type === 'step-end' && event.data.name?.startsWith('judge ') === true).reduce((sum, event) => sum + (event.data.cost?.micros ?? 0), 0);
  assert.equal(judgeMicros, costs.judge.micros);

  const page = readFileSync(html, 'utf8');
  assert.match(page, /<h2>Cost<\/h2>/);
  for (const micros of [costs.candidate.micros, costs.baseline.micros, costs.judge.micros, costs.totalMicros]) assert.ok(page.includes(`$${(micros / 1_000_000).toFixed(6)}`), `${micros} micro-USD in the HTML report`);

  const printed = await keel(['eval', 'run', '--dataset', 'spend', '--model', 'sim:default', '--out', join(folder, 'plain.html')]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /cost: \$\d+\.\d{6}: candidate \$\d+\.\d{6} \(\d+ calls, \d+ tokens\); the recorded runs had cost \$\d+\.\d{6}/);
});
