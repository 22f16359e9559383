import { KeelError } from '../../errors/index.ts';
import type { ConfidenceMarker, RunState, StepKind, StepRecord } from '../../journal/index.ts';
import { canonicalJson, expandModelRequest, sha256 } from '../../journal/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, JsonValue, LanguageModelV1 } from '../../spec/index.ts';
import { errorFromData } from '../replay-errors.ts';
import type { RunContext } from '../task.ts';
import type { TextDifference } from './first-difference.ts';
import { firstDifference } from './first-difference.ts';
import { ReplayStop } from './replay-stop.ts';

export interface ModelInputCheck {
  step: number;
  name: string;
  recordedHash: string;
  rebuiltHash: string;
  difference?: TextDifference;
}

/** In candidate mode: answer model calls from another model instead of the journal. */
export interface CandidateModel {
  model: LanguageModelV1;
  calls: { step: number; name: string; result: GenerateResultV1 }[];
}

/**
 * A RunContext that runs a task against its journal without acting: every step returns what
 * was recorded, nothing is written, no tool runs. Model inputs the code builds now are checked
 * byte for byte against the ones recorded; with a candidate model, model calls go to it instead
 * and tool calls are answered from the journal when the same call was recorded.
 */
export class ReplayContext implements RunContext {
  readonly runId: string;
  readonly task: string;
  readonly principal: string;
  readonly tenant: string;
  readonly epoch: number;
  readonly checks: ModelInputCheck[] = [];
  readonly toolCalls: { name: string; args: JsonValue; answered: 'journal' }[] = [];
  readonly confidence: ConfidenceMarker[] = [];
  readonly #state: RunState;
  readonly #candidate: CandidateModel | undefined;
  #nextStep = 0;

  constructor(state: RunState, candidate?: CandidateModel) {
    this.#state = state;
    this.#candidate = candidate;
    this.runId = state.runId;
    this.task = state.task;
    this.principal = state.principal;
    this.tenant = state.tenant;
    this.epoch = state.epoch;
  }

  step<Result extends JsonValue>(name: string): Promise<Result> {
    return Promise.resolve(this.#recorded('step', name) as Result);
  }

  tool<Args extends JsonValue, Result extends JsonValue>(name: string, args: Args): Promise<Result> {
    if (this.#candidate === undefined) return Promise.resolve(this.#recorded('tool-call', name) as Result);
    // A candidate may call tools in another order or with other arguments; answer a call only when
    // the journal holds the very same one, so no side effect is ever run again.
    this.#nextStep += 1;
    const wanted = canonicalJson(args);
    for (const record of [...this.#state.steps.values()].sort((left, right) => left.step - right.step)) {
      if (record.kind !== 'tool-call' || record.name !== name || record.end === undefined || this.#used.has(record.step)) continue;
      if (canonicalJson(record.input ?? null) !== wanted) continue;
      this.#used.add(record.step);
      this.toolCalls.push({ name, args, answered: 'journal' });
      return Promise.resolve(unwrap(record) as Result);
    }
    throw new ReplayStop(`the candidate called ${name}(${wanted}), which the recorded run never did; it cannot be answered without running a side effect`, false);
  }

  async model(name: string, model: LanguageModelV1, options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const { abortSignal: _signal, ...request } = options;
    if (this.#candidate !== undefined) {
      this.#nextStep += 1;
      const result = await this.#candidate.model.doGenerate(request);
      this.#candidate.calls.push({ step: this.#nextStep, name, result });
      return result;
    }
    const recorded = this.#state.steps.get(this.#nextStep + 1);
    const recordedRequest = canonicalJson(expandModelRequest(this.#state, this.#nextStep + 1) ?? null);
    const rebuilt = canonicalJson(request);
    const value = this.#recorded('model-call', name);
    const check: ModelInputCheck = { step: recorded?.step ?? this.#nextStep, name, recordedHash: sha256(recordedRequest), rebuiltHash: sha256(rebuilt) };
    const difference = firstDifference(recordedRequest, rebuilt);
    if (difference !== undefined) check.difference = difference;
    this.checks.push(check);
    return value as unknown as GenerateResultV1;
  }

  /** A recorded embeddings call answers from the journal; a candidate model is asked again, as for `model`. */
  async embed(name: string, _model: LanguageModelV1, options: EmbedOptionsV1): Promise<EmbedResultV1> {
    const { abortSignal: _signal, ...request } = options;
    if (this.#candidate !== undefined) {
      this.#nextStep += 1;
      const candidate = this.#candidate.model;
      if (candidate.doEmbed === undefined) throw new ReplayStop(`the candidate model ${candidate.provider}:${candidate.modelId} makes no embeddings, which step ${name} asks for`, false);
      return candidate.doEmbed(request);
    }
    return this.#recorded('model-call', name) as unknown as EmbedResultV1;
  }

  checkpoint(): Promise<void> {
    return Promise.resolve();
  }

  rollback(reason: string): never {
    throw new ReplayStop(`the run rolled back (${reason}); replaying across rollbacks is not supported yet`, false);
  }

  markConfidence(marker: ConfidenceMarker): void {
    this.confidence.push(marker);
  }

  escalate(reason: string): never {
    throw new ReplayStop(`the run escalated: ${reason}`, true, 'escalated');
  }

  setPartialOutput(): void {
    // Nothing to keep: a replay produces a report, not a run.
  }

  record(): void {
    // A replay writes nothing.
  }

  approval(name: string): Promise<{ approved: true; decider: string; reason: string | null }> {
    try {
      return Promise.resolve(this.#recorded('approval', name) as unknown as { approved: true; decider: string; reason: string | null });
    } catch (error) {
      // An approval nobody has decided yet: the run waits here.
      if (error instanceof ReplayStop && error.natural) throw new ReplayStop(error.reason, true, 'waiting');
      throw error;
    }
  }

  readonly #used = new Set<number>();

  #recorded(kind: StepKind, name: string): JsonValue {
    this.#nextStep += 1;
    const record = this.#state.steps.get(this.#nextStep);
    if (record === undefined || record.end === undefined) throw new ReplayStop(`the journal ends before step ${this.#nextStep} (${kind} ${name})`, true);
    if (record.name !== name || record.kind !== kind) {
      throw new KeelError('replay-divergence', `step ${this.#nextStep}: the code now calls ${kind} '${name}' where the journal recorded ${record.kind} '${record.name}'`);
    }
    return unwrap(record);
  }

}

function unwrap(record: StepRecord): JsonValue {
  const outcome = record.end?.outcome;
  if (outcome === undefined) throw new ReplayStop(`step ${record.step} has no recorded result`, true);
  if (outcome.ok) return outcome.value;
  throw errorFromData(outcome.error);
}
