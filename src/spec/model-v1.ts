/**
 * Language model specification, version 1: what every provider adapter (the simulator, and later
 * OpenAI, Anthropic, OpenAI-compatible servers) implements. Types only.
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

export interface GenerateOptionsV1 {
  messages: MessageV1[];
  tools?: ToolDefinitionV1[];
  maxOutputTokens?: number;
  temperature?: number;
  seed?: number;
  abortSignal?: AbortSignal;
}

export type FinishReasonV1 = 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'error';

export interface UsageV1 {
  inputTokens: number;
  outputTokens: number;
}

export interface GenerateResultV1 {
  content: (TextPartV1 | ToolCallPartV1)[];
  finishReason: FinishReasonV1;
  usage: UsageV1;
  response: { id: string; modelId: string };
}

export interface LanguageModelV1 {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1>;
}
