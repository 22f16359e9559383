/**
 * Writes a dataset for use elsewhere: `jsonl`, one item per line as pinned (evaluation data), or
 * `openai-chat`, OpenAI's chat fine-tuning format: one `{"messages": [...], "tools": [...]}` per
 * line, the conversation of the item's model call with the answer the model gave as the last
 * assistant message. Everything comes from the pinned items, so a redacted value stays redacted.
 */
import { KeelError } from '../errors/index.ts';
import type { JsonValue, MessageV1, ToolDefinitionV1 } from '../spec/index.ts';
import type { DatasetItem } from './dataset.ts';

export type ExportFormat = 'jsonl' | 'openai-chat';

export function parseExportFormat(text: string | undefined): ExportFormat {
  if (text === 'jsonl' || text === 'openai-chat') return text;
  throw new KeelError('usage-invalid', `keel dataset export needs --format jsonl or openai-chat${text === undefined ? '' : `, got '${text}'`}`);
}

type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] }
  | { role: 'tool'; tool_call_id: string; content: string };

function textOf(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

function assistantMessage(content: JsonValue): ChatMessage {
  const parts = Array.isArray(content) ? content : [];
  const text = parts.map((part) => (part !== null && typeof part === 'object' && !Array.isArray(part) && part.type === 'text' ? textOf(part.text) : '')).join('');
  const calls = parts.flatMap((part) =>
    part !== null && typeof part === 'object' && !Array.isArray(part) && part.type === 'tool-call'
      ? [{ id: textOf(part.toolCallId), type: 'function' as const, function: { name: textOf(part.toolName), arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}) } }]
      : [],
  );
  return calls.length === 0 ? { role: 'assistant', content: text } : { role: 'assistant', content: text === '' ? null : text, tool_calls: calls };
}

function chatMessages(messages: MessageV1[]): ChatMessage[] {
  return messages.flatMap((message): ChatMessage[] => {
    switch (message.role) {
      case 'system':
        return [{ role: 'system', content: message.content }];
      case 'user':
        return [{ role: 'user', content: message.content.map((part) => part.text).join('') }];
      case 'assistant':
        return [assistantMessage(message.content as unknown as JsonValue)];
      case 'tool':
        return message.content.map((part) => ({ role: 'tool' as const, tool_call_id: part.toolCallId, content: typeof part.output === 'string' ? part.output : JSON.stringify(part.output) }));
    }
  });
}

/** One fine-tuning line for the item, or undefined when it holds no model call. */
export function chatLine(item: DatasetItem): JsonValue | undefined {
  const conversation = item.kind === 'run' ? item.conversation : { request: item.input, response: item.response };
  if (conversation === null) return undefined;
  const request = conversation.request as { messages?: MessageV1[]; tools?: ToolDefinitionV1[] } | null;
  const response = conversation.response as { content?: JsonValue } | null;
  if (request?.messages === undefined || response === null) return undefined;
  const line: { messages: ChatMessage[]; tools?: JsonValue[] } = { messages: [...chatMessages(request.messages), assistantMessage(response.content ?? [])] };
  if (request.tools !== undefined && request.tools.length > 0) {
    line.tools = request.tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } }));
  }
  return line;
}

/** Problems of one line against the chat fine-tuning format; empty when it conforms. */
export function chatLineProblems(line: unknown): string[] {
  const problems: string[] = [];
  if (line === null || typeof line !== 'object' || Array.isArray(line)) return ['a line is a JSON object'];
  const { messages, tools, ...rest } = line as { messages?: unknown; tools?: unknown };
  for (const key of Object.keys(rest)) if (key !== 'parallel_tool_calls') problems.push(`unexpected key ${key}`);
  if (!Array.isArray(messages) || messages.length === 0) return [...problems, 'messages is a non-empty array'];
  const callIds = new Set<string>();
  const toolNames = new Set<string>();
  if (tools !== undefined) {
    if (!Array.isArray(tools)) problems.push('tools is an array');
    else {
      for (const tool of tools as { type?: unknown; function?: { name?: unknown; parameters?: unknown } }[]) {
        if (tool.type !== 'function' || typeof tool.function?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.function.name)) problems.push('each tool is {type: function, function: {name, …}} with a valid name');
        else toolNames.add(tool.function.name);
        if (tool.function?.parameters !== undefined && (typeof tool.function.parameters !== 'object' || tool.function.parameters === null)) problems.push(`tool ${String(tool.function.name)}: parameters is a JSON Schema object`);
      }
    }
  }
  messages.forEach((message: unknown, index) => {
    const at = `messages[${index}]`;
    if (message === null || typeof message !== 'object') return problems.push(`${at} is an object`);
    const { role, content, tool_calls: calls, tool_call_id: callId, ...others } = message as Record<string, unknown>;
    for (const key of Object.keys(others)) if (key !== 'name' && key !== 'weight') problems.push(`${at} has unexpected key ${key}`);
    if (role === 'system' || role === 'user') {
      if (typeof content !== 'string') problems.push(`${at} (${role}) content is a string`);
    } else if (role === 'assistant') {
      if (typeof content !== 'string' && !(content === null && Array.isArray(calls) && calls.length > 0)) problems.push(`${at} (assistant) has text content or tool calls`);
      if (calls !== undefined) {
        if (!Array.isArray(calls) || calls.length === 0) problems.push(`${at} tool_calls is a non-empty array`);
        else {
          for (const call of calls as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
            if (typeof call.id !== 'string' || call.type !== 'function' || typeof call.function?.name !== 'string' || typeof call.function.arguments !== 'string') {
              problems.push(`${at} each tool call is {id, type: function, function: {name, arguments: string}}`);
              continue;
            }
            callIds.add(call.id);
            if (tools !== undefined && !toolNames.has(call.function.name)) problems.push(`${at} calls ${call.function.name}, which tools does not declare`);
          }
        }
      }
    } else if (role === 'tool') {
      if (typeof callId !== 'string' || !callIds.has(callId)) problems.push(`${at} (tool) answers a tool_call_id an earlier assistant message made`);
      if (typeof content !== 'string') problems.push(`${at} (tool) content is a string`);
    } else problems.push(`${at} role is system, user, assistant or tool, got ${String(role)}`);
    return undefined;
  });
  const last = messages.at(-1) as { role?: unknown } | undefined;
  if (last?.role !== 'assistant') problems.push('the last message is the assistant’s');
  return problems;
}

/** The export's lines, and how many items had no model call to export (openai-chat). */
export function exportLines(items: DatasetItem[], format: ExportFormat): { lines: string[]; skipped: number } {
  if (format === 'jsonl') return { lines: items.map((item) => JSON.stringify(item)), skipped: 0 };
  const lines: string[] = [];
  let skipped = 0;
  for (const item of items) {
    const line = chatLine(item);
    if (line === undefined) {
      skipped += 1;
      continue;
    }
    const problems = chatLineProblems(line);
    if (problems.length > 0) throw new KeelError('internal', `item ${item.id} does not make a chat fine-tuning line: ${problems.join('; ')}`);
    lines.push(JSON.stringify(line));
  }
  return { lines, skipped };
}
