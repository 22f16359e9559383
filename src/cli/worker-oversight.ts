import type { KeelConfig } from '../config/index.ts';
import { drillFaultNames, isDrillFaultName, runDrill } from '../drill/index.ts';
import { Engine } from '../engine/index.ts';
import type { RunAbandoned, RunOutcome, TaskCatalog } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { OpenedAuditLog } from '../audit/index.ts';
import { evaluateModelChange, parseScorers } from '../evaluation/index.ts';
import type { AlertHook, SimulatorScript } from '../models/index.ts';
import { monitorTask, RunWatcher } from '../monitor/index.ts';
import type { ModelChange, ModelChangeEvaluation, TaskStatsSnapshot } from '../monitor/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { CommandContext } from './command.ts';
import type { Deployment } from './open-deployment.ts';
import { demoDrillRequest, demoPlantedCall, servedAgent } from './served-agent.ts';

/** What `keel worker` does beside serving runs: online monitoring of its runs, and scheduled drills. */
export interface WorkerOversight {
  /** Called for every run the worker settles. */
  settled(result: RunOutcome | RunAbandoned): void;
  /** Stops the drill schedule and waits for the monitoring and drills in flight. */
  close(): Promise<void>;
}

/**
 * Starts the config's `monitors` (a RunWatcher fed by the worker's settled runs, its alerts
 * journaled as `keel-monitor` runs and sent to the webhooks) and `drills` (each on its own timer,
 * one at a time). Returns undefined when the config asks for neither.
 */
export async function startWorkerOversight(context: CommandContext, deployment: Deployment): Promise<WorkerOversight | undefined> {
  const configPath = context.options.config ?? context.environment.KEEL_CONFIG;
  if (configPath === undefined) return undefined;
  const { loadConfig, webhookAlertHook } = await import('../config/index.ts');
  const config: KeelConfig = loadConfig(configPath);
  const monitors = config.monitors ?? [];
  const drills = config.drills ?? [];
  if (monitors.length === 0 && drills.length === 0) return undefined;
  drills.forEach((drill, index) => {
    if (!isDrillFaultName(drill.fault)) throw new KeelError('config-invalid', `${configPath}: drills[${index}].fault: unknown fault '${drill.fault}' (known: ${drillFaultNames.join(', ')})`);
  });
  const { store, audit } = deployment.keel;
  const hooks = (config.alerts?.webhooks ?? []).map(webhookAlertHook);
  const say = (line: string) => context.output.stdout(`${line}\n`);
  const monitoring = startRunMonitoring({ store, audit, config, hooks, say, evaluation: { tasks: deployment.keel.engine.tasks, candidateScript: deployment.demoScript, environment: context.environment } });
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const timers: NodeJS.Timeout[] = [];
  let drilling = Promise.resolve();
  for (const drill of drills) {
    const fault = drill.fault;
    if (!isDrillFaultName(fault)) continue;
    const run = async () => {
      const served = await servedAgent(context, drill.task, config);
      try {
        const report = await runDrill({
          agent: served.agent,
          fault,
          runs: drill.runs ?? 1,
          store,
          config,
          environment: context.environment,
          hooks,
          message: served.demo ? demoDrillRequest.message : 'Hello.',
          principal: served.demo ? demoDrillRequest.principal : 'keel:drill',
          tenant: served.demo ? demoDrillRequest.tenant : 'default',
          ...(served.demo ? { planted: demoPlantedCall } : {}),
        });
        say(`drill   ${fault} on ${drill.task}: ${report.pass ? 'PASS' : 'FAIL'}  report ${report.reportRunId}${report.pass ? '' : `  failed: ${report.expectations.filter((item) => !item.pass).map((item) => item.name).join('; ')}`}`);
      } finally {
        served.close();
      }
    };
    // Drills take turns: two at once would contend for the same budget book and breakers.
    const schedule = () => {
      drilling = drilling.then(run).catch((error: unknown) => say(`drill   ${fault} on ${drill.task} could not run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`));
      track(drilling);
    };
    timers.push(setInterval(schedule, drill.every * 1_000));
  }
  return {
    settled: (result) => monitoring.settled(result),
    async close() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...inFlight]);
      await monitoring.close();
    },
  };
}

