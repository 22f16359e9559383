import type { ContentBlockParam, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { JsonValue, MessageV1 } from '../../spec/index.ts';

export interface AnthropicConversation {
  /** Every system message, joined: Anthropic takes the system prompt as a top-level field. */
  system?: string;
  messages: MessageParam[];
}

interface Turn {
  role: 'user' | 'assistant';
  content: ContentBlockParam[];
}

/**
 * Keel's messages as Anthropic's. Tool results travel as `tool_result` blocks in a user turn, and
 * consecutive turns of one role are merged, because the API wants user and assistant to alternate.
 */
export function toAnthropicConversation(messages: readonly MessageV1[]): AnthropicConversation {
  const system: string[] = [];
  const turns: Turn[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      system.push(message.content);
      continue;
    }
    const turn = toTurn(message);
    // Dropped before merging, so an empty message cannot leave two same-role turns side by side.
    if (turn.content.length === 0) continue;
    const previous = turns.at(-1);
    if (previous !== undefined && previous.role === turn.role) previous.content.push(...turn.content);
    else turns.push(turn);
  }
  const conversation: AnthropicConversation = {
    messages: turns.map((turn) => ({ role: turn.role, content: toolResultsFirst(turn.content) })),
  };
  if (system.length > 0) conversation.system = system.join('\n\n');
  return conversation;
}

function toTurn(message: Exclude<MessageV1, { role: 'system' }>): Turn {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content.filter((part) => part.text !== '').map((part) => ({ type: 'text', text: part.text })) };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content.flatMap((part): ContentBlockParam[] => {
          // The API rejects empty text blocks; an empty part carries nothing anyway.
          if (part.type === 'text') return part.text === '' ? [] : [{ type: 'text', text: part.text }];
          return [{ type: 'tool_use', id: part.toolCallId, name: part.toolName, input: toolInputObject(part.input) }];
        }),
      };
    case 'tool':
      return {
        role: 'user',
        content: message.content.map((part) => ({
          type: 'tool_result',
          tool_use_id: part.toolCallId,
          content: toolResultText(part.output),
          ...(part.isError === undefined ? {} : { is_error: part.isError }),
        })),
      };
  }
}

/**
 * A tool's output as the text the model reads. Strings go as they are (quoting them would show
 * the model escaped JSON); anything else is JSON.
 */
function toolResultText(output: JsonValue): string {
  return typeof output === 'string' ? output : JSON.stringify(output);
}

/**
 * `tool_use.input` must be an object. A call whose arguments were not JSON reaches Keel as the raw
 * string; sending it back wrapped keeps the conversation replayable instead of rejected.
 */
function toolInputObject(input: JsonValue): JsonValue {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? input : { value: input };
}

/** In a user turn, `tool_result` blocks must come before any text, or the API rejects the turn. */
function toolResultsFirst(content: ContentBlockParam[]): ContentBlockParam[] {
  const results = content.filter((block) => block.type === 'tool_result');
  if (results.length === 0) return content;
  return [...results, ...content.filter((block) => block.type !== 'tool_result')];
}
