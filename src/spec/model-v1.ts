/**
 * Language model specification, version 1: what every provider adapter (the simulator, OpenAI,
 * Anthropic, OpenAI-compatible servers) implements. Types only. Adapters translate to and from
 * their provider's wire format and nothing else: retries, timeouts, breakers, fallbacks, budgets
 * and journaling wrap a model from outside, as middleware that is itself a LanguageModelV1.
 */
import type { JsonValue } from './store-v1.ts';

export interface TextPartV1 {
  type: 'text';
  text: string;
}

export interface ToolCallPartV1 {
  type: 'tool-call';
  toolCallId: string;
  toolName: string;
  /** Parsed arguments. When the model sent text that is not JSON, adapters pass the raw text as a string. */
  input: JsonValue;
}

export interface ToolResultPartV1 {
  type: 'tool-result';
  toolCallId: string;
  toolName: string;
  output: JsonValue;
  isError?: boolean;
}

export type MessageV1 =
  | { role: 'system'; content: string }
  | { role: 'user'; content: TextPartV1[] }
  | { role: 'assistant'; content: (TextPartV1 | ToolCallPartV1)[] }
  | { role: 'tool'; content: ToolResultPartV1[] };

export interface ToolDefinitionV1 {
  name: string;
  description: string;
  /** JSON Schema of the tool's input. */
  inputSchema: JsonValue;
}

export type ToolChoiceV1 = 'auto' | 'none' | 'required' | { toolName: string };

/** Ask for JSON output; with a schema, adapters use the provider's native structured output. */
export interface ResponseFormatV1 {
  type: 'json';
  schema?: JsonValue;
  name?: string;
}

export interface GenerateOptionsV1 {
  messages: MessageV1[];
  tools?: ToolDefinitionV1[];
  toolChoice?: ToolChoiceV1;
  responseFormat?: ResponseFormatV1;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  seed?: number;
  abortSignal?: AbortSignal;
  /** Extra HTTP headers for this call (adapters that speak HTTP). */
  headers?: Record<string, string>;
}

export type FinishReasonV1 = 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'refusal' | 'error' | 'other';

export interface UsageV1 {
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the provider's cache, when it reports them (part of inputTokens). */
  cachedInputTokens?: number;
}

export interface ResponseInfoV1 {
  /** The provider's id for the response (e.g. chatcmpl-…, msg_…). */
  id: string;
  modelId: string;
  /** The HTTP request id header (x-request-id, request-id), when there is one. */
  requestId?: string;
  /** OpenAI's `system_fingerprint`: the backend configuration that served the call, when reported. */
  systemFingerprint?: string;
}

export interface GenerateResultV1 {
  content: (TextPartV1 | ToolCallPartV1)[];
  finishReason: FinishReasonV1;
  usage: UsageV1;
  response: ResponseInfoV1;
  /** The model declined the request; its explanation, when the provider marks refusals. */
  refusal?: string;
  /** Set by Keel's cost middleware, never by adapters: what the call cost, priced by which table. */
  cost?: { micros: number; priceVersion: string };
}

/** What a stream yields, in order; tool-call deltas are reassembled into `tool-call` parts. */
export type StreamPartV1 =
  | { type: 'response-start'; response: ResponseInfoV1 }
  | { type: 'text-delta'; delta: string }
  | { type: 'tool-call-delta'; toolCallId: string; toolName: string; inputDelta: string }
  | ToolCallPartV1
  | { type: 'finish'; finishReason: FinishReasonV1; usage: UsageV1; refusal?: string };

export interface StreamResultV1 {
  /** Ends after `finish`; a stream cut short errors with `model-stream-truncated`. */
  stream: AsyncIterable<StreamPartV1>;
}

/** Texts to turn into vectors, each on its own. */
export interface EmbedOptionsV1 {
  values: string[];
  /** Fewer dimensions than the model's own, for models that can shorten their vectors. */
  dimensions?: number;
  abortSignal?: AbortSignal;
  /** Extra HTTP headers for this call (adapters that speak HTTP). */
  headers?: Record<string, string>;
}

export interface EmbedResultV1 {
  /** One vector per value, in the order of the values. */
  embeddings: number[][];
  usage: { inputTokens: number };
  response: ResponseInfoV1;
  /** Set by Keel's governed model, never by adapters: what the call cost, priced by which table. */
  cost?: { micros: number; priceVersion: string };
}

export interface LanguageModelV1 {
  readonly specificationVersion: 'v1';
  /** `openai`, `anthropic`, `openai-compatible`, `sim`. */
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1>;
  doStream(options: GenerateOptionsV1): Promise<StreamResultV1>;
  /**
   * Embeddings, for a model that makes them (OpenAI's `text-embedding-*`, any simulator model);
   * absent on one that cannot. Optional rather than a second model kind so that a route, its
   * budgets, retries and breakers govern both calls alike.
   */
  doEmbed?(options: EmbedOptionsV1): Promise<EmbedResultV1>;
}
