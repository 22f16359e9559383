import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { isErrorCode, KeelError } from '../../errors/index.ts';
import { defaultRubric, dollars, evaluationTask, evaluationTaskName, judgeScorerVersion, parseScorers, readDataset, renderHtmlReport } from '../../evaluation/index.ts';
import type { EvaluationInput, EvaluationReport, EvaluationServices, VerdictReport } from '../../evaluation/index.ts';
import { resolveModel } from '../../models/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { openDeployment } from '../open-deployment.ts';

function share(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^(?:0(?:\.\d+)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value < 1)) throw new KeelError('usage-invalid', `--${name} takes a number from 0 up to (not including) 1, got '${text}'`);
  return value;
}

/**
 * `keel eval run --dataset NAME --model M`: replays every item of the dataset against M (tool
 * calls answered from the journal), scores it against the recorded runs (or the baseline model
 * re-run, or an earlier evaluation), and says whether M regressed, improved, showed no evidence of
 * a change, or could not tell at this size. The evaluation is itself a run (task eval:NAME) whose
 * journal holds every score. Exit 1 on `regressed`, so it gates CI; an HTML report is written
 * beside the database (or to --out).
 */
export const evalRunCommand: Command = async (context) => {
  const { dataset, model: candidate } = context.options;
  if (dataset === undefined || candidate === undefined) throw new KeelError('usage-invalid', 'keel eval run needs --dataset NAME and --model P:M (the candidate)');
  if (context.options.baselineModel !== undefined && context.options.baselineRun !== undefined) throw new KeelError('usage-invalid', 'keel eval run takes --baseline-model or --baseline-run, not both');
  const parsed = parseScorers(context.options.scorer);
  const judgeModel = context.options.judge;
  if (parsed.judge && judgeModel === undefined) throw new KeelError('usage-invalid', 'the judge scorer needs --judge P:M, the model that judges');
  const margin = share('margin', context.options.margin, 0);
  const effectOfInterest = share('effect-size', context.options.effectSize, 0.1);
  if (context.options.effectSize !== undefined && effectOfInterest === 0) throw new KeelError('usage-invalid', '--effect-size must be above 0');
  const seed = context.options.seed === undefined ? 7 : Number(context.options.seed);
  // Bad model names stop here, before the database is opened; a name without a provider is a route of the config,
  // and a provider the config names is one a model may be of.
  const configPath = context.options.config ?? context.environment.KEEL_CONFIG;
  const providers = configPath === undefined ? undefined : loadConfig(configPath).providers;
  for (const name of [candidate, context.options.baselineModel, judgeModel]) {
    if (name?.includes(':') === true) resolveModel(name, { environment: context.environment, ...(providers === undefined ? {} : { providers }) });
  }
  // The recorded agent is served as it was recorded; --model is the candidate here, not the agent's model.
  const served: CommandContext = { ...context, options: { ...context.options, model: undefined } };
  const deployment = await openDeployment(served, { create: false });
  try {
    const { store } = deployment.keel;
    const { record } = await readDataset(store, dataset);
    const { createKeel } = await import('../../agent/index.ts');
    const progress = !context.options.json && process.stderr.isTTY === true;
    const services = {
      store,
      tasks: deployment.keel.engine.tasks,
      candidateScript: deployment.demoScript,
      rubric: defaultRubric,
      onProgress: progress ? (done: number, total: number) => drawProgress(context, done, total) : undefined,
    } as Omit<EvaluationServices, 'runtime'> as EvaluationServices;
    const task = evaluationTask(dataset, services);
    const evaluation = await createKeel({ store, environment: context.environment, tasks: [task], ...(configPath === undefined ? {} : { config: configPath }) });
    try {
      services.runtime = evaluation.runtime;
      const input: EvaluationInput = {
        dataset,
        contentHash: record.contentHash,
        candidate,
        baseline: context.options.baselineRun !== undefined ? `evaluation:${context.options.baselineRun}` : (context.options.baselineModel ?? 'recorded'),
        scorers: context.options.scorer ?? 'exact,contract,tools',
        scorerVersions: Object.fromEntries([...parsed.scorers.map((scorer): [string, string] => [scorer.name, scorer.version]), ...(parsed.judge ? [['judge', judgeScorerVersion] as [string, string]] : [])]),
        judge: judgeModel === undefined ? null : { model: judgeModel, rubric: defaultRubric.name, rubricVersion: defaultRubric.version },
        seed,
        margin,
        effectOfInterest,
      };
      const outcome = await evaluation.run(evaluationTaskName(dataset), input, { principal: decider(context.options.as, context.environment) });
      if (progress) context.output.stderr('\n');
      if (outcome.status !== 'ok') throw new KeelError(outcome.error !== undefined && isErrorCode(outcome.error.code) ? outcome.error.code : 'internal', `evaluation run ${outcome.runId} ended ${outcome.status}: ${outcome.reason ?? outcome.error?.message ?? 'no reason'}`);
      const report = outcome.output as EvaluationReport;
      const htmlPath = context.options.out ?? join(store.dialect === 'sqlite' ? dirname(store.location) : join(process.cwd(), '.keel'), 'evals', `${outcome.runId}.html`);
      mkdirSync(dirname(htmlPath), { recursive: true });
      writeFileSync(htmlPath, renderHtmlReport(report));
      if (context.options.json) printJson(context, { ...report, report: htmlPath });
      else printReport(context, report, htmlPath);
      return report.verdict === 'regressed' ? 1 : 0;
    } finally {
      await evaluation.close();
    }
  } finally {
    await deployment.close();
  }
};

