import { KeelError, toErrorData } from '../errors/index.ts';
import type { ConfidenceMarker, EventType, JournalEvent, JournalWriter, RunState, StepKind, StepOutcome } from '../journal/index.ts';
import { applyEvent, canonicalJson, encodeModelRequest, runInStep, sha256 } from '../journal/index.ts';
import type { EventData, RecordedModelInput, RunDetailType, StepDetailType } from '../journal/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, JsonValue, LanguageModelV1, RunSummaryPatchV1 } from '../spec/index.ts';
import type { RunSealer } from '../redaction/index.ts';
import { divergenceError, errorFromData } from './replay-errors.ts';
import { EscalationSignal, RollbackSignal, SuspendSignal } from './signals.ts';
import { collectStream, costOfFailedStream } from './collect-stream.ts';
import { storeOutageOf } from './store-outage.ts';
import type { ModelStreaming, RunContext, StepInfo, StepOptions, ToolOptions } from './task.ts';

interface StepCall {
  kind: StepKind;
  name: string;
  idempotent: boolean;
  input?: JsonValue;
  work: (info: StepInfo) => Promise<JsonValue> | JsonValue;
  /** Usage and cost the step's result reports, for the step's end event. */
  accounting?: (value: JsonValue) => Pick<EventData['step-end'], 'usage' | 'cost'>;
}

/**
 * The durable side of a task function. Steps are numbered in call order; a step the journal has
 * already completed returns its recorded outcome, anything else runs live and is journaled.
 */
export class DurableRunContext implements RunContext {
  readonly runId: string;
  readonly task: string;
  readonly principal: string;
  readonly tenant: string;
  readonly epoch: number;
  readonly confidence: ConfidenceMarker[] = [];
  partialOutput: JsonValue | undefined;

  readonly #state: RunState;
  readonly #writer: JournalWriter;
  readonly #signal: AbortSignal;
  #nextStep = 0;

  readonly #deadline: AbortSignal | undefined;
  /** What steps see: aborted by a lost lease, a shutdown, or the deadline. */
  readonly #stepSignal: AbortSignal;

  /** Seals the run's payload fields once it holds data about subjects (src/redaction); absent for a store without subject keys. */
  readonly #sealer: RunSealer | undefined;

  constructor(options: { state: RunState; writer: JournalWriter; signal: AbortSignal; deadline?: AbortSignal; sealer?: RunSealer }) {
    this.#sealer = options.sealer;
    this.#state = options.state;
    this.#writer = options.writer;
    this.#signal = options.signal;
    this.#deadline = options.deadline;
    this.#stepSignal = options.deadline === undefined ? options.signal : AbortSignal.any([options.signal, options.deadline]);
    this.runId = options.state.runId;
    this.task = options.state.task;
    this.principal = options.state.principal;
    this.tenant = options.state.tenant;
    this.epoch = options.state.epoch;
  }

  step<Result extends JsonValue>(name: string, work: (info: StepInfo) => Promise<Result> | Result, options: StepOptions = {}): Promise<Result> {
    const call: StepCall = { kind: 'step', name, idempotent: options.idempotent ?? false, work };
    if (options.input !== undefined) call.input = options.input;
    return this.#run(call) as Promise<Result>;
  }

  tool<Args extends JsonValue, Result extends JsonValue>(
    name: string,
    args: Args,
    execute: (args: Args, info: StepInfo) => Promise<Result> | Result,
    options: ToolOptions = {},
  ): Promise<Result> {
    return this.#run({ kind: 'tool-call', name, idempotent: options.idempotent ?? false, input: args, work: (info) => execute(args, info) }) as Promise<Result>;
  }

