import { z } from 'zod';
import type { GenerateOptionsV1, JsonValue, MessageV1, TextPartV1, ToolCallPartV1, ToolChoiceV1, ToolResultPartV1 } from '../../spec/index.ts';
import { invalidRequest } from '../gateway-failure.ts';
import { requestIssue } from '../request-issue.ts';
import { bodyMetadata } from '../request-metadata.ts';

/** A Messages request, as Keel's native call. */
export interface MessagesRequest {
  /** The route or `provider:model` the client named. */
  model: string;
  options: GenerateOptionsV1;
  stream: boolean;
  /** `metadata.user_id` as the request's metadata entry `user_id` (request-metadata.ts); never sent upstream. */
  metadata?: Record<string, string>;
}

const jsonObject = z.record(z.string(), z.json());
// Prompt-caching hints and citations are accepted and have no effect on what Keel sends.
const hint = z.unknown().optional();
const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: hint, citations: hint });
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: jsonObject, cache_control: hint });
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(textBlock)]).optional(),
  is_error: z.boolean().optional(),
  cache_control: hint,
});
const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, toolUseBlock, toolResultBlock]))]),
});
const unsupported = (what: string) => z.never({ error: `the Keel gateway does not support ${what}` }).optional();

const conversationFields = {
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a tool name is 1 to 128 letters, digits, underscores or dashes'),
        description: z.string().optional(),
        input_schema: jsonObject,
        type: z.literal('custom').optional(),
        cache_control: hint,
      }),
    )
    .optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal('none') }),
    ])
    .optional(),
  thinking: unsupported('extended thinking'),
};

const messagesSchema = z.strictObject({
  ...conversationFields,
  max_tokens: z.int().min(1),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: unsupported('top_k'),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  service_tier: z.enum(['auto', 'standard_only']).optional(),
});

const countTokensSchema = z.strictObject(conversationFields);

type Conversation = z.infer<typeof countTokensSchema>;

/** Checks a Messages body and translates it; a 400 in Anthropic's manner names the field at fault. */
export function parseMessagesRequest(body: Record<string, unknown>): MessagesRequest {
  const parsed = messagesSchema.safeParse(body);
  if (!parsed.success) throw requestIssue(parsed.error, body, 'anthropic');
  const request = parsed.data;
  const options = conversationOptions(request);
  options.maxOutputTokens = request.max_tokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.top_p !== undefined) options.topP = request.top_p;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) options.stopSequences = request.stop_sequences;
  const userId = request.metadata?.user_id;
  const metadata = bodyMetadata(userId === undefined || userId === null ? undefined : { user_id: userId }, 'anthropic');
  return { model: request.model, options, stream: request.stream === true, ...(metadata === undefined ? {} : { metadata }) };
}

/** A count_tokens body: the conversation of a Messages request, without generation settings. */
export function parseCountTokensRequest(body: Record<string, unknown>): { model: string; options: GenerateOptionsV1 } {
  const parsed = countTokensSchema.safeParse(body);
  if (!parsed.success) throw requestIssue(parsed.error, body, 'anthropic');
  return { model: parsed.data.model, options: conversationOptions(parsed.data) };
}

function conversationOptions(request: Conversation): GenerateOptionsV1 {
  const messages: MessageV1[] = [];
  if (request.system !== undefined) {
    const system = typeof request.system === 'string' ? request.system : request.system.map((block) => block.text).join('');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  messages.push(...toMessages(request.messages));
  const options: GenerateOptionsV1 = { messages };
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map((tool) => ({ name: tool.name, description: tool.description ?? '', inputSchema: tool.input_schema }));
  }
  if (request.tool_choice !== undefined) {
    if (options.tools === undefined && request.tool_choice.type !== 'none') throw invalidRequest('tool_choice: tool_choice may only be specified while providing tools', 'tool_choice');
    if (options.tools !== undefined) options.toolChoice = toolChoice(request.tool_choice, options.tools.map((tool) => tool.name));
  }
  return options;
}

/**
 * Anthropic's turns as Keel's messages: a user turn's `tool_result` blocks become one tool message
 * (the function's name found on the earlier `tool_use`), followed by the turn's text, if any.
 */
function toMessages(turns: Conversation['messages']): MessageV1[] {
  const messages: MessageV1[] = [];
  const calls = new Map<string, string>();
  turns.forEach((turn, turnIndex) => {
    if (typeof turn.content === 'string') {
      const text: TextPartV1[] = [{ type: 'text', text: turn.content }];
      messages.push(turn.role === 'user' ? { role: 'user', content: text } : { role: 'assistant', content: text });
      return;
    }
    if (turn.role === 'assistant') {
      const content: (TextPartV1 | ToolCallPartV1)[] = [];
      turn.content.forEach((block, blockIndex) => {
        if (block.type === 'text') content.push({ type: 'text', text: block.text });
        else if (block.type === 'tool_use') {
          calls.set(block.id, block.name);
          content.push({ type: 'tool-call', toolCallId: block.id, toolName: block.name, input: block.input as JsonValue });
        } else throw invalidRequest(`messages.${turnIndex}.content.${blockIndex}: a tool_result block belongs in a user turn`, `messages.${turnIndex}.content.${blockIndex}`);
      });
      messages.push({ role: 'assistant', content });
      return;
    }
    const results: ToolResultPartV1[] = [];
    const text: TextPartV1[] = [];
    turn.content.forEach((block, blockIndex) => {
      const at = `messages.${turnIndex}.content.${blockIndex}`;
      if (block.type === 'text') text.push({ type: 'text', text: block.text });
      else if (block.type === 'tool_result') {
        const toolName = calls.get(block.tool_use_id);
        if (toolName === undefined) throw invalidRequest(`${at}: tool_result block with id ${JSON.stringify(block.tool_use_id)} answers no tool_use block of an earlier assistant turn`, at);
        const output = typeof block.content === 'string' ? block.content : (block.content ?? []).map((part) => part.text).join('');
        results.push({ type: 'tool-result', toolCallId: block.tool_use_id, toolName, output, ...(block.is_error === undefined ? {} : { isError: block.is_error }) });
      } else throw invalidRequest(`${at}: a tool_use block belongs in an assistant turn`, at);
    });
    if (results.length > 0) messages.push({ role: 'tool', content: results });
    if (text.length > 0) messages.push({ role: 'user', content: text });
  });
  return messages;
}

function toolChoice(choice: NonNullable<Conversation['tool_choice']>, names: string[]): ToolChoiceV1 {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      if (!names.includes(choice.name)) throw invalidRequest(`tool_choice.name: tool ${JSON.stringify(choice.name)} is not one of the tools (${names.join(', ')})`, 'tool_choice.name');
      return { toolName: choice.name };
  }
}
