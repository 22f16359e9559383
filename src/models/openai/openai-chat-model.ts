import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamResultV1 } from '../../spec/index.ts';
import type { OpenAICall } from './openai-call.ts';
import { chatRequestBody } from './openai-chat-request.ts';
import { chatResult } from './openai-chat-result.ts';
import { chatStreamParts } from './openai-chat-stream.ts';
import type { OpenAIModelSettings } from './openai-client.ts';
import { createOpenAIClient, providerFor, requestOptionsFor } from './openai-client.ts';
import { openAIEmbeddings } from './openai-embeddings.ts';
import { toModelCallError } from './openai-errors.ts';

/**
 * OpenAI's Chat Completions API (`POST /chat/completions`) as a LanguageModelV1. The format
 * most OpenAI-compatible servers speak, so a custom base URL makes it `openai-compatible`.
 */
export class OpenAIChatModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly #client: OpenAI;

  constructor(modelId: string, settings: OpenAIModelSettings) {
    this.modelId = modelId;
    this.provider = settings.provider ?? providerFor(settings.baseURL);
    this.#client = createOpenAIClient(settings);
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const call = this.#call(options);
    try {
      const body = chatRequestBody(options, call);
      // The parsed answer carries the x-request-id the SDK read (`_request_id`): no second promise
      // for the raw response, as withResponse() takes, on every call's path.
      const data = await this.#client.chat.completions.create(body, requestOptionsFor(options));
      return chatResult(data, data._request_id ?? null, call);
    } catch (error) {
      throw toModelCallError(error, call);
    }
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    const call = this.#call(options);
    try {
      const body: ChatCompletionCreateParamsStreaming = { ...chatRequestBody(options, call), stream: true, stream_options: { include_usage: true } };
      const { data, request_id } = await this.#client.chat.completions.create(body, requestOptionsFor(options)).withResponse();
      return { stream: chatStreamParts(data, request_id, call) };
    } catch (error) {
      throw toModelCallError(error, call);
    }
  }

  doEmbed(options: EmbedOptionsV1): Promise<EmbedResultV1> {
    return openAIEmbeddings(this.#client, { provider: this.provider, modelId: this.modelId, abortSignal: options.abortSignal }, options);
  }

  #call(options: GenerateOptionsV1): OpenAICall {
    return { provider: this.provider, modelId: this.modelId, abortSignal: options.abortSignal };
  }
}
