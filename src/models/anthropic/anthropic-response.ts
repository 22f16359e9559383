import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateResultV1, JsonValue, ResponseInfoV1, TextPartV1, ToolCallPartV1 } from '../../spec/index.ts';
import { toFinishReason } from './anthropic-finish-reason.ts';
import { refusalExplanation } from './anthropic-refusal.ts';
import type { ResponseTool } from './anthropic-response-tool.ts';
import { responseText } from './anthropic-response-tool.ts';
import { toUsage } from './anthropic-usage.ts';

/** A Messages API response as Keel's result. Blocks Keel has no part for (thinking, server tools) are left out. */
export function toGenerateResult(message: Message, requestId: string | null, responseTool: ResponseTool | undefined): GenerateResultV1 {
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  let calledCallerTools = false;
  for (const block of message.content) {
    if (block.type === 'text') {
      content.push({ type: 'text', text: block.text });
    } else if (block.type === 'tool_use') {
      if (responseTool !== undefined && block.name === responseTool.tool.name) {
        content.push({ type: 'text', text: responseText(responseTool, block.input) });
      } else {
        calledCallerTools = true;
        content.push({ type: 'tool-call', toolCallId: block.id, toolName: block.name, input: block.input as JsonValue });
      }
    }
  }
  const result: GenerateResultV1 = {
    content,
    finishReason: toFinishReason(message.stop_reason, calledCallerTools),
    usage: toUsage(message.usage),
    response: responseInfo(message.id, message.model, requestId),
  };
  if (message.stop_reason === 'refusal') {
    const text = content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    result.refusal = refusalExplanation(message.stop_details, text);
  }
  return result;
}

export function responseInfo(id: string, modelId: string, requestId: string | null | undefined): ResponseInfoV1 {
  const info: ResponseInfoV1 = { id, modelId };
  if (typeof requestId === 'string') info.requestId = requestId;
  return info;
}
