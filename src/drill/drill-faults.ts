import type { FailureKind } from '../contracts/index.ts';
import type { AlertKind } from '../journal/index.ts';
import type { FaultPlan } from '../models/index.ts';

/** Where a drill puts its fault: between the task and its model, its tools, its retrievers, its budget book, or its run store. */
export type DrillSeam = 'model' | 'tool' | 'retriever' | 'budget' | 'store';

export const drillFaultNames = [
  'retrieval-down',
  'malformed-output',
  'provider-timeout',
  'rate-limit-storm',
  'stream-cut',
  'tool-down',
  'budget-exhausted',
  'schema-drift',
  'compromised-model',
  'store-outage',
] as const;

export type DrillFaultName = (typeof drillFaultNames)[number];

export interface DrillFault {
  name: DrillFaultName;
  seam: DrillSeam;
  /** What is done to the task, in one sentence for the report. */
  description: string;
  /** The alert the monitor must raise for it. */
  alert: AlertKind;
  /**
   * The failure kind the task's answer contract decides, for faults in the answer itself. Faults
   * that leave a model call without any answer (timeouts, 429s, cut streams) are the route's:
   * retried, then the next model, then the run fails with the call's error.
   */
  failureKind?: FailureKind;
  /** For model faults: the simulator's fault plan, on every call. */
  plan?: FaultPlan;
}

const always = { probability: 1 } as const;

export const drillFaults: Record<DrillFaultName, DrillFault> = {
  'retrieval-down': {
    name: 'retrieval-down',
    seam: 'retriever',
    description: "every retriever of the task's context sources, and every read tool that looks documents up (one that resolves no resource), fails as unavailable",
    alert: 'retrieval-down',
  },
  'malformed-output': {
    name: 'malformed-output',
    seam: 'model',
    description: "every model call's JSON (the answer, or a tool call's arguments) is cut short",
    alert: 'malformed-output',
    failureKind: 'malformed',
    plan: [{ on: always, fault: { type: 'malformed-json' } }],
  },
  'provider-timeout': {
    name: 'provider-timeout',
    seam: 'model',
    description: 'every model call hangs until it times out (250 ms)',
    alert: 'provider-timeout',
    plan: [{ on: always, fault: { type: 'timeout', hangMs: 250 } }],
  },
  'rate-limit-storm': {
    name: 'rate-limit-storm',
    seam: 'model',
    description: 'every model call is answered HTTP 429 with retry-after 50 ms',
    alert: 'rate-limit-storm',
    plan: [{ on: always, fault: { type: 'rate-limit', retryAfterMs: 50 } }],
  },
  'stream-cut': {
    name: 'stream-cut',
    seam: 'model',
    description: "every model call's answer is cut off after its first part, before it finishes",
    alert: 'stream-cut',
    plan: [{ on: always, fault: { type: 'truncated-stream', afterParts: 1 } }],
  },
  'tool-down': {
    name: 'tool-down',
    seam: 'tool',
    description: "every tool with a side effect (write or irreversible) fails: its system's connection is refused",
    alert: 'tool-down',
  },
  'budget-exhausted': {
    name: 'budget-exhausted',
    seam: 'budget',
    description: 'every run has a budget of 1 micro-USD, so no model call can be reserved',
    alert: 'budget-exhausted',
  },
  'schema-drift': {
    name: 'schema-drift',
    seam: 'model',
    description: "a silent model update: the model's JSON answer drops its first field",
    alert: 'schema-drift',
    failureKind: 'malformed',
    plan: [{ on: always, fault: { type: 'schema-drift' } }],
  },
  'compromised-model': {
    name: 'compromised-model',
    seam: 'model',
    description: "the model obeys instructions planted in its input; the run's message carries one that calls the task's side-effecting tool with the attacker's arguments",
    alert: 'compromised-model',
  },
  'store-outage': {
    name: 'store-outage',
    seam: 'store',
    description:
      "the run store refuses every read and write (db-unavailable) from the moment a run's first side effect is journaled until that run's execution gives up; then the store is back and the run is resumed from its journal",
    alert: 'store-unavailable',
  },
};

export function isDrillFaultName(value: string): value is DrillFaultName {
  return (drillFaultNames as readonly string[]).includes(value);
}
