/**
 * Answers both ways: Keel's GenerateResultV1 as the AI SDK's LanguageModelV4GenerateResult (what
 * a governed or replayed call hands the framework) and back (what a wrapped AI SDK model's answer
 * becomes in Keel's journal). Keel records text and tool calls; reasoning, sources and files an
 * AI SDK model returns are not journaled, so they are not handed on either: a live call and its
 * replay give the framework the same answer.
 */
import type { LanguageModelV4Content, LanguageModelV4FinishReason, LanguageModelV4GenerateResult, LanguageModelV4Usage, SharedV4ProviderMetadata } from '@ai-sdk/provider';
import { parseToolArguments, toolArgumentsText } from '../models/index.ts';
import type { FinishReasonV1, GenerateResultV1, TextPartV1, ToolCallPartV1, UsageV1 } from '../spec/index.ts';

/** What Keel adds to an answer's providerMetadata, under `keel`. */
export interface KeelCallMetadata {
  /** Integer micro-USD, from Keel's price table; absent when the model was not governed. */
  costMicros?: number;
  priceVersion?: string;
  /** The model that answered (a route may have fallen back): `provider:modelId`. */
  answeredBy: string;
  responseId: string;
  refusal?: string;
}

export function aiSdkResultOf(result: GenerateResultV1): LanguageModelV4GenerateResult {
  const content: LanguageModelV4Content[] = result.content.map((part) =>
    part.type === 'text' ? { type: 'text', text: part.text } : { type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: toolArgumentsText(part.input) },
  );
  return {
    content,
    finishReason: aiSdkFinishReasonOf(result.finishReason),
    usage: aiSdkUsageOf(result.usage),
    providerMetadata: keelMetadataOf(result),
    response: { id: result.response.id, modelId: result.response.modelId },
    warnings: [],
  };
}

export function keelMetadataOf(result: Pick<GenerateResultV1, 'cost' | 'response' | 'refusal'>): SharedV4ProviderMetadata {
  const metadata: KeelCallMetadata = { answeredBy: result.response.modelId, responseId: result.response.id };
  if (result.cost !== undefined) {
    metadata.costMicros = result.cost.micros;
    metadata.priceVersion = result.cost.priceVersion;
  }
  if (result.refusal !== undefined) metadata.refusal = result.refusal;
  return { keel: { ...metadata } };
}

/** Keel's `refusal` has no AI SDK counterpart: `other`, with the raw reason saying so. */
export function aiSdkFinishReasonOf(reason: FinishReasonV1): LanguageModelV4FinishReason {
  return { unified: reason === 'refusal' ? 'other' : reason, raw: reason };
}

export function aiSdkUsageOf(usage: UsageV1): LanguageModelV4Usage {
  const cached = usage.cachedInputTokens;
  return {
    inputTokens: { total: usage.inputTokens, noCache: cached === undefined ? undefined : usage.inputTokens - cached, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: usage.outputTokens, text: undefined, reasoning: undefined },
  };
}

/** An AI SDK model's answer in Keel's terms; `modelId` names the model when the provider sent no id. */
export function keelResultOf(result: LanguageModelV4GenerateResult, modelId: string): GenerateResultV1 {
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  for (const part of result.content) {
    if (part.type === 'text') content.push({ type: 'text', text: part.text });
    else if (part.type === 'tool-call' && part.providerExecuted !== true) content.push({ type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: parseToolArguments(part.input) });
  }
  return {
    content,
    finishReason: keelFinishReasonOf(result.finishReason),
    usage: keelUsageOf(result.usage),
    response: { id: result.response?.id ?? '', modelId: result.response?.modelId ?? modelId },
  };
}

export function keelFinishReasonOf(reason: LanguageModelV4FinishReason): FinishReasonV1 {
  if (reason.raw === 'refusal') return 'refusal';
  return reason.unified === 'interrupted' ? 'other' : reason.unified;
}

/** A count the provider did not report is 0 here; Keel prices what was reported. */
export function keelUsageOf(usage: LanguageModelV4Usage): UsageV1 {
  const converted: UsageV1 = { inputTokens: usage.inputTokens.total ?? 0, outputTokens: usage.outputTokens.total ?? 0 };
  if (usage.inputTokens.cacheRead !== undefined) converted.cachedInputTokens = usage.inputTokens.cacheRead;
  return converted;
}
