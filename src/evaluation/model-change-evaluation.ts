/**
 * What a monitor does when a provider's model version changes under a route
 * (`monitors[].onModelChange.evaluate`): it evaluates a pinned dataset of runs recorded before the
 * change, the route (now answering as the new version) as the candidate against the recorded
 * answers (the old version) as the baseline, exactly as `keel eval run` would, and raises the
 * verdict as an alert. Once per change, whatever the number of processes that saw it: the
 * evaluation run's id is derived from the change, and the store creates a run id once.
 */
import { createHash } from 'node:crypto';
import { createKeel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { Engine, TaskCatalog } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { AlertHook, SimulatorScript } from '../models/index.ts';
import { raiseInMonitorRun } from '../monitor/index.ts';
import type { AlertToRaise, ModelChange, ModelChangeEvaluation } from '../monitor/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { datasetStoreOf } from './dataset.ts';
import { evaluationTask, evaluationTaskName } from './evaluate.ts';
import type { EvaluationInput, EvaluationReport, EvaluationServices } from './evaluate.ts';
import { defaultRubric } from './judge.ts';
import type { VerdictReport } from './paired-statistics.ts';
import { defaultScorers, parseScorers } from './scorers.ts';

export interface ModelChangeEvaluationOptions {
  store: StoreV1;
  /** The tasks whose recorded runs are replayed: the ones the process serves. */
  tasks: TaskCatalog;
  /** What `sim:` candidates answer with (the demo agent's script), as for `keel eval run`. */
  candidateScript: SimulatorScript | undefined;
  /** The deployment's config: routes, prices and budgets govern the evaluation's calls as any call. */
  config: KeelConfig | undefined;
  environment: Record<string, string | undefined>;
  hooks: readonly AlertHook[];
  /** An engine serving `monitorTask`: the verdict alert is journaled in a `keel-monitor` run on it. */
  alerts: Engine;
}

export type ModelChangeOutcome =
  | { outcome: 'evaluated'; evaluation: string; verdict: VerdictReport['verdict'] | 'not-evaluated'; alert: AlertToRaise; monitorRunId: string }
  /** Another process (or an earlier run of this one) has claimed this change's evaluation. */
  | { outcome: 'claimed-elsewhere'; evaluation: string };

/** The evaluation run's id for one change: the same in every process, so the store's unique run id is the claim. */
export function modelChangeEvaluationId(change: Pick<ModelChange, 'provider' | 'modelId' | 'version' | 'route'>, evaluate: ModelChangeEvaluation): string {
  const hex = createHash('sha256').update(JSON.stringify(['model-change-evaluation', change.route, change.provider, change.modelId, change.version, evaluate.dataset])).digest('hex');
  return `run_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Evaluates the dataset against the route after its model changed, once per change, and raises
 * `model-change-regression` (verdict `regressed`) or `model-change-verdict` (any other verdict, or
 * an evaluation that could not finish: a missing dataset, a budget spent) with the hooks.
 */
export async function evaluateModelChange(change: ModelChange, evaluate: ModelChangeEvaluation, options: ModelChangeEvaluationOptions): Promise<ModelChangeOutcome> {
  const evaluation = modelChangeEvaluationId(change, evaluate);
  const scorers = evaluate.scorers ?? defaultScorers;
  const parsed = parseScorers(scorers);
  const dataset = await datasetStoreOf(options.store).getDataset(evaluate.dataset);
  const services = { store: options.store, tasks: options.tasks, candidateScript: options.candidateScript, rubric: defaultRubric } as Omit<EvaluationServices, 'runtime'> as EvaluationServices;
  const config: KeelConfig = options.config ?? { version: 1, routes: [] };
  // The evaluation's own bound, beside whatever the config budgets: a run budget covers every call of the run.
  const bounded: KeelConfig = evaluate.budgetMicros === undefined ? config : { ...config, budgets: [...(config.budgets ?? []), { scope: 'run', micros: evaluate.budgetMicros }] };
  const keel = await createKeel({ store: options.store, environment: options.environment, tasks: [evaluationTask(evaluate.dataset, services)], config: bounded });
  services.runtime = keel.runtime;
  const input: EvaluationInput = {
    dataset: evaluate.dataset,
    // A dataset that is missing now fails the claimed run (`dataset-not-found`), so the failure is said once, too.
    contentHash: dataset?.contentHash ?? 'missing',
    candidate: change.route,
    baseline: 'recorded',
    scorers,
    scorerVersions: Object.fromEntries(parsed.scorers.map((scorer): [string, string] => [scorer.name, scorer.version])),
    judge: null,
    seed: 7,
    margin: 0,
    effectOfInterest: 0.1,
  };
  let verdict: VerdictReport['verdict'] | 'not-evaluated';
  let alert: AlertToRaise;
  const was = change.previous ?? 'its previous version';
  const subject = `${change.provider}:${change.modelId} (route ${change.route}) answering as ${change.version}, was ${was}`;
  try {
    const outcome = await keel.run(evaluationTaskName(evaluate.dataset), input, { principal: 'keel:monitor', tenant: 'keel', runId: evaluation });
    if (outcome.status === 'ok') {
      const report = outcome.output as EvaluationReport;
      const statistics = report.statistics as unknown as VerdictReport;
      verdict = report.verdict;
      alert = {
        kind: verdict === 'regressed' ? 'model-change-regression' : 'model-change-verdict',
        scope: `model:${change.provider}:${change.modelId}`,
        message:
          `${subject}: ${verdict} against the ${statistics.items} recorded runs of dataset ${evaluate.dataset} (${report.primaryScorer} ${statistics.baselineMean.toFixed(3)} → ${statistics.candidateMean.toFixed(3)}, ` +
          `difference ${statistics.meanDifference.toFixed(3)} [${statistics.interval.lower.toFixed(3)}, ${statistics.interval.upper.toFixed(3)}]); evaluation ${evaluation}` +
          (verdict === 'regressed' && change.previous !== null ? `. To roll back, pin the route to ${change.previous.split(' (')[0] ?? change.previous}` : ''),
        threshold: -statistics.margin,
        value: statistics.meanDifference,
        about: evaluation,
      };
    } else {
      verdict = 'not-evaluated';
      alert = notEvaluated(change, subject, evaluation, `the evaluation ended ${outcome.status}: ${outcome.reason ?? outcome.error?.message ?? 'no reason given'}`);
    }
  } catch (error) {
    if (error instanceof KeelError && error.code === 'run-exists') return { outcome: 'claimed-elsewhere', evaluation };
    verdict = 'not-evaluated';
    alert = notEvaluated(change, subject, evaluation, error instanceof Error ? error.message : String(error));
  } finally {
    await keel.close();
  }
  const raised = await raiseInMonitorRun(options.alerts, [alert], options.hooks);
  return { outcome: 'evaluated', evaluation, verdict, alert, monitorRunId: raised.runId };
}

function notEvaluated(change: ModelChange, subject: string, evaluation: string, problem: string): AlertToRaise {
  return { kind: 'model-change-verdict', scope: `model:${change.provider}:${change.modelId}`, message: `${subject}: not evaluated (${problem}); evaluation ${evaluation}`, threshold: 0, value: 0, about: evaluation };
}
