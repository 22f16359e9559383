/**
 * Run context specification, version 1: what task code sees of a durable run. Types only; the
 * engine implements it (and its replay checks the same calls against a recorded journal). Every
 * effect goes through a step here, so a resumed run returns recorded results instead of repeating
 * them, and every decision is journaled.
 */
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamPartV1 } from './model-v1.ts';
import type { JsonValue } from './store-v1.ts';

export interface StepInfoV1 {
  /** `run:epoch:step`: stable across retries and resumes of this step, new after a rollback. */
  idempotencyKey: string;
  attempt: number;
  /** Aborted when the run's lease is lost or the engine shuts down. */
  signal: AbortSignal;
}

export interface StepOptionsV1 {
  /**
   * May this step run again if the process died after it started but before its result was
   * journaled? Default false: an unknown outcome then escalates the run to a human instead.
   */
  idempotent?: boolean;
  /** Recorded with the step start (for audit and replay); must be JSON. */
  input?: JsonValue;
}

export interface ToolOptionsV1 {
  /**
   * True when the tool deduplicates on `info.idempotencyKey` (or has no side effect), so a retry
   * after a crash is safe. Default false.
   */
  idempotent?: boolean;
}

export interface ModelStreamingV1 {
  /**
   * Told of each part as it arrives. A promise returned holds the stream: the next part is not read
   * from the provider until it settles (a slow reader pauses the upstream instead of queueing it).
   */
  onPart(part: StreamPartV1): void | Promise<void>;
}

/** How sure the run is of one part of its output; any marker makes the run end `degraded`. */
export interface ConfidenceMarkerV1 {
  /** What the marker is about, e.g. `refund.amount` or `policy-lookup`. */
  subject: string;
  /** 0 (no confidence) … 1 (certain). */
  confidence: number;
  reason: string;
}

/**
 * What a task function sees: every durable operation goes through here. `Details` maps the kinds
 * of decision a task may journal between steps to their data; the engine's RunContext fills it
 * with the journal's run-detail events.
 */
export interface RunContextV1<Details = { [type: string]: JsonValue }> {
  readonly runId: string;
  readonly task: string;
  readonly principal: string;
  readonly tenant: string;
  /** How many rollbacks this run has taken; a task can change course after one. */
  readonly epoch: number;
  /** Runs `work` once per run: on replay its journaled result is returned instead. */
  step<Result extends JsonValue>(name: string, work: (info: StepInfoV1) => Promise<Result> | Result, options?: StepOptionsV1): Promise<Result>;
  /** A tool call: journaled as `tool-call`, handed an idempotency key derived from run, epoch and step. */
  tool<Args extends JsonValue, Result extends JsonValue>(
    name: string,
    args: Args,
    execute: (args: Args, info: StepInfoV1) => Promise<Result> | Result,
    options?: ToolOptionsV1,
  ): Promise<Result>;
  /**
   * A model call: journaled as `model-call` with its usage; idempotent (no side effects). With
   * `streaming`, the answer is streamed to `onPart` as it arrives and journaled whole, the same as
   * a generated one; a replayed step returns the recorded answer without streaming it.
   */
  model(name: string, model: LanguageModelV1, options: GenerateOptionsV1, streaming?: ModelStreamingV1): Promise<GenerateResultV1>;
  /**
   * An embeddings call: journaled as `model-call` as `model` is, its values as the request and its
   * vectors with the answer (a replayed step returns them); fails `model-unsupported` for a model
   * without `doEmbed`. Optional, as it came after version 1 was published; Keel's engine has it.
   */
  embed?(name: string, model: LanguageModelV1, options: EmbedOptionsV1): Promise<EmbedResultV1>;
  /** Records a checkpoint; `verify` decides whether it is a verified position to roll back to. */
  checkpoint(label: string, state: JsonValue, verify?: (state: JsonValue) => true | string): Promise<void>;
  /** Returns the run to its last verified checkpoint and runs the task again from there. */
  rollback(reason: string): never;
  /** Marks part of the output as uncertain; the run then ends `degraded` with these markers. */
  markConfidence(marker: ConfidenceMarkerV1): void;
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
  record<Type extends keyof Details & string>(type: Type, data: Details[Type]): void;
}
