import { randomUUID } from 'node:crypto';
import { defineTask } from '../engine/index.ts';
import type { Engine } from '../engine/index.ts';
import { currentStep } from '../journal/index.ts';
import type { AlertKind } from '../journal/index.ts';
import type { Alert, AlertHook } from '../models/index.ts';
import type { JsonValue } from '../spec/index.ts';

/** An alert to raise outside the run it is about: a fault a run's journal shows, a quality drop, a drill's finding. */
export interface AlertToRaise {
  kind: AlertKind;
  scope: string;
  message: string;
  threshold: number;
  value: number;
  about?: string;
}

/** What one alert's hooks did: each hook is awaited, and its failure reported, never thrown. */
export interface AlertDelivery {
  kind: AlertKind;
  delivered: number;
  failed: string[];
}

/**
 * Journals an alert in the current step (an `alert-raise` event) and calls every hook, awaiting
 * them so the caller knows what was delivered. Outside a step it only calls the hooks.
 */
export async function raiseAndDeliver(alert: AlertToRaise, hooks: readonly AlertHook[]): Promise<AlertDelivery> {
  const step = currentStep();
  step?.record('alert-raise', alert.about === undefined ? { kind: alert.kind, scope: alert.scope, message: alert.message, threshold: alert.threshold, value: alert.value } : { ...alert });
  const payload: Alert = step === undefined ? { ...alert } : { ...alert, runId: step.runId };
  const failed: string[] = [];
  let delivered = 0;
  for (const hook of hooks) {
    try {
      await hook(payload);
      delivered += 1;
    } catch (error) {
      failed.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { kind: alert.kind, delivered, failed };
}

/** The task whose runs carry alerts raised outside the runs they are about. */
export const monitorTaskName = 'keel-monitor';

/**
 * A run of `keel-monitor` per batch of alerts: each alert in its own step, so alerts are
 * hash-chained, anchored in the audit log with every other run, and shown by `keel show`.
 */
export const monitorTask = defineTask<{ alerts: JsonValue[] }, { delivered: JsonValue[] }>({
  name: monitorTaskName,
  version: '1',
  async run(context, input) {
    const delivered: JsonValue[] = [];
    for (const [index, alert] of input.alerts.entries()) {
      const raised = alert as unknown as AlertToRaise;
      const delivery = await context.step(`alert:${raised.kind}`, async () => (await raiseAndDeliver(raised, hooksOf(context.runId))) as unknown as JsonValue, { input: { index } });
      delivered.push(delivery);
    }
    return { delivered };
  },
});

// Hooks are functions, not JSON: the run finds them by its id, registered by whoever started it.
const pendingHooks = new Map<string, readonly AlertHook[]>();

function hooksOf(runId: string): readonly AlertHook[] {
  return pendingHooks.get(runId) ?? [];
}

/** Raises alerts in one new `keel-monitor` run on `engine` (which must serve `monitorTask`); returns its id and the deliveries. */
export async function raiseInMonitorRun(engine: Engine, alerts: readonly AlertToRaise[], hooks: readonly AlertHook[]): Promise<{ runId: string; deliveries: AlertDelivery[] }> {
  const runId = `run_${randomUUID()}`;
  pendingHooks.set(runId, hooks);
  try {
    const outcome = await engine.start(monitorTaskName, { alerts: alerts as unknown as JsonValue[] }, { principal: 'keel:monitor', tenant: 'keel', runId });
    const output = outcome.output as { delivered?: AlertDelivery[] } | undefined;
    return { runId: outcome.runId, deliveries: output?.delivered ?? [] };
  } finally {
    pendingHooks.delete(runId);
  }
}
