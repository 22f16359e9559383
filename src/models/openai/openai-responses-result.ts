import type { Response, ResponseOutputItem, ResponseUsage } from 'openai/resources/responses/responses';
import type { FinishReasonV1, GenerateResultV1, TextPartV1, ToolCallPartV1, UsageV1 } from '../../spec/index.ts';
import type { ModelCallError } from '../model-call-error.ts';
import type { OpenAICall } from './openai-call.ts';
import { providerReportedError } from './openai-errors.ts';
import { responseInfo } from './response-info.ts';
import { parseToolArguments } from './tool-payload-text.ts';

/** A `response` object → GenerateResultV1; a failed response is thrown as the error it carries. */
export function responsesResult(response: Response, requestId: string | null, call: OpenAICall): GenerateResultV1 {
  if (response.status === 'failed') throw failedResponseError(response, { ...call, requestId: requestId ?? undefined });
  const { content, refusal } = outputParts(response.output);
  const result: GenerateResultV1 = {
    content,
    finishReason: responsesFinishReason(response, content, refusal),
    usage: responsesUsage(response.usage),
    response: responseInfo(response.id, response.model, requestId),
  };
  if (refusal !== undefined) result.refusal = refusal;
  return result;
}

/** Output items → parts. Reasoning and hosted-tool items carry nothing the spec can hold. */
export function outputParts(output: ResponseOutputItem[]): { content: (TextPartV1 | ToolCallPartV1)[]; refusal: string | undefined } {
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  let refusal = '';
  for (const item of output) {
    if (item.type === 'message') {
      for (const piece of item.content) {
        if (piece.type === 'output_text') {
          if (piece.text !== '') content.push({ type: 'text', text: piece.text });
        } else {
          refusal += piece.refusal;
        }
      }
    } else if (item.type === 'function_call') {
      content.push({ type: 'tool-call', toolCallId: item.call_id, toolName: item.name, input: parseToolArguments(item.arguments) });
    }
  }
  return { content, refusal: refusal === '' ? undefined : refusal };
}

export function responsesFinishReason(response: Response, content: (TextPartV1 | ToolCallPartV1)[], refusal: string | undefined): FinishReasonV1 {
  if (refusal !== undefined) return 'refusal';
  if (response.status === 'incomplete') {
    const reason = response.incomplete_details?.reason;
    if (reason === 'max_output_tokens') return 'length';
    if (reason === 'content_filter') return 'content-filter';
    return 'other';
  }
  // Responses has no "tool_calls" finish reason: a completed response that called tools is one.
  if (content.some((part) => part.type === 'tool-call')) return 'tool-calls';
  return response.status === 'completed' || response.status === undefined ? 'stop' : 'other';
}

export function responsesUsage(usage: ResponseUsage | undefined): UsageV1 {
  const result: UsageV1 = { inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0 };
  // Typed as always present, but OpenAI-compatible servers leave the details out.
  const cached = usage?.input_tokens_details?.cached_tokens;
  if (typeof cached === 'number') result.cachedInputTokens = cached;
  return result;
}

export function failedResponseError(response: Response, call: OpenAICall): ModelCallError {
  const error = response.error;
  return providerReportedError(call, error?.code, `response ${response.id} failed: ${error?.message ?? 'no error given'}`);
}
