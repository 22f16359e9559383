import type { JournalEvent } from '../journal/index.ts';
import { reportedVersion } from '../models/index.ts';

/** A provider's model version change one run's journal shows: the governed call that saw it raised `model-version-change`. */
export interface ModelChange {
  /** The run whose call saw it, and the step. */
  runId: string;
  step: number;
  task: string;
  /** The route the call went through: what an evaluation of the new version asks for. */
  route: string;
  provider: string;
  modelId: string;
  /** The version the provider answered with (`model`, and `system_fingerprint` when given). */
  version: string;
  /** The version it last answered with, as the alert names it; null when the alert does not say. */
  previous: string | null;
  /** The alert's message, as journaled. */
  message: string;
}

const previousPattern = /it last answered as (.+?)\. To roll back/;

/**
 * The model-version changes a run's journal shows: each `model-version-change` alert, with the
 * route (the step's `route-decision`) and the new version (the step's last answered attempt). A
 * pure function of the journal, so every process reads the same change from the same run.
 */
export function modelChanges(events: readonly JournalEvent[]): ModelChange[] {
  const start = events.find((event) => event.type === 'run-start');
  const task = start?.type === 'run-start' ? start.data.task : 'unknown';
  const routes = new Map<number, string>();
  const versions = new Map<number, { provider: string; modelId: string; version: string }>();
  const changes: ModelChange[] = [];
  for (const event of events) {
    if (event.type === 'route-decision') routes.set(event.data.step, event.data.route);
    if (event.type === 'model-attempt-end' && event.data.outcome === 'ok' && event.data.responseModel !== undefined) {
      const version = reportedVersion({ modelId: event.data.responseModel, ...(event.data.systemFingerprint === undefined ? {} : { systemFingerprint: event.data.systemFingerprint }) });
      versions.set(event.data.step, { provider: event.data.provider, modelId: event.data.modelId, version });
    }
    if (event.type !== 'alert-raise' || event.data.kind !== 'model-version-change') continue;
    const step = (event.data as { step?: number }).step ?? -1;
    const answered = versions.get(step);
    const route = routes.get(step);
    if (answered === undefined || route === undefined) continue;
    changes.push({ runId: event.runId, step, task, route, ...answered, previous: previousPattern.exec(event.data.message)?.[1] ?? null, message: event.data.message });
  }
  return changes;
}