function drawProgress(context: CommandContext, done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  context.output.stderr(`\r  evaluating [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
}

function printReport(context: CommandContext, report: EvaluationReport, htmlPath: string): void {
  const statistics = report.statistics as unknown as VerdictReport;
  const colour = report.verdict === 'regressed' ? 'red' : report.verdict === 'improved' ? 'green' : 'yellow';
  const out = (line: string) => context.output.stdout(`${line}\n`);
  out(`${context.paint('bold', `evaluation ${report.evaluation}`)}: ${report.candidate} against ${report.baseline === 'recorded' ? 'the recorded runs' : report.baseline} on dataset ${report.dataset} (${report.contentHash.slice(0, 12)}…)`);
  out(`  verdict: ${context.paint(colour, report.verdict)}: ${statistics.reason}`);
  out(
    `  ${report.primaryScorer}: baseline ${statistics.baselineMean.toFixed(3)}, candidate ${statistics.candidateMean.toFixed(3)}, difference ${statistics.meanDifference.toFixed(3)} ` +
      `[${statistics.interval.lower.toFixed(3)}, ${statistics.interval.upper.toFixed(3)}], MDE ${statistics.minimumDetectableEffect.toFixed(3)}, ${statistics.items} items in ${statistics.clusters} clusters`,
  );
  for (const [name, means] of Object.entries(report.scorers)) out(`  ${name}: baseline ${means.baselineMean.toFixed(3)}, candidate ${means.candidateMean.toFixed(3)}`);
  if (report.divergences > 0) out(`  ${report.divergences} items diverged: the candidate called tools the recorded run never did (scored, never executed)`);
  const judge = report.judge as { agreement?: { items: number; kappa: number | null; sensitivity: number | null; specificity: number | null } | null } | null;
  if (judge?.agreement !== undefined && judge.agreement !== null) {
    const agreement = judge.agreement;
    out(`  judge agreement with ${agreement.items} human labels: κ ${agreement.kappa?.toFixed(3) ?? 'n/a'}, sensitivity ${agreement.sensitivity?.toFixed(3) ?? 'n/a'}, specificity ${agreement.specificity?.toFixed(3) ?? 'n/a'}`);
  }
  const costs = report.costs;
  const spent = [`candidate ${dollars(costs.candidate.micros)} (${costs.candidate.calls} calls, ${costs.candidate.inputTokens + costs.candidate.outputTokens} tokens)`];
  if (costs.baseline !== null) spent.push(`baseline ${dollars(costs.baseline.micros)} (${costs.baseline.calls} calls, ${costs.baseline.inputTokens + costs.baseline.outputTokens} tokens)`);
  if (costs.judge !== null) spent.push(`judge ${dollars(costs.judge.micros)} (${costs.judge.calls} calls, ${costs.judge.inputTokens + costs.judge.outputTokens} tokens)`);
  out(`  cost: ${dollars(costs.totalMicros)}: ${spent.join(', ')}; the recorded runs had cost ${dollars(costs.recorded.micros)}`);
  out(`  report: ${htmlPath} · scores journaled in run ${report.evaluation} (keel show ${report.evaluation})`);
}
