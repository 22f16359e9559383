import type { JsonValue, RunStatusV1 } from '../spec/index.ts';
import type { ConfidenceMarker, EventData, JournalEvent, StepKind, Usage } from './events.ts';

export interface StepRecord {
  step: number;
  name: string;
  kind: StepKind;
  idempotent: boolean;
  attempt: number;
  epoch: number;
  idempotencyKey?: string;
  /** What the step was called with (tool arguments, the model request), as journaled. */
  input?: JsonValue;
  end?: EventData['step-end'];
}

export interface CheckpointRecord {
  seq: number;
  label: string;
  afterStep: number;
  epoch: number;
  stateHash: string;
  state: JsonValue;
  verified: boolean;
}

/** A run as its journal tells it. Everything here is derived; nothing is stored beside the journal. */
export interface RunState {
  runId: string;
  task: string;
  taskVersion: string;
  principal: string;
  tenant: string;
  input: JsonValue;
  config: JsonValue;
  configHash: string;
  status: RunStatusV1;
  /** Incremented by each rollback; step records of earlier epochs after the checkpoint are void. */
  epoch: number;
  /** Effective steps by index: what a replay returns. */
  steps: Map<number, StepRecord>;
  /** Effective checkpoints, oldest first. */
  checkpoints: CheckpointRecord[];
  /** How many times a worker picked the run up. */
  attempts: number;
  /** Every step ever completed, rolled back or not. */
  stepsCompleted: number;
  /** Tokens actually spent, including on steps later rolled back. */
  usage: Usage;
  /** Money actually spent, in micro-USD, including on steps later rolled back. */
  costMicros: number;
  end?: EventData['run-end'];
  confidence: ConfidenceMarker[];
  /** The approval the run is waiting for, if any. */
  pendingApproval?: EventData['approval-request'];
  /** Human decisions on approval steps, by step index. */
  decisions: Map<number, EventData['human-decision']>;
  lastSeq: number;
  lastHash: string;
  startedAt: string;
  updatedAt: string;
}

export function foldEvents(events: readonly JournalEvent[]): RunState {
  const first = events[0];
  if (first?.type !== 'run-start') throw new TypeError('a journal must begin with run-start');
  const state: RunState = {
    runId: first.runId,
    task: first.data.task,
    taskVersion: first.data.taskVersion,
    principal: first.data.principal,
    tenant: first.data.tenant,
    input: first.data.input,
    config: first.data.config,
    configHash: first.data.configHash,
    status: 'queued',
    epoch: 0,
    steps: new Map(),
    checkpoints: [],
    attempts: 0,
    stepsCompleted: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    costMicros: 0,
    confidence: [],
    decisions: new Map(),
    lastSeq: first.seq,
    lastHash: first.hash,
    startedAt: first.time,
    updatedAt: first.time,
  };
  for (const event of events.slice(1)) applyEvent(state, event);
  return state;
}

export function applyEvent(state: RunState, event: JournalEvent): void {
  state.lastSeq = event.seq;
  state.lastHash = event.hash;
  state.updatedAt = event.time;
  switch (event.type) {
    case 'run-start':
      break;
    case 'run-resume':
      state.attempts = event.data.attempt;
      state.status = 'running';
      break;
    case 'step-start': {
      const { step, name, kind, idempotent, attempt, epoch, idempotencyKey, input } = event.data;
      const record: StepRecord = { step, name, kind, idempotent, attempt, epoch };
      if (idempotencyKey !== undefined) record.idempotencyKey = idempotencyKey;
      if (input !== undefined) record.input = input;
      state.steps.set(step, record);
      break;
    }
    case 'step-end': {
      const record = state.steps.get(event.data.step);
      if (record !== undefined) record.end = event.data;
      state.stepsCompleted += 1;
      if (event.data.usage !== undefined) {
        state.usage.inputTokens += event.data.usage.inputTokens;
        state.usage.outputTokens += event.data.usage.outputTokens;
      }
      if (event.data.cost !== undefined) state.costMicros += event.data.cost.micros;
      break;
    }
    case 'checkpoint': {
      const { label, afterStep, epoch, stateHash, state: checkpointState, verified } = event.data;
      state.checkpoints.push({ seq: event.seq, label, afterStep, epoch, stateHash, state: checkpointState, verified });
      break;
    }
    case 'rollback':
      state.epoch = event.data.epoch;
      for (const step of [...state.steps.keys()]) if (step > event.data.afterStep) state.steps.delete(step);
      state.checkpoints = state.checkpoints.filter((checkpoint) => checkpoint.seq <= event.data.checkpointSeq);
      break;
    case 'reservation-bill':
      // A call of an execution that died, billed by whoever took the run over: spent all the same.
      state.costMicros += event.data.cost.micros;
      break;
    case 'approval-request':
      state.status = 'waiting';
      state.pendingApproval = event.data;
      break;
    case 'human-decision':
      if (event.data.step !== undefined && event.data.decision !== 'stop') {
        state.decisions.set(event.data.step, event.data);
        delete state.pendingApproval;
        // Decided: any worker may pick the run up again.
        state.status = 'queued';
      }
      break;
    case 'route-decision':
    case 'budget-decision':
    case 'model-attempt-end':
    case 'retry-wait':
    case 'breaker-transition':
    case 'model-fallback':
    case 'alert-raise':
    case 'fault-injection':
    case 'output-validation':
    case 'context-assembly':
    case 'retrieval-signal':
    case 'policy-decision':
    case 'request-receive':
    case 'failure-decision':
    case 'loop-guard':
    case 'span-end':
    case 'score-record':
      // Detail of a step in progress: the step's end carries what replay needs.
      break;
    case 'run-end':
      state.status = event.data.status;
      state.end = event.data;
      state.confidence = event.data.confidence ?? [];
      break;
  }
}

export function lastVerifiedCheckpoint(state: RunState): CheckpointRecord | undefined {
  return state.checkpoints.findLast((checkpoint) => checkpoint.verified);
}
