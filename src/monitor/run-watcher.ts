import type { Engine } from '../engine/index.ts';
import { isTerminal, loadRun } from '../journal/index.ts';
import type { TerminalStatus } from '../journal/index.ts';
import type { AlertHook } from '../models/index.ts';
import { seedFrom } from '../models/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { faultAlerts } from './fault-alerts.ts';
import { modelChanges } from './model-changes.ts';
import type { ModelChange } from './model-changes.ts';
import { PassRateDropTest } from './pass-rate-drop.ts';
import { raiseInMonitorRun } from './raise-alerts.ts';
import type { AlertDelivery, AlertToRaise } from './raise-alerts.ts';
import { TaskStats } from './task-stats.ts';
import type { TaskStatsSnapshot } from './task-stats.ts';

/** One task's monitor, as the config declares it (`monitors`). */
export interface MonitorSetting {
  task: string;
  sample?: number;
  pass?: TerminalStatus[];
  baselineRuns?: number;
  alpha?: number;
  faultAlerts?: boolean;
  /** What to do when a run of the task shows a provider model version change: evaluate the dataset, new version against the recorded runs. */
  onModelChange?: { evaluate: ModelChangeEvaluation };
}

/** The evaluation a model version change starts (config `monitors[].onModelChange.evaluate`). */
export interface ModelChangeEvaluation {
  /** A pinned dataset of runs recorded before the change (the old version's answers are its baseline). */
  dataset: string;
  /** The `--scorer` list; default `exact,contract,tools`. */
  scorers?: string;
  /** A run budget for the evaluation, in integer micro-USD, beside the config's own budgets. */
  budgetMicros?: number;
}

export interface RunWatcherOptions {
  store: StoreV1;
  /** An engine serving `monitorTask`, where alerts are journaled. */
  engine: Engine;
  monitors: readonly MonitorSetting[];
  hooks: readonly AlertHook[];
  /**
   * Told of each model version change a watched run shows, for tasks whose monitor has
   * `onModelChange` (every run of the task, sampled or not). It decides, through the store, whether
   * this process is the one to act on it.
   */
  onModelChange?: (change: ModelChange, evaluate: ModelChangeEvaluation) => void;
}

/** What watching one ended run did. */
export interface WatchResult {
  runId: string;
  task: string;
  scored: boolean;
  pass?: boolean;
  alerts: AlertToRaise[];
  /** The `keel-monitor` run the alerts were journaled in, when there were any. */
  monitorRunId?: string;
  deliveries: AlertDelivery[];
  /** Model version changes the run showed, when its monitor acts on them. */
  modelChanges: ModelChange[];
}

interface Watched {
  setting: MonitorSetting;
  stats: TaskStats;
  test: PassRateDropTest;
}

/**
 * Scores a sample of each monitored task's runs as they end: pass (its end state is one the
 * monitor counts as a pass), escalation, latency; feeds the task's drop test; and raises, in one
 * `keel-monitor` run per watched run, a `quality-drop` alert when the test alarms and one alert
 * per fault class the run's journal shows. Statistics live in this process (each worker watches the
 * runs it executed); alerts are journaled and delivered to the hooks.
 */
export class RunWatcher {
  readonly #options: RunWatcherOptions;
  readonly #tasks = new Map<string, Watched>();

  constructor(options: RunWatcherOptions) {
    this.#options = options;
    for (const setting of options.monitors) {
      this.#tasks.set(setting.task, {
        setting,
        stats: new TaskStats(setting.task),
        test: new PassRateDropTest({ ...(setting.alpha === undefined ? {} : { alpha: setting.alpha }), ...(setting.baselineRuns === undefined ? {} : { baselineRuns: setting.baselineRuns }) }),
      });
    }
  }

  watches(task: string): boolean {
    return this.#tasks.has(task);
  }

  stats(task: string): TaskStatsSnapshot | undefined {
    return this.#tasks.get(task)?.stats.snapshot;
  }

  dropTest(task: string): PassRateDropTest | undefined {
    return this.#tasks.get(task)?.test;
  }

  /** Watches one run that ended (a waiting run is left for when it ends). */
  async watch(runId: string, task: string): Promise<WatchResult> {
    const watched = this.#tasks.get(task);
    const result: WatchResult = { runId, task, scored: false, alerts: [], deliveries: [], modelChanges: [] };
    if (watched === undefined) return result;
    const onModelChange = watched.setting.onModelChange;
    const inSample = sampled(runId, watched.setting.sample ?? 1);
    if (!inSample && onModelChange === undefined) return result;
    const { events } = await loadRun(this.#options.store, runId);
    if (onModelChange !== undefined) {
      result.modelChanges = modelChanges(events);
      for (const change of result.modelChanges) this.#options.onModelChange?.(change, onModelChange.evaluate);
    }
    if (!inSample) return result;
    const start = events[0];
    const end = events.at(-1);
    if (end?.type !== 'run-end' || !isTerminal(end.data.status) || start === undefined) return result;
    const pass = (watched.setting.pass ?? ['ok']).includes(end.data.status);
    watched.stats.add({ status: end.data.status, pass, latencyMs: Date.parse(end.time) - Date.parse(start.time) });
    result.scored = true;
    result.pass = pass;
    if (watched.test.observe(pass)) {
      const state = watched.test.state;
      const baselineRate = state.baselinePasses / Math.max(1, state.baselineRuns);
      const liveRate = state.livePasses / Math.max(1, state.liveRuns);
      result.alerts.push({
        kind: 'quality-drop',
        scope: `task:${task}`,
        message:
          `task ${task}: the pass rate dropped to ${(liveRate * 100).toFixed(1)}% over ${state.liveRuns} runs, against ${(baselineRate * 100).toFixed(1)}% ` +
          `over the ${state.baselineRuns}-run baseline (at least ${((state.baselineLowerBound ?? 0) * 100).toFixed(1)}% at 1-alpha/2); ` +
          `a sequential test valid under continuous monitoring, false-alarm probability at most ${watched.test.alpha}`,
        threshold: state.baselineLowerBound ?? 0,
        value: liveRate,
        about: runId,
      });
      // The next runs form a new baseline: the drop is reported once, and the monitor watches on from there.
      watched.test.restart();
    }
    if (watched.setting.faultAlerts !== false) {
      for (const alert of faultAlerts(events)) result.alerts.push({ kind: alert.kind, scope: alert.scope, message: alert.message, threshold: alert.threshold, value: alert.value, about: alert.about });
    }
    if (result.alerts.length > 0) {
      const raised = await raiseInMonitorRun(this.#options.engine, result.alerts, this.#options.hooks);
      result.monitorRunId = raised.runId;
      result.deliveries = raised.deliveries;
    }
    return result;
  }
}

/** Is this run in the sample? By its id, so every process picks the same runs. */
function sampled(runId: string, share: number): boolean {
  return share >= 1 || seedFrom(`monitor-sample:${runId}`) / 4_294_967_296 < share;
}
