import type OpenAI from 'openai';
import type { ResponseCreateParamsStreaming } from 'openai/resources/responses/responses';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamResultV1 } from '../../spec/index.ts';
import type { OpenAICall } from './openai-call.ts';
import type { OpenAIModelSettings } from './openai-client.ts';
import { createOpenAIClient, providerFor, requestOptionsFor } from './openai-client.ts';
import { openAIEmbeddings } from './openai-embeddings.ts';
import { toModelCallError } from './openai-errors.ts';
import { responsesRequestBody } from './openai-responses-request.ts';
import { responsesResult } from './openai-responses-result.ts';
import { responsesStreamParts } from './openai-responses-stream.ts';

/** OpenAI's Responses API (`POST /responses`) as a LanguageModelV1, used statelessly. */
export class OpenAIResponsesModel implements LanguageModelV1 {
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
      const body = responsesRequestBody(options, call);
      const { data, request_id } = await this.#client.responses.create(body, requestOptionsFor(options)).withResponse();
      return responsesResult(data, request_id, call);
    } catch (error) {
      throw toModelCallError(error, call);
    }
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    const call = this.#call(options);
    try {
      const body: ResponseCreateParamsStreaming = { ...responsesRequestBody(options, call), stream: true };
      const { data, request_id } = await this.#client.responses.create(body, requestOptionsFor(options)).withResponse();
      return { stream: responsesStreamParts(data, request_id, call) };
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
