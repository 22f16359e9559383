import { KeelError } from '../../errors/index.ts';
import { canonicalJson } from '../../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamPartV1, StreamResultV1, TextPartV1, ToolCallPartV1 } from '../../spec/index.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { seededRandom, seedFrom } from './seeded-random.ts';
import type { SimulatorProfile } from './simulator-profiles.ts';
import { simulatorProfiles } from './simulator-profiles.ts';
import type { SimulatorScript } from './simulator-script.ts';
import { echoScript } from './simulator-script.ts';

export interface SimulatorOptions {
  /** A profile name from `simulatorProfiles` (the `NAME` in `sim:NAME`). Default `default`. */
  profile?: string;
  seed?: number;
  script?: SimulatorScript;
}

/**
 * The simulated provider: a real LanguageModelV1 whose answers come from a script, seeded so
 * that the same conversation always gets the same answer, ids and usage.
 */
export class SimulatorModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider = 'sim';
  readonly modelId: string;
  readonly #profile: SimulatorProfile;
  readonly #seed: number;
  readonly #script: SimulatorScript;
  #calls = 0;

  constructor(options: SimulatorOptions = {}) {
    const name = options.profile ?? 'default';
    const profile = simulatorProfiles[name];
    if (profile === undefined) {
      throw new KeelError('config-invalid', `unknown simulator profile sim:${name} (known: ${Object.keys(simulatorProfiles).map((known) => `sim:${known}`).join(', ')})`);
    }
    this.#profile = profile;
    this.modelId = name;
    this.#seed = options.seed ?? 0;
    this.#script = options.script ?? echoScript;
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    this.#calls += 1;
    const { abortSignal, ...request } = options;
    const conversation = canonicalJson(request);
    const seed = seedFrom(`${this.#seed}:${conversation}`);
    const inputTokens = estimateTokens(conversation);
    if (inputTokens > this.#profile.contextWindow) {
      throw new KeelError('model-error', `prompt of ~${inputTokens} tokens exceeds sim:${this.modelId}'s ${this.#profile.contextWindow}-token window`, { retryable: false });
    }
    if (this.#profile.latencyMs > 0) await sleep(this.#profile.latencyMs, abortSignal);
    const turn = this.#script({ request: options, random: seededRandom(seed), call: this.#calls });
    const content: (TextPartV1 | ToolCallPartV1)[] = [];
    if (turn.text !== undefined && turn.text !== '') content.push({ type: 'text', text: turn.text });
    if (turn.type === 'tool-calls') {
      turn.calls.forEach((call, index) => {
        content.push({ type: 'tool-call', toolCallId: `call_${seed.toString(16)}_${index}`, toolName: call.toolName, input: call.input });
      });
    }
    return {
      content,
      finishReason: turn.type === 'tool-calls' ? 'tool-calls' : 'stop',
      usage: { inputTokens, outputTokens: estimateTokens(canonicalJson(content)) },
      response: { id: `sim-${seed.toString(16).padStart(8, '0')}`, modelId: this.modelId },
    };
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    return { stream: streamOf(await this.doGenerate(options)) };
  }
}

/** Streams a generated answer the way a provider would: text in small deltas, then whole tool calls. */
async function* streamOf(result: GenerateResultV1): AsyncGenerator<StreamPartV1> {
  yield { type: 'response-start', response: result.response };
  for (const part of result.content) {
    if (part.type === 'text') {
      for (let offset = 0; offset < part.text.length; offset += 16) yield { type: 'text-delta', delta: part.text.slice(offset, offset + 16) };
    } else {
      yield { type: 'tool-call-delta', toolCallId: part.toolCallId, toolName: part.toolName, inputDelta: JSON.stringify(part.input) };
      yield part;
    }
  }
  yield { type: 'finish', finishReason: result.finishReason, usage: result.usage };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new KeelError('model-error', 'call aborted'));
    });
  });
}
