import { KeelError } from '../../errors/index.ts';
import type { EmbedResultV1 } from '../../spec/index.ts';
import type { CallAnswer } from '../gateway-runs.ts';
import type { WireFormat } from '../serve-call.ts';
import { openAIErrorResponse } from './openai-error.ts';

/** OpenAI's embeddings list: one vector per input, in order, as floats or base64 of little-endian float32. */
export function embeddingsWire(model: string, encoding: 'float' | 'base64'): WireFormat {
  return {
    api: 'openai.embeddings',
    error: (failure, runId) => openAIErrorResponse(failure, runId),
    answer: (result) => embeddingsList(embeddedAnswer(result), model, encoding),
    events: () => {
      throw new KeelError('internal', 'an embeddings answer is never streamed');
    },
  };
}

function embeddedAnswer(answer: CallAnswer): EmbedResultV1 {
  if (!('embeddings' in answer)) throw new KeelError('internal', 'a generated answer reached the embeddings wire format');
  return answer;
}

function embeddingsList(result: EmbedResultV1, model: string, encoding: 'float' | 'base64'): unknown {
  return {
    object: 'list',
    data: result.embeddings.map((vector, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? float32Base64(vector) : vector })),
    model,
    usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
  };
}

/** What OpenAI sends for `encoding_format: base64`: the vector's float32 values, little-endian, in base64. */
function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}
