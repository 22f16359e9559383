import type { GenerateOptionsV1, GenerateResultV1, JsonValue, LanguageModelV1, StreamPartV1 } from '../spec/index.ts';
import type { ConfidenceMarker, EventData, RunDetailType } from '../journal/index.ts';

export interface StepInfo {
  /** `run:epoch:step`: stable across retries and resumes of this step, new after a rollback. */
  idempotencyKey: string;
  attempt: number;
  /** Aborted when the run's lease is lost or the engine shuts down. */
  signal: AbortSignal;
}

export interface StepOptions {
  /**
   * May this step run again if the process died after it started but before its result was
   * journaled? Default false: an unknown outcome then escalates the run to a human instead.
   */
  idempotent?: boolean;
  /** Recorded with the step start (for audit and replay); must be JSON. */
  input?: JsonValue;
}

export interface ToolOptions {
  /**
   * True when the tool deduplicates on `info.idempotencyKey` (or has no side effect), so a retry
   * after a crash is safe. Default false.
   */
  idempotent?: boolean;
}

/** What a task function sees: every durable operation goes through here. */
export interface RunContext {
  readonly runId: string;
  readonly task: string;
  readonly principal: string;
  readonly tenant: string;
  /** How many rollbacks this run has taken; a task can change course after one. */
  readonly epoch: number;
  /** Runs `work` once per run: on replay its journaled result is returned instead. */
  step<Result extends JsonValue>(name: string, work: (info: StepInfo) => Promise<Result> | Result, options?: StepOptions): Promise<Result>;
  /** A tool call: journaled as `tool-call`, handed an idempotency key derived from run, epoch and step. */
  tool<Args extends JsonValue, Result extends JsonValue>(
    name: string,
    args: Args,
    execute: (args: Args, info: StepInfo) => Promise<Result> | Result,
    options?: ToolOptions,
  ): Promise<Result>;
  /**
   * A model call: journaled as `model-call` with its usage; idempotent (no side effects). With
   * `streaming`, the answer is streamed to `onPart` as it arrives and journaled whole, the same as
   * a generated one; a replayed step returns the recorded answer without streaming it.
   */
  model(name: string, model: LanguageModelV1, options: GenerateOptionsV1, streaming?: ModelStreaming): Promise<GenerateResultV1>;
  /** Records a checkpoint; `verify` decides whether it is a verified position to roll back to. */
  checkpoint(label: string, state: JsonValue, verify?: (state: JsonValue) => true | string): Promise<void>;
  /** Returns the run to its last verified checkpoint and runs the task again from there. */
  rollback(reason: string): never;
  /** Marks part of the output as uncertain; the run then ends `degraded` with these markers. */
  markConfidence(marker: ConfidenceMarker): void;
  /**
   * Waits for a person to approve: the run is journaled as waiting, leaves the worker, and
   * continues (in any process, after any restart) once `keel approve` records a decision.
   * A denial throws `approval-denied`.
   */
  approval(name: string, request: { reason: string; details?: JsonValue }): Promise<{ approved: true; decider: string; reason: string | null }>;
  /** Hands the run to a person: it ends `escalated` and will not continue by itself. */
  escalate(reason: string): never;
  /**
   * What the run has so far, returned (marked degraded) if it must stop early — for instance when
   * a budget runs out under a `stop` contract. Must be JSON.
   */
  setPartialOutput(output: JsonValue): void;
  /** Journals a decision made between steps: an output validation, a context manifest, a retrieval signal. */
  record<Type extends RunDetailType>(type: Type, data: EventData[Type]): void;
}

export interface ModelStreaming {
  onPart(part: StreamPartV1): void;
}

export interface TaskDefinition<Input extends JsonValue = JsonValue, Output extends JsonValue = JsonValue> {
  name: string;
  version: string;
  /** Everything that shapes the run's behaviour (models, prompts, limits): hashed into run-start. */
  config?: JsonValue;
  /**
   * Limit on the run's working time: wall-clock from its start, minus time spent waiting for a
   * person's decision on an approval. Steps, model calls and tools see it through their abort
   * signal; when it passes the run ends `failed` with `deadline-exceeded`.
   */
  deadlineMs?: number;
  run(context: RunContext, input: Input): Promise<Output>;
}

export function defineTask<Input extends JsonValue, Output extends JsonValue>(definition: TaskDefinition<Input, Output>): TaskDefinition<Input, Output> {
  return definition;
}
