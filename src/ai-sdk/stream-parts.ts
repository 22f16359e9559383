/**
 * Streams both ways: Keel's StreamPartV1 parts as the AI SDK's LanguageModelV4StreamPart parts
 * (text and tool input in start / delta / end blocks, tool calls with JSON text input), and an AI
 * SDK model's stream as Keel's parts. Parts Keel does not journal (reasoning, sources, files, raw
 * chunks) are left out, as they are from whole answers (generate-result.ts).
 */
import type { LanguageModelV4StreamPart, SharedV4Warning } from '@ai-sdk/provider';
import { parseToolArguments, toolArgumentsText } from '../models/index.ts';
import type { GenerateResultV1, StreamPartV1 } from '../spec/index.ts';
import { modelCallErrorOf } from './ai-sdk-error.ts';
import { aiSdkFinishReasonOf, aiSdkUsageOf, keelFinishReasonOf, keelMetadataOf, keelUsageOf } from './generate-result.ts';

/** Turns Keel's parts, one at a time, into the AI SDK's; keeps which text and tool-input blocks are open. */
export class AiSdkStreamWriter {
  #text: string | undefined;
  #blocks = 0;
  readonly #toolInputs = new Set<string>();
  #response: GenerateResultV1['response'] = { id: '', modelId: '' };
  readonly #cost: () => GenerateResultV1['cost'];

  /** `cost` is asked for when the finish part is written: a governed stream knows it only then. */
  constructor(cost: () => GenerateResultV1['cost'] = () => undefined) {
    this.#cost = cost;
  }

  start(warnings: SharedV4Warning[]): LanguageModelV4StreamPart[] {
    return [{ type: 'stream-start', warnings }];
  }

  write(part: StreamPartV1): LanguageModelV4StreamPart[] {
    switch (part.type) {
      case 'response-start':
        this.#response = part.response;
        return [{ type: 'response-metadata', id: part.response.id, modelId: part.response.modelId }];
      case 'text-delta': {
        const parts: LanguageModelV4StreamPart[] = [];
        if (this.#text === undefined) {
          this.#blocks += 1;
          this.#text = `text-${this.#blocks}`;
          parts.push({ type: 'text-start', id: this.#text });
        }
        parts.push({ type: 'text-delta', id: this.#text, delta: part.delta });
        return parts;
      }
      case 'tool-call-delta': {
        const parts = this.#closeText();
        if (!this.#toolInputs.has(part.toolCallId)) {
          this.#toolInputs.add(part.toolCallId);
          parts.push({ type: 'tool-input-start', id: part.toolCallId, toolName: part.toolName });
        }
        parts.push({ type: 'tool-input-delta', id: part.toolCallId, delta: part.inputDelta });
        return parts;
      }
      case 'tool-call': {
        const parts = this.#closeText();
        if (this.#toolInputs.delete(part.toolCallId)) parts.push({ type: 'tool-input-end', id: part.toolCallId });
        parts.push({ type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: toolArgumentsText(part.input) });
        return parts;
      }
      case 'finish': {
        const parts = this.#closeText();
        const cost = this.#cost();
        const metadata = keelMetadataOf({ response: this.#response, ...(cost === undefined ? {} : { cost }), ...(part.refusal === undefined ? {} : { refusal: part.refusal }) });
        parts.push({ type: 'finish', finishReason: aiSdkFinishReasonOf(part.finishReason), usage: aiSdkUsageOf(part.usage), providerMetadata: metadata });
        return parts;
      }
    }
  }

  #closeText(): LanguageModelV4StreamPart[] {
    if (this.#text === undefined) return [];
    const id = this.#text;
    this.#text = undefined;
    return [{ type: 'text-end', id }];
  }
}

/** A whole answer (a replayed step) as the parts a stream of it would have had. */
export function streamPartsOf(result: GenerateResultV1): StreamPartV1[] {
  const parts: StreamPartV1[] = [{ type: 'response-start', response: result.response }];
  for (const part of result.content) parts.push(part.type === 'text' ? { type: 'text-delta', delta: part.text } : part);
  parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage, ...(result.refusal === undefined ? {} : { refusal: result.refusal }) });
  return parts;
}

/** An AI SDK model's stream as Keel's parts; an `error` part, or the stream failing, throws a classified ModelCallError. */
export async function* keelPartsOf(stream: ReadableStream<LanguageModelV4StreamPart>, model: { provider: string; modelId: string }, signal: AbortSignal | undefined): AsyncGenerator<StreamPartV1> {
  const toolNames = new Map<string, string>();
  const reader = stream.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        throw modelCallErrorOf(error, model, signal);
      }
      if (next.done) return;
      const part = next.value;
      switch (part.type) {
        case 'response-metadata':
          yield { type: 'response-start', response: { id: part.id ?? '', modelId: part.modelId ?? model.modelId } };
          break;
        case 'text-delta':
          yield { type: 'text-delta', delta: part.delta };
          break;
        case 'tool-input-start':
          toolNames.set(part.id, part.toolName);
          break;
        case 'tool-input-delta':
          yield { type: 'tool-call-delta', toolCallId: part.id, toolName: toolNames.get(part.id) ?? '', inputDelta: part.delta };
          break;
        case 'tool-call':
          if (part.providerExecuted !== true) yield { type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: parseToolArguments(part.input) };
          break;
        case 'finish':
          yield { type: 'finish', finishReason: keelFinishReasonOf(part.finishReason), usage: keelUsageOf(part.usage) };
          break;
        case 'error':
          throw modelCallErrorOf(part.error, model, signal);
        default:
          break;
      }
    }
  } finally {
    // Stopping early (a `break` upstream) cancels the provider's stream rather than leaving it open.
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
