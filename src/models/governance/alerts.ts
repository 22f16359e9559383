import { currentStep } from '../../journal/index.ts';
import type { AlertKind } from '../../journal/index.ts';

export interface Alert {
  kind: AlertKind;
  scope: string;
  message: string;
  threshold: number;
  value: number;
  runId?: string;
  /** The run the alert is about, when it is raised in another (a monitor's or a drill's). */
  about?: string;
}

/** Called for every alert, after it is journaled. A failing hook is reported, never fatal. */
export type AlertHook = (alert: Alert) => void | Promise<void>;

export function raiseAlert(alert: Omit<Alert, 'runId'>, hooks: readonly AlertHook[]): void {
  const step = currentStep();
  step?.record('alert-raise', alert);
  const delivered: Alert = step === undefined ? alert : { ...alert, runId: step.runId };
  for (const hook of hooks) {
    Promise.resolve()
      .then(() => hook(delivered))
      .catch((error: unknown) => {
        process.emitWarning(`alert hook failed for ${alert.scope}: ${error instanceof Error ? error.message : String(error)}`, 'KeelAlertHookWarning');
      });
  }
}
