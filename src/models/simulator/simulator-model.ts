import { countPromptTokens } from '../../cost/index.ts';
import { KeelError } from '../../errors/index.ts';
import { canonicalJson } from '../../journal/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamResultV1 } from '../../spec/index.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { SimulatedCallIdentity } from './fault-error.ts';
import { faultError } from './fault-error.ts';
import { pendingInstruction } from './injected-instructions.ts';
import { parseFaultPlan } from './parse-fault-plan.ts';
import { seededRandom, seedFrom } from './seeded-random.ts';
import { refusalAnswer, simulatedAnswer } from './simulated-answer.ts';
import type { Fault, FaultPlan } from './simulator-faults.ts';
import { faultForCall, isFailureBeforeAnswer } from './simulator-faults.ts';
import type { CallTiming, SimulatorLatency } from './simulator-latency.ts';
import { callTiming, hang, wait } from './simulator-latency.ts';
import type { SimulatorProfile } from './simulator-profiles.ts';
import { simulatorProfiles } from './simulator-profiles.ts';
import type { SimulatedTurn, SimulatorScript } from './simulator-script.ts';
import { echoScript } from './simulator-script.ts';
import { streamAnswer } from './simulator-stream.ts';

export interface SimulatorOptions {
  /** A profile name from `simulatorProfiles` (the `NAME` in `sim:NAME`). Default `default`. */
  profile?: string;
  seed?: number;
  script?: SimulatorScript;
  /** Replaces the profile's latency: a benchmark or test that needs its own timings. */
  latency?: SimulatorLatency;
  /** Faults to inject, checked before the profile's own. Plain JSON; checked on construction. */
  faults?: FaultPlan;
  /** Obey instructions injected into tool results and documents. Default: the profile's setting. */
  compromised?: boolean;
  /** Told of every fault as it is injected, so the harness can journal it. */
  onFault?: (fault: Fault, callIndex: number) => void;
}

/** What a simulated embedding has when no number of dimensions is asked for: small, so tests and journals stay small. */
const simulatedDimensions = 64;

/** One call, decided up front from (seed, conversation, call index) before any time passes. */
interface PlannedCall {
  identity: SimulatedCallIdentity;
  timing: CallTiming;
  fault: Fault | undefined;
  /** Absent when the fault fails the call before there is an answer. */
  result: GenerateResultV1 | undefined;
}

/**
 * The simulated provider: a real LanguageModelV1 whose answers come from a script, seeded so
 * that the same conversation always gets the same answer, ids and usage, with latency, faults
 * and compromised behaviour layered on as a real provider would exhibit them.
 */
