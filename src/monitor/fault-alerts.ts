import type { AlertKind, JournalEvent } from '../journal/index.ts';

/** An alert a run's journal calls for, before it is raised: what, about which run, and the evidence (event seqs). */
export interface FaultAlert {
  kind: AlertKind;
  /** `task:<task>`: alerts are grouped by the task whose runs show them. */
  scope: string;
  message: string;
  /** How many events showed it, against the threshold of one. */
  value: number;
  threshold: number;
  about: string;
  /** The events that show the fault, by seq in the run's journal. */
  evidence: number[];
}

type Finding = { kind: AlertKind; seq: number; detail: string };

// Violations an output contract reports when the JSON parsed but its shape changed: fields gone,
// renamed or added, as after a silent model update; anything else (unparsable JSON) is malformed.
const shapeCodes = new Set(['missing-field', 'unknown-field', 'wrong-type']);

function errorCode(event: JournalEvent): string | undefined {
  if (event.type === 'model-attempt-end') return event.data.error?.code;
  if (event.type === 'step-end' && !event.data.outcome.ok) return event.data.outcome.error.code;
  return undefined;
}

/** Which fault class one event shows, if any. */
function classify(event: JournalEvent, toolSteps: Map<number, string>): Finding | undefined {
  const seq = event.seq;
  switch (event.type) {
    case 'model-attempt-end': {
      const code = errorCode(event);
      if (code === 'model-timeout') return { kind: 'provider-timeout', seq, detail: `${event.data.provider}:${event.data.modelId} did not answer in time` };
      if (code === 'model-rate-limited') return { kind: 'rate-limit-storm', seq, detail: `${event.data.provider}:${event.data.modelId} answered 429` };
      if (code === 'model-stream-truncated') return { kind: 'stream-cut', seq, detail: `${event.data.provider}:${event.data.modelId}'s answer was cut short` };
      if (code === 'model-output-malformed') return { kind: 'malformed-output', seq, detail: `${event.data.provider}:${event.data.modelId} answered malformed output` };
      return undefined;
    }
    case 'output-validation': {
      if (event.data.ok || event.data.violations.length === 0) return undefined;
      const shape = event.data.violations.every((violation) => shapeCodes.has(violation.code));
      const detail = `contract ${event.data.contract}@${event.data.version}: ${event.data.violations.map((violation) => `${violation.path || '(root)'} ${violation.code}`).join(', ')}`;
      return { kind: shape ? 'schema-drift' : 'malformed-output', seq, detail };
    }
    case 'retrieval-signal':
      return event.data.kind === 'retriever-down' ? { kind: 'retrieval-down', seq, detail: event.data.detail } : undefined;
    case 'step-end': {
      if (event.data.kind !== 'tool-call' || event.data.outcome.ok) return undefined;
      const code = event.data.outcome.error.code;
      const tool = toolSteps.get(event.data.step) ?? event.data.name;
      if (code === 'retriever-unavailable') return { kind: 'retrieval-down', seq, detail: `${tool}: ${event.data.outcome.error.message}` };
      return { kind: 'tool-down', seq, detail: `tool ${tool} failed (${code}): ${event.data.outcome.error.message}` };
    }
    case 'budget-decision':
      return event.data.outcome === 'refused' ? { kind: 'budget-exhausted', seq, detail: `${event.data.scope ?? 'a budget'} refused ${event.data.reservedMicros} micro-USD: ${event.data.reason ?? ''}` } : undefined;
    case 'policy-decision': {
      // A model proposing a tool call the policies refuse (Cedar permits nothing for it, or a flow
      // or control-flow rule denies it) is what a compromised, prompt-injected model looks like
      // from outside: the call is stopped, and someone should know it was proposed.
      if (event.data.tool === undefined || (event.data.effect !== 'deny' && event.data.effect !== 'not-applicable')) return undefined;
      return { kind: 'compromised-model', seq, detail: `${event.data.engine} refused ${event.data.tool} (${event.data.action} on ${event.data.resource}): ${event.data.reason}` };
    }
    default:
      return undefined;
  }
}

const describe: Record<AlertKind, string> = {
  'budget-threshold': 'a budget threshold was crossed',
  'latency-sla': 'a latency SLA was missed',
  'model-version-change': "the provider's model version changed",
  'model-change-regression': 'the new model version regressed against the recorded runs',
  'model-change-verdict': "the new model version's evaluation ended without a regression verdict",
  'quality-drop': 'the pass rate dropped',
  'provider-timeout': 'the model provider timed out',
  'rate-limit-storm': 'the model provider rate-limited the calls',
  'stream-cut': "the model's answer was cut short",
  'malformed-output': 'the model produced malformed output',
  'schema-drift': "the model's output changed shape (schema drift)",
  'retrieval-down': 'retrieval was down',
  'tool-down': 'a tool was down',
  'budget-exhausted': 'a budget was exhausted',
  'compromised-model': 'the model proposed a tool call the policies refuse (a compromised model?)',
  'store-unavailable': 'the run store refused a write or a read',
};

/**
 * The alerts one ended run's journal calls for: one per fault class it shows (timeouts, rate
 * limits, cut streams, malformed or drifted output, retrieval or a tool down, a budget exhausted,
 * a planted call refused), with the events that show it. A pure function of the journal, so a
 * drill, a worker and a test judge a run alike.
 */
export function faultAlerts(events: readonly JournalEvent[]): FaultAlert[] {
  const start = events.find((event) => event.type === 'run-start');
  const runId = events[0]?.runId ?? '';
  const task = start?.type === 'run-start' ? start.data.task : 'unknown';
  const toolSteps = new Map<number, string>();
  const found = new Map<AlertKind, Finding[]>();
  for (const event of events) {
    if (event.type === 'step-start' && event.data.kind === 'tool-call') toolSteps.set(event.data.step, event.data.name);
    const finding = classify(event, toolSteps);
    if (finding === undefined) continue;
    const list = found.get(finding.kind) ?? [];
    list.push(finding);
    found.set(finding.kind, list);
  }
  return [...found].map(([kind, findings]) => ({
    kind,
    scope: `task:${task}`,
    message: `run ${runId}: ${describe[kind]} (${findings.length} event${findings.length === 1 ? '' : 's'}; first: ${findings[0]?.detail ?? ''})`,
    value: findings.length,
    threshold: 1,
    about: runId,
    evidence: findings.map((finding) => finding.seq),
  }));
}

export { describe as alertDescriptions };
