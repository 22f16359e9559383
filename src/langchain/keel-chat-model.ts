/**
 * A Keel model (the simulator, the OpenAI and Anthropic adapters, a governed route) as a LangChain
 * chat model, so `createAgent({ model: keelChatModel('sim:default') })` runs on it. Only
 * translation happens here; governance and the journal come from `keelMiddleware` (or from handing
 * in a governed model). It streams when LangChain streams (`agent.stream(…, { streamMode:
 * 'messages' })`): text as it arrives, each tool call whole.
 */
import type { BaseChatModelCallOptions, BaseChatModelParams, BindToolsInput } from '@langchain/core/language_models/chat_models';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseMessage, AIMessageChunk } from '@langchain/core/messages';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { ChatGenerationChunk } from '@langchain/core/outputs';
import type { ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { resolveModel } from '../models/index.ts';
import type { ResolveModelOptions } from '../models/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import type { LangChainToolChoice } from './message-translation.ts';
import { aiMessageOf, ChunkWriter, keelRequestOf } from './message-translation.ts';

export interface KeelChatModelCallOptions extends BaseChatModelCallOptions {
  /** Tools bound with `bindTools` (what `createAgent` binds), in any form LangChain accepts. */
  tools?: BindToolsInput[];
  /** An output bound for this call; `keelMiddleware` sets the one the budget reserved for. */
  maxOutputTokens?: number;
}

export class KeelChatModel extends BaseChatModel<KeelChatModelCallOptions> {
  /** The Keel model this chat model calls. */
  readonly keelModel: LanguageModelV1;

  constructor(model: LanguageModelV1, fields: BaseChatModelParams = {}) {
    super(fields);
    this.keelModel = model;
  }

  static override lc_name(): string {
    return 'KeelChatModel';
  }

  _llmType(): string {
    return 'keel';
  }

  /** The `provider:model` name Keel prices and routes this model by. */
  get keelName(): string {
    return `${this.keelModel.provider}:${this.keelModel.modelId}`;
  }

  override bindTools(tools: BindToolsInput[], kwargs: Partial<KeelChatModelCallOptions> = {}): Runnable<BaseLanguageModelInput, AIMessageChunk, KeelChatModelCallOptions> {
    return this.withConfig({ ...kwargs, tools });
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const result = await this.keelModel.doGenerate(this.#requestOf(messages, options));
    const message = aiMessageOf(result);
    return { generations: [{ text: message.text, message }] };
  }

  override async *_streamResponseChunks(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk> {
    const opened = await this.keelModel.doStream(this.#requestOf(messages, options));
    const writer = new ChunkWriter();
    for await (const part of opened.stream) {
      const message = writer.write(part);
      if (message === undefined) continue;
      const chunk = new ChatGenerationChunk({ text: message.text, message });
      yield chunk;
      if (message.text !== '') await runManager?.handleLLMNewToken(message.text, undefined, undefined, undefined, undefined, { chunk });
    }
  }

  #requestOf(messages: BaseMessage[], options: this['ParsedCallOptions']) {
    return keelRequestOf({
      messages,
      ...(options.tools === undefined ? {} : { tools: options.tools }),
      ...(options.tool_choice === undefined ? {} : { toolChoice: options.tool_choice as LangChainToolChoice }),
      ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }
}

/**
 * One Keel model as a LangChain chat model: `keelChatModel('sim:default', { simulator: { script } })`.
 * Any name Keel resolves (`sim:`, `openai:`, `openai-responses:`, `anthropic:`); keys and
 * endpoints are read from `environment` (default process.env). A bad name fails here.
 */
export function keelChatModel(name: string, options: ResolveModelOptions = {}): KeelChatModel {
  return new KeelChatModel(resolveModel(name, options));
}

/** A Keel model you built (a simulator with faults, a governed route) as a LangChain chat model. */
export function langChainModelOf(model: LanguageModelV1): KeelChatModel {
  return new KeelChatModel(model);
}
