/**
 * Online monitoring (docs/drills-and-monitoring.md): per-task pass rates, escalation rates and
 * latency percentiles of production runs as they end, a sequential drop test that stays valid under
 * continuous looking, alerts for every fault class a run's journal shows, and the provider-reported
 * model versions each route has answered with.
 */
export { baselineLowerBound, bernoulliDivergence, defaultDropGrid, PassRateDropTest } from './pass-rate-drop.ts';
export type { DropTestOptions, DropTestState } from './pass-rate-drop.ts';
export { alertDescriptions, faultAlerts } from './fault-alerts.ts';
export type { FaultAlert } from './fault-alerts.ts';
export { monitorTask, monitorTaskName, raiseAndDeliver, raiseInMonitorRun } from './raise-alerts.ts';
export type { AlertDelivery, AlertToRaise } from './raise-alerts.ts';
export { JournalVersionBook } from './journal-version-book.ts';
export { percentile, TaskStats } from './task-stats.ts';
export type { TaskStatsSnapshot } from './task-stats.ts';
export { RunWatcher } from './run-watcher.ts';
export type { ModelChangeEvaluation, MonitorSetting, RunWatcherOptions, WatchResult } from './run-watcher.ts';
export { modelChanges } from './model-changes.ts';
export type { ModelChange } from './model-changes.ts';