  async model(name: string, model: LanguageModelV1, options: GenerateOptionsV1, streaming?: ModelStreaming): Promise<GenerateResultV1> {
    const { abortSignal: _ignored, ...request } = options;
    const result = await this.#run({
      kind: 'model-call',
      name,
      idempotent: true,
      input: { provider: model.provider, modelId: model.modelId, ...this.#encodeRequest(request as unknown as { [key: string]: JsonValue }) },
      work: async (info) =>
        (streaming === undefined
          ? await model.doGenerate({ ...request, abortSignal: info.signal })
          : await collectStream(model, { ...request, abortSignal: info.signal }, (part) => streaming.onPart(part))) as unknown as JsonValue,
      accounting: (value) => accountingOf(value as unknown as GenerateResultV1 & { cost?: { micros: number; priceVersion: string } }),
    });
    return result as unknown as GenerateResultV1;
  }

  async embed(name: string, model: LanguageModelV1, options: EmbedOptionsV1): Promise<EmbedResultV1> {
    const { abortSignal: _ignored, ...request } = options;
    const result = await this.#run({
      kind: 'model-call',
      name,
      idempotent: true,
      input: { provider: model.provider, modelId: model.modelId, request: request as unknown as JsonValue },
      work: async (info) => {
        if (model.doEmbed === undefined) throw new KeelError('model-unsupported', `${model.provider}:${model.modelId} makes no embeddings`);
        return (await model.doEmbed({ ...request, abortSignal: info.signal })) as unknown as JsonValue;
      },
      accounting: (value) => {
        const embedded = value as unknown as EmbedResultV1;
        return { usage: { inputTokens: embedded.usage.inputTokens, outputTokens: 0 }, ...(embedded.cost === undefined ? {} : { cost: embedded.cost }) };
      },
    });
    return result as unknown as EmbedResultV1;
  }

  /** The run's previous model request in this process, to journal the next one as a continuation. */
  #previousModelRequest: { step: number; request: { [key: string]: JsonValue } } | undefined;

  #encodeRequest(request: { [key: string]: JsonValue }): Pick<RecordedModelInput, 'request' | 'base'> {
    // A sealed request is journaled whole: a reference into a sealed predecessor could not be
    // expanded by a reader without opening it, and would not outlive a redaction coherently.
    const encoded = encodeModelRequest(request, (this.#sealer?.subjects.length ?? 0) > 0 ? undefined : this.#previousModelRequest);
    // Agent loops push onto one messages array: keep this call's list as it is now.
    this.#previousModelRequest = { step: this.#nextStep + 1, request: { ...request, messages: Array.isArray(request.messages) ? [...request.messages] : (request.messages ?? null) } };
    return encoded;
  }

  async checkpoint(label: string, state: JsonValue, verify?: (state: JsonValue) => true | string): Promise<void> {
    const afterStep = this.#nextStep;
    // On replay the checkpoint is already in the journal; recording it twice would fork history.
    if (this.#state.checkpoints.some((checkpoint) => checkpoint.afterStep === afterStep && checkpoint.label === label)) return;
    const verdict = verify === undefined ? true : verify(state);
    const data = { label, afterStep, epoch: this.epoch, stateHash: sha256(canonicalJson(state)), state, verified: verdict === true };
    const event = this.#writer.build('checkpoint', verdict === true ? data : { ...data, problem: verdict });
    await this.#commit([event]);
  }

  rollback(reason: string): never {
    throw new RollbackSignal(reason);
  }

  markConfidence(marker: ConfidenceMarker): void {
    if (!(marker.confidence >= 0 && marker.confidence <= 1)) {
      throw new KeelError('usage-invalid', `confidence for ${marker.subject} must be between 0 and 1, got ${marker.confidence}`);
    }
    this.confidence.push(marker);
  }

  escalate(reason: string): never {
    throw new EscalationSignal(reason);
  }

  async approval(name: string, request: { reason: string; details?: JsonValue }): Promise<{ approved: true; decider: string; reason: string | null }> {
    if (this.#signal.aborted) throw new KeelError('lease-lost', `run ${this.runId} was taken away from this worker`);
    this.#nextStep += 1;
    const step = this.#nextStep;
    const recorded = this.#state.steps.get(step);
    if (recorded === undefined) {
      const start = this.#writer.build('step-start', { step, name, kind: 'approval', idempotent: false, attempt: 1, epoch: this.epoch, input: { reason: request.reason, details: request.details ?? null } });
      const ask = this.#writer.build('approval-request', { step, id: `${this.runId}:${step}`, reason: request.reason, details: request.details ?? null });
      await this.#commit([start, ask]);
      throw new SuspendSignal(request.reason);
    }
    if (recorded.name !== name || recorded.kind !== 'approval') {
      throw divergenceError({ runId: this.runId, task: this.task, taskVersion: this.#state.taskVersion, step, name, kind: 'approval', recorded });
    }
    if (recorded.end !== undefined) return unwrap(recorded.end.outcome) as unknown as { approved: true; decider: string; reason: string | null };
    const decision = this.#state.decisions.get(step);
    if (decision === undefined) throw new SuspendSignal(request.reason);
    const outcome: StepOutcome =
      decision.decision === 'approve'
        ? { ok: true, value: { approved: true, decider: decision.decider, reason: decision.reason ?? null } }
        : { ok: false, error: { code: 'approval-denied', message: `${name} denied by ${decision.decider}${decision.reason === undefined ? '' : `: ${decision.reason}`}`, retryable: false } };
    await this.#commit([this.#writer.build('step-end', { step, name, kind: 'approval', epoch: this.epoch, durationMs: 0, outcome })]);
    return unwrap(outcome) as unknown as { approved: true; decider: string; reason: string | null };
  }

  /**
   * The run now holds data about these subjects (a tool result labelled personal or confidential
   * naming them): every payload field journaled from now on is sealed under their keys. False when
   * the store keeps no subject keys, so nothing can be sealed.
   */
  async sealSubjects(subjects: readonly string[]): Promise<boolean> {
    if (this.#sealer === undefined) return false;
    await this.#sealer.include(subjects);
    return true;
  }

  /** The subjects the run's payloads are sealed under now (what memory it writes is sealed under too). */
  sealingSubjects(): readonly string[] {
    return this.#sealer?.subjects ?? [];
  }

  setPartialOutput(output: JsonValue): void {
    this.partialOutput = output;
  }

  record<Type extends RunDetailType>(type: Type, data: EventData[Type]): void {
    // On replay the decision is already in the journal; the code re-deciding it writes nothing.
    this.#pipeline(type, data);
  }

  async #run(call: StepCall): Promise<JsonValue> {
    if (this.#signal.aborted) throw new KeelError('lease-lost', `run ${this.runId} was taken away from this worker`);
    if (this.#pastDeadline()) throw new KeelError('deadline-exceeded', `run ${this.runId} passed its deadline before step '${call.name}'`);
    this.#nextStep += 1;
    const step = this.#nextStep;
    const recorded = this.#state.steps.get(step);
    let attempt = 1;
    if (recorded !== undefined) {
      if (recorded.name !== call.name || recorded.kind !== call.kind) {
        throw divergenceError({ runId: this.runId, task: this.task, taskVersion: this.#state.taskVersion, step, name: call.name, kind: call.kind, recorded });
      }
      if (recorded.end !== undefined) return unwrap(recorded.end.outcome);
      if (!recorded.idempotent) {
        throw new EscalationSignal(
          `step ${step} '${call.name}' (${call.kind}) started but its outcome was never recorded, and it is not idempotent: ` +
            `Keel will not run it again. Check the downstream system for idempotency key ${recorded.idempotencyKey ?? `${this.runId}:${recorded.epoch}:${step}`} and decide.`,
          'step-outcome-unknown',
        );
      }
      attempt = recorded.attempt + 1;
    }
    const idempotencyKey = `${this.runId}:${this.epoch}:${step}`;
    const startData = { step, name: call.name, kind: call.kind, idempotent: call.idempotent, attempt, epoch: this.epoch, idempotencyKey, ...(call.input === undefined ? {} : { input: call.input }) };
    const startedAt = new Date();
    // A step that is safe to redo need not be durable before it runs; any other step's start must
    // be on disk before its effect can happen.
    if (call.idempotent) this.#pipeline('step-start', startData, startedAt);
    else await this.#commit([this.#writer.build('step-start', startData, startedAt)]);
    const scope = {
      runId: this.runId,
      task: this.task,
      tenant: this.tenant,
      principal: this.principal,
      step,
      signal: this.#stepSignal,
      record: <Type extends StepDetailType>(type: Type, data: Omit<EventData[Type], 'step'>) => {
        this.#pipeline(type, { ...data, step } as EventData[Type]);
      },
    };
    let outcome: StepOutcome;
    let failedCost: { micros: number; priceVersion: string } | undefined;
    try {
      outcome = { ok: true, value: await runInStep(scope, () => call.work({ idempotencyKey, attempt, signal: this.#stepSignal })) };
    } catch (error) {
      if (error instanceof EscalationSignal || error instanceof RollbackSignal || error instanceof SuspendSignal) throw error;
      if (this.#signal.aborted) throw new KeelError('lease-lost', `run ${this.runId} was taken away from this worker`);
      // A step safe to redo that the store's outage cut short (its budget reservation refused by a
      // database that went away) did not fail: no end is journaled, so the resumed run redoes it
      // instead of replaying the outage as its outcome.
      if (call.idempotent && storeOutageOf(error) !== undefined) throw error;
      // A step cut short by the deadline failed because of it, whatever it threw on the way out.
      const failure = this.#pastDeadline() ? new KeelError('deadline-exceeded', `step '${call.name}' was cut short by the run's deadline`) : error;
      outcome = { ok: false, error: toErrorData(failure) };
      failedCost = costOfFailedStream(error);
    }
    const endData: EventData['step-end'] = { step, name: call.name, kind: call.kind, epoch: this.epoch, durationMs: Date.now() - startedAt.getTime(), outcome };
    if (outcome.ok && call.accounting !== undefined) Object.assign(endData, call.accounting(outcome.value));
    if (failedCost !== undefined) endData.cost = failedCost;
    // Losing an idempotent step's events to a crash only means running it again; they are durable
    // before anything that depends on them: the next non-idempotent step, checkpoint or run end.
    if (call.idempotent) this.#pipeline('step-end', endData);
    else await this.#commit([this.#writer.build('step-end', endData)]);
    return unwrap(outcome);
  }

  #pastDeadline(): boolean {
    return this.#deadline?.aborted ?? false;
  }

  /**
   * Journals an event a crash may lose (see JournalWriter.pipelineData). The run state takes it in
   * when the writer seals it: before any later event is built, so in journal order, and before
   * anything that reads the state's steps, usage or cost (the next commit, the run's end).
   */
  #pipeline<Type extends EventType>(type: Type, data: EventData[Type], time?: Date): void {
    this.#writer.pipelineData(type, data, this.#sealed, time);
  }

  readonly #sealed = (event: JournalEvent): RunSummaryPatchV1 => {
    applyEvent(this.#state, event);
    return summaryOf(this.#state);
  };

  async #commit(events: JournalEvent[]): Promise<void> {
    for (const event of events) applyEvent(this.#state, this.#writer.readable(event));
    await this.#writer.commit(events, summaryOf(this.#state));
  }
}

export function summaryOf(state: RunState): RunSummaryPatchV1 {
  return {
    status: state.status,
    reason: state.end?.reason ?? null,
    stepCount: state.stepsCompleted,
    inputTokens: state.usage.inputTokens,
    outputTokens: state.usage.outputTokens,
    costMicros: state.costMicros,
  };
}

/** A governed model's result carries its cost; a bare adapter's carries usage only. */
function accountingOf(result: GenerateResultV1 & { cost?: { micros: number; priceVersion: string } }): Pick<EventData['step-end'], 'usage' | 'cost'> {
  const accounting: Pick<EventData['step-end'], 'usage' | 'cost'> = { usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens } };
  if (result.cost !== undefined) accounting.cost = result.cost;
  return accounting;
}

function unwrap(outcome: StepOutcome): JsonValue {
  if (outcome.ok) return outcome.value;
  throw errorFromData(outcome.error);
}