/** What a monitor's `onModelChange` evaluation replays with: the tasks this process serves, and the environment its models read. */
export interface MonitorEvaluationServices {
  tasks: TaskCatalog;
  candidateScript: SimulatorScript | undefined;
  environment: Record<string, string | undefined>;
}

/** The config's monitors over a store: `keel worker` feeds them its settled runs, `keel serve` its gateway runs. */
export function startRunMonitoring(options: {
  store: StoreV1;
  audit: OpenedAuditLog | undefined;
  config: KeelConfig;
  hooks: readonly AlertHook[];
  say: (line: string) => void;
  evaluation: MonitorEvaluationServices;
}): WorkerOversight {
  const { store, audit, say } = options;
  const monitors = options.config.monitors ?? [];
  monitors.forEach((monitor, index) => {
    const scorers = monitor.onModelChange?.evaluate.scorers;
    if (scorers === undefined) return;
    const where = `monitors[${index}].onModelChange.evaluate.scorers`;
    try {
      if (parseScorers(scorers).judge) throw new KeelError('config-invalid', 'the judge scorer needs a judge model, which a model-change evaluation does not take');
    } catch (error) {
      throw new KeelError('config-invalid', `${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  // Alerts are runs of their own task on this store, anchored like every run; this engine never claims work.
  const engine = new Engine({ store, tasks: [monitorTask], workerRegistry: false, ...(audit === undefined ? {} : { afterRun: (runId: string) => audit.log.anchor([runId]) }) });
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  // Evaluations take turns: each replays a whole dataset against a provider, and two at once would only contend.
  let evaluating = Promise.resolve();
  const onModelChange = (change: ModelChange, evaluate: ModelChangeEvaluation) => {
    say(`model   ${change.provider}:${change.modelId} (route ${change.route}) answers as ${change.version} (run ${change.runId}): evaluating dataset ${evaluate.dataset} against its recorded runs`);
    evaluating = evaluating
      .then(async () => {
        const result = await evaluateModelChange(change, evaluate, { store, ...options.evaluation, config: options.config, hooks: options.hooks, alerts: engine });
        if (result.outcome === 'claimed-elsewhere') say(`model   ${change.version}: evaluation ${result.evaluation} is another process's (or was done before); not run again`);
        else say(`alert   ${result.alert.kind}  ${result.alert.message}  (journaled in ${result.monitorRunId})`);
      })
      .catch((error: unknown) => say(`model   ${change.version}: the evaluation could not run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`));
    track(evaluating);
  };
  const watcher = new RunWatcher({ store, engine, monitors, hooks: options.hooks, onModelChange });
  if (monitors.length > 0) say(`monitor ${monitors.map((monitor) => monitor.task).join(', ')}: pass rate, escalations, latency p50/p95/p99, drop test, fault alerts`);
  return {
    settled(result) {
      if ('abandoned' in result || result.status === 'waiting' || !watcher.watches(result.task)) return;
      const work = watcher.watch(result.runId, result.task).then(
        (watched) => {
          for (const alert of watched.alerts) say(`alert   ${alert.kind}  ${alert.message}  (journaled in ${watched.monitorRunId ?? '?'})`);
          // The figures a monitor keeps, said every so many scored runs (a count, not a clock) and when it stops.
          const stats = watcher.stats(result.task);
          if (watched.scored && stats !== undefined && stats.runs % statsEvery === 0) say(statsLine(stats));
        },
        (error: unknown) => say(`monitor could not watch ${result.runId}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`),
      );
      track(work);
    },
    async close() {
      // A watch in flight may start an evaluation: wait for the watches, then for the evaluations.
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      for (const monitor of monitors) {
        const stats = watcher.stats(monitor.task);
        if (stats !== undefined && stats.runs > 0) say(statsLine(stats));
      }
      engine.shutdown();
    },
  };
}

/** Scored runs between two `stats` lines of a monitored task. */
const statsEvery = 100;

function statsLine(stats: TaskStatsSnapshot): string {
  const share = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
  const ms = (value: number | null) => (value === null ? 'n/a' : String(value));
  return `stats   ${stats.task}: ${stats.runs} scored runs, pass ${share(stats.passRate)}, escalated ${share(stats.escalationRate)}, latency p50 ${ms(stats.latencyMs.p50)} ms, p95 ${ms(stats.latencyMs.p95)} ms, p99 ${ms(stats.latencyMs.p99)} ms`;
}
