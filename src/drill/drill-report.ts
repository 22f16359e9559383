import type { AlertKind, TerminalStatus } from '../journal/index.ts';
import type { DrillFaultName, DrillSeam } from './drill-faults.ts';

/** One thing the drill expected of the system under the fault, and whether it held. */
export interface DrillExpectation {
  name: string;
  expected: string;
  actual: string;
  pass: boolean;
}

export interface DrillRun {
  runId: string;
  /** `running`: the run was not finished (a drill of the store seam that could not resume it). */
  status: TerminalStatus | 'waiting' | 'running';
  reason: string | null;
}

export interface DrillAlert {
  kind: AlertKind;
  /** The run it is about. */
  about: string;
  message: string;
  /** The events of that run that show it, by seq. */
  evidence: number[];
  /** Where it was journaled: the drill report's run (raised by the monitor) or the run itself (raised by governance). */
  journaledIn: string;
  /** Hooks it reached, of those configured; failures named. */
  delivered: number;
  failed: string[];
}

/** One journal line the drill points at: what the system logged under the fault. */
export interface DrillLogLine {
  runId: string;
  seq: number;
  type: string;
  line: string;
}

export interface DrillReport {
  kind: 'keel-drill-report';
  version: 1;
  task: string;
  fault: DrillFaultName;
  seam: DrillSeam;
  description: string;
  /** The tools, retrievers or models the fault took down. */
  targets: string[];
  startedAt: string;
  durationMs: number;
  runs: DrillRun[];
  alerts: DrillAlert[];
  logged: DrillLogLine[];
  expectations: DrillExpectation[];
  pass: boolean;
  /** The `drill:<task>` run the report is journaled in (and anchored with, under an audit key). */
  reportRunId: string;
  hooks: number;
}
