/**
 * An AI SDK model as a Keel LanguageModelV1, so Keel's governed route (routing, budget, retries,
 * breaker, attempt timeout) and the engine's durable model step apply to it unchanged. The call
 * that reaches the AI SDK model is the framework's own (its provider options included), with what
 * governance decides laid over it: the output bound the budget reserved for, and the attempt's
 * abort signal. Its answer comes back in Keel's terms, classified failures included.
 */
import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamResultV1 } from '../spec/index.ts';
import { modelCallErrorOf } from './ai-sdk-error.ts';
import { keelResultOf } from './generate-result.ts';
import { keelPartsOf } from './stream-parts.ts';

/** How Keel names an AI SDK model for prices and routes: `openai.chat` → `openai`, `anthropic.messages` → `anthropic`. */
export function keelNameOf(model: LanguageModelV4): { provider: string; modelId: string } {
  const dot = model.provider.indexOf('.');
  return { provider: dot === -1 ? model.provider : model.provider.slice(0, dot), modelId: model.modelId };
}

export class AiSdkKeelModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly #model: LanguageModelV4;
  readonly #call: LanguageModelV4CallOptions;

  /** `call` is the framework's call this model answers; Keel's request decides only the bound and the signal. */
  constructor(model: LanguageModelV4, name: { provider: string; modelId: string }, call: LanguageModelV4CallOptions) {
    this.#model = model;
    this.#call = call;
    this.provider = name.provider;
    this.modelId = name.modelId;
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    try {
      return keelResultOf(await this.#model.doGenerate(this.#callFor(options)), this.modelId);
    } catch (error) {
      throw modelCallErrorOf(error, this, options.abortSignal);
    }
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    let opened;
    try {
      opened = await this.#model.doStream(this.#callFor(options));
    } catch (error) {
      throw modelCallErrorOf(error, this, options.abortSignal);
    }
    return { stream: keelPartsOf(opened.stream, this, options.abortSignal) };
  }

  #callFor(options: GenerateOptionsV1): LanguageModelV4CallOptions {
    const call: LanguageModelV4CallOptions = { ...this.#call };
    if (options.maxOutputTokens !== undefined) call.maxOutputTokens = options.maxOutputTokens;
    // Governance's signal (the attempt timeout, the run's deadline) and the framework's caller's both stop the call.
    const signals = [options.abortSignal, this.#call.abortSignal].filter((signal) => signal !== undefined);
    if (signals.length > 0) call.abortSignal = AbortSignal.any(signals);
    return call;
  }
}