export class SimulatorModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider = 'sim';
  readonly modelId: string;
  readonly #profile: SimulatorProfile;
  readonly #latency: SimulatorLatency;
  readonly #seed: number;
  readonly #script: SimulatorScript;
  readonly #faults: FaultPlan;
  readonly #compromised: boolean;
  readonly #onFault: ((fault: Fault, callIndex: number) => void) | undefined;
  #calls = 0;

  constructor(options: SimulatorOptions = {}) {
    const name = options.profile ?? 'default';
    const profile = simulatorProfiles[name];
    if (profile === undefined) {
      throw new KeelError('config-invalid', `unknown simulator profile sim:${name} (known: ${Object.keys(simulatorProfiles).map((known) => `sim:${known}`).join(', ')})`);
    }
    this.#profile = profile;
    this.#latency = options.latency ?? profile.latency;
    this.modelId = name;
    this.#seed = options.seed ?? 0;
    this.#script = options.script ?? echoScript;
    // Plans often come from JSON, so they are checked here rather than trusted for their type.
    this.#faults = [...parseFaultPlan(options.faults ?? []), ...(profile.faults ?? [])];
    this.#compromised = options.compromised ?? profile.compromised ?? false;
    this.#onFault = options.onFault;
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const call = this.#plan(options);
    const { fault, identity, timing } = call;
    const signal = options.abortSignal;
    const result = await this.#answerOrFail(call, signal);
    const firstTokenMs = timing.firstTokenMs + (fault?.type === 'slow-first-token' ? fault.delayMs : 0);
    if (fault?.type === 'truncated-stream') {
      await wait(firstTokenMs, signal, identity);
      throw faultError(fault, identity);
    }
    await wait(firstTokenMs + timing.perOutputTokenMs * result.usage.outputTokens, signal, identity);
    return result;
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    const call = this.#plan(options);
    const { fault, identity, timing } = call;
    const result = await this.#answerOrFail(call, options.abortSignal);
    return {
      stream: streamAnswer({
        result,
        timing,
        extraFirstTokenMs: fault?.type === 'slow-first-token' ? fault.delayMs : 0,
        signal: options.abortSignal,
        call: identity,
        ...(fault?.type === 'truncated-stream' ? { truncateAfterParts: fault.afterParts, truncation: () => faultError(fault, identity) } : {}),
      }),
    };
  }

  /**
   * Embeddings: for each value a unit vector seeded by the model's seed and the value alone, so the
   * same text always gets the same vector (64 dimensions unless fewer or more are asked for), and
   * its tokens counted as a prompt's are. Latency is the profile's time to a first token. The fault
   * plan applies as to an answer, by the same call index: a `timeout` hangs until the caller gives
   * up, an error status (`server-error`, `rate-limit`, `overloaded`) fails at once, and
   * `slow-first-token` delays the vectors. Faults that shape a generated answer (malformed JSON,
   * schema drift, a truncated stream, a refusal, a tool loop) have nothing to act on here: they
   * are neither injected nor reported.
   */
  async doEmbed(options: EmbedOptionsV1): Promise<EmbedResultV1> {
    const dimensions = options.dimensions ?? simulatedDimensions;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4_096) {
      throw new ModelCallError('model-request-invalid', `sim:${this.modelId}: dimensions must be a whole number from 1 to 4096, got ${dimensions}`, { provider: 'sim', modelId: this.modelId, status: 400 });
    }
    this.#calls += 1;
    const index = this.#calls;
    const seed = seedFrom(`${this.#seed}:${options.values.join('\u0000')}`);
    const identity = { provider: 'sim', modelId: this.modelId, requestId: `req-sim-embed-${index}` };
    const planned = faultForCall(this.#faults, index, `${seed}:faults:${index}`);
    const fault = planned !== undefined && (isFailureBeforeAnswer(planned) || planned.type === 'slow-first-token') ? planned : undefined;
    if (fault !== undefined) this.#onFault?.(fault, index);
    if (fault?.type === 'timeout') return hang(options.abortSignal, fault.hangMs, identity);
    if (fault !== undefined && isFailureBeforeAnswer(fault)) throw faultError(fault, identity);
    const embeddings = options.values.map((value) => {
      const random = seededRandom(seedFrom(`${this.#seed}:${value}`));
      const vector = Array.from({ length: dimensions }, () => random() * 2 - 1);
      const norm = Math.hypot(...vector) || 1;
      return vector.map((component) => component / norm);
    });
    const inputTokens = options.values.reduce((sum, value) => sum + estimateTokens(value), 0);
    await wait(this.#latency.firstTokenMs + (fault?.type === 'slow-first-token' ? fault.delayMs : 0), options.abortSignal, identity);
    return { embeddings, usage: { inputTokens }, response: { id: `emb-sim-${seed.toString(16)}`, modelId: `sim-${this.modelId}` } };
  }

  /** The answer, or the failure the fault stands for: an error status at once, or a hang. */
  async #answerOrFail(call: PlannedCall, signal: AbortSignal | undefined): Promise<GenerateResultV1> {
    const { fault, identity } = call;
    if (fault?.type === 'timeout') return hang(signal, fault.hangMs, identity);
    if (fault !== undefined && isFailureBeforeAnswer(fault)) throw faultError(fault, identity);
    if (call.result === undefined) throw new KeelError('internal', `sim:${this.modelId} planned no answer for a call without a failure`);
    return call.result;
  }

  #plan(options: GenerateOptionsV1): PlannedCall {
    this.#calls += 1;
    const index = this.#calls;
    const { abortSignal: _signal, ...request } = options;
    const conversation = canonicalJson(request);
    const seed = seedFrom(`${this.#seed}:${conversation}`);
    const identity: SimulatedCallIdentity = { provider: this.provider, modelId: this.modelId, requestId: `req_sim_${seed.toString(16).padStart(8, '0')}_${index}` };
    const inputTokens = countPromptTokens('sim', this.modelId, request).tokens;
    if (inputTokens > this.#profile.contextWindow) {
      throw new ModelCallError('model-context-exceeded', `prompt of ~${inputTokens} tokens exceeds sim:${this.modelId}'s ${this.#profile.contextWindow}-token window`, {
        ...identity,
        status: 400,
        providerCode: 'context_length_exceeded',
      });
    }
    const timing = callTiming(this.#latency, seededRandom(seedFrom(`${seed}:latency:${index}`)));
    const fault = faultForCall(this.#faults, index, `${seed}:faults:${index}`);
    if (fault !== undefined && isFailureBeforeAnswer(fault)) {
      this.#onFault?.(fault, index);
      return { identity, timing, fault, result: undefined };
    }
    if (fault?.type === 'refusal') {
      this.#onFault?.(fault, index);
      return { identity, timing, fault, result: refusalAnswer(fault.message, seed, this.modelId, inputTokens) };
    }
    const { result, faulted } = simulatedAnswer({ request: options, turn: this.#turn(options, seed, index, fault), seed, modelId: this.modelId, inputTokens, fault });
    const reshapes = fault?.type === 'malformed-json' || fault?.type === 'schema-drift';
    if (fault !== undefined && (faulted || !reshapes)) this.#onFault?.(fault, index);
    return { identity, timing, fault: reshapes && !faulted ? undefined : fault, result };
  }

  /** What the model decides to do: a forced tool loop, an injected instruction, or the script. */
  #turn(options: GenerateOptionsV1, seed: number, index: number, fault: Fault | undefined): SimulatedTurn {
    if (fault?.type === 'tool-loop') return { type: 'tool-calls', calls: [{ toolName: fault.toolName, input: fault.input ?? {} }] };
    const injected = this.#compromised ? pendingInstruction(options) : undefined;
    if (injected !== undefined) return { type: 'tool-calls', calls: [{ toolName: injected.toolName, input: injected.input }] };
    return this.#script({ request: options, random: seededRandom(seed), call: index });
  }
}
