/**
 * Keel's answer (GenerateResultV1) as the Agents SDK's: output items (an assistant message, then
 * the function calls), usage and the response id. Keel's cost and the model that answered ride
 * in `providerData.keel`. A live call and its replay hand the framework the same items, because
 * both are built from the journaled result.
 */
import type { ModelResponse, protocol } from '@openai/agents';
import { Usage } from '@openai/agents';
import { toolArgumentsText } from '../models/index.ts';
import type { GenerateResultV1 } from '../spec/index.ts';

/** What Keel adds to a response's providerData, under `keel`. */
export interface KeelResponseMetadata {
  /** Integer micro-USD from Keel's price table; absent when no price applied. */
  costMicros?: number;
  priceVersion?: string;
  /** The model that answered (a route may have fallen back): its model id. */
  answeredBy: string;
}

export function outputItemsOf(result: GenerateResultV1): (protocol.AssistantMessageItem | protocol.FunctionCallItem)[] {
  const items: (protocol.AssistantMessageItem | protocol.FunctionCallItem)[] = [];
  const texts = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  if (result.refusal !== undefined) {
    items.push({ type: 'message', id: `${result.response.id}-message`, role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: result.refusal }] });
  } else if (texts.length > 0) {
    items.push({ type: 'message', id: `${result.response.id}-message`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: texts.join('') }] });
  }
  for (const part of result.content) {
    if (part.type !== 'tool-call') continue;
    items.push({ type: 'function_call', callId: part.toolCallId, name: part.toolName, arguments: toolArgumentsText(part.input), status: 'completed' });
  }
  return items;
}

export function usageOf(result: GenerateResultV1): Usage {
  const { inputTokens, outputTokens, cachedInputTokens } = result.usage;
  return new Usage({
    requests: 1,
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    ...(cachedInputTokens === undefined ? {} : { inputTokensDetails: { cached_tokens: cachedInputTokens } }),
  });
}

export function metadataOf(result: GenerateResultV1): KeelResponseMetadata {
  const metadata: KeelResponseMetadata = { answeredBy: result.response.modelId };
  if (result.cost !== undefined) {
    metadata.costMicros = result.cost.micros;
    metadata.priceVersion = result.cost.priceVersion;
  }
  return metadata;
}

export function modelResponseOf(result: GenerateResultV1): ModelResponse {
  const response: ModelResponse = { usage: usageOf(result), output: outputItemsOf(result), responseId: result.response.id, providerData: { keel: metadataOf(result) } };
  if (result.response.requestId !== undefined) response.requestId = result.response.requestId;
  return response;
}
