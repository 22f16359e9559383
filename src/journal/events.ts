/**
 * The journal's event vocabulary, schema version 1: one discriminated union. Names are noun-verb.
 * Adding a field is backwards compatible; changing the meaning of one needs a new schema version
 * and a reader for the old one, because journals are replayed months after they were written.
 */
import type { ErrorData } from '../errors/index.ts';
import type { JsonValue, RunStatusV1 } from '../spec/index.ts';

export const journalSchemaVersion = 1;

export type TerminalStatus = 'ok' | 'degraded' | 'escalated' | 'failed';

export type StepKind = 'step' | 'model-call' | 'tool-call';

/** How sure the run is of one part of its output; any marker makes the run end `degraded`. */
export interface ConfidenceMarker {
  /** What the marker is about, e.g. `refund.amount` or `policy-lookup`. */
  subject: string;
  /** 0 (no confidence) … 1 (certain). */
  confidence: number;
  reason: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type StepOutcome = { ok: true; value: JsonValue } | { ok: false; error: ErrorData };

export interface EventData {
  'run-start': {
    task: string;
    taskVersion: string;
    input: JsonValue;
    principal: string;
    tenant: string;
    /** sha256 of the canonical task configuration this run executes under. */
    configHash: string;
    config: JsonValue;
  };
  /** A worker began (or took over) executing the run. */
  'run-resume': {
    worker: string;
    /** 1 for the first execution; higher after a crash, a takeover or a restart. */
    attempt: number;
    /** What the journal showed when this worker picked the run up. */
    found: 'new' | 'interrupted';
  };
  'step-start': {
    step: number;
    name: string;
    kind: StepKind;
    idempotent: boolean;
    attempt: number;
    epoch: number;
    input?: JsonValue;
    /** For side-effecting tools: the key the downstream system deduplicates on. */
    idempotencyKey?: string;
  };
  'step-end': {
    step: number;
    name: string;
    kind: StepKind;
    epoch: number;
    durationMs: number;
    outcome: StepOutcome;
    usage?: Usage;
  };
  checkpoint: {
    label: string;
    /** The last step index covered by this checkpoint. */
    afterStep: number;
    epoch: number;
    stateHash: string;
    state: JsonValue;
    verified: boolean;
    /** Why verification failed, when it did. */
    problem?: string;
  };
  /** The run returned to a verified checkpoint; steps after it are void and run again. */
  rollback: {
    checkpointSeq: number;
    label: string;
    afterStep: number;
    /** The epoch that starts here (incremented on each rollback). */
    epoch: number;
    reason: string;
  };
  'run-end': {
    status: TerminalStatus;
    reason?: string;
    output?: JsonValue;
    error?: ErrorData;
    confidence?: ConfidenceMarker[];
  };
}

export type EventType = keyof EventData;

export const eventTypes: readonly EventType[] = ['run-start', 'run-resume', 'step-start', 'step-end', 'checkpoint', 'rollback', 'run-end'];

interface EventEnvelope {
  runId: string;
  seq: number;
  time: string;
  schemaVersion: number;
  prevHash: string;
  hash: string;
}

export type JournalEvent = { [Type in EventType]: EventEnvelope & { type: Type; data: EventData[Type] } }[EventType];

export type EventOf<Type extends EventType> = Extract<JournalEvent, { type: Type }>;

export function isTerminal(status: RunStatusV1): status is TerminalStatus {
  return status === 'ok' || status === 'degraded' || status === 'escalated' || status === 'failed';
}
