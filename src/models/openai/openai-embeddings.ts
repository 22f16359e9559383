import type OpenAI from 'openai';
import type { EmbedOptionsV1, EmbedResultV1 } from '../../spec/index.ts';
import type { OpenAICall } from './openai-call.ts';
import { requestOptionsFor } from './openai-client.ts';
import { toModelCallError } from './openai-errors.ts';
import { responseInfo } from './response-info.ts';

/**
 * OpenAI's embeddings endpoint (`POST /embeddings`), shared by both OpenAI model classes: the same
 * model name may answer either API. Vectors are asked for as floats, so no decoding is needed here.
 */
export async function openAIEmbeddings(client: OpenAI, call: OpenAICall, options: EmbedOptionsV1): Promise<EmbedResultV1> {
  try {
    const data = await client.embeddings.create(
      { model: call.modelId, input: options.values, encoding_format: 'float', ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }) },
      requestOptionsFor(options),
    );
    const embeddings = [...data.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
    // The endpoint names no response id; the request id stands for it where there is one.
    const requestId = data._request_id ?? null;
    return { embeddings, usage: { inputTokens: data.usage.prompt_tokens }, response: responseInfo(requestId ?? `embeddings-${call.modelId}`, data.model, requestId) };
  } catch (error) {
    throw toModelCallError(error, call);
  }
}
