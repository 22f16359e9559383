import { z } from 'zod';
import type { GenerateOptionsV1, MessageV1, ResponseFormatV1, TextPartV1, ToolCallPartV1, ToolChoiceV1, ToolResultPartV1 } from '../../spec/index.ts';
import { invalidRequest } from '../gateway-failure.ts';
import { requestIssue } from '../request-issue.ts';
import { bodyMetadata } from '../request-metadata.ts';
import { parseToolArguments } from '../../models/index.ts';

/** A Chat Completions request, as Keel's native call. */
export interface ChatRequest {
  /** The route or `provider:model` the client named. */
  model: string;
  options: GenerateOptionsV1;
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a chunk that carries the usage. */
  includeUsage: boolean;
  /** The body's `metadata`, checked (request-metadata.ts); never sent upstream. */
  metadata?: Record<string, string>;
}

const textOnly = 'the Keel gateway accepts text content parts only';
const textPart = z.object({ type: z.literal('text', { error: textOnly }), text: z.string() });
const textContent = z.union([z.string(), z.array(textPart)]);
const jsonObject = z.record(z.string(), z.json());

// Messages are read loosely: clients append the assistant message of a response as it came
// (with `refusal`, `annotations`, `audio`), and those fields change nothing Keel sends.
const systemMessage = z.object({ role: z.literal('system'), content: textContent });
const developerMessage = z.object({ role: z.literal('developer'), content: textContent });
const userMessage = z.object({ role: z.literal('user'), content: textContent });
const assistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.union([textPart, z.object({ type: z.literal('refusal'), refusal: z.string() })]))]).nullish(),
  refusal: z.string().nullish(),
  tool_calls: z
    .array(z.object({ id: z.string().min(1), type: z.literal('function'), function: z.object({ name: z.string().min(1), arguments: z.string() }) }))
    .nullish(),
});
const toolMessage = z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: textContent });

const chatRequestSchema = z.strictObject({
  model: z.string().min(1),
  messages: z.array(z.discriminatedUnion('role', [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage])).min(1),
  tools: z
    .array(
      z.strictObject({
        type: z.literal('function'),
        function: z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a function name is 1 to 64 letters, digits, underscores or dashes'),
          description: z.string().optional(),
          parameters: jsonObject.optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    )
    .optional(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string().min(1) }) })])
    .optional(),
  response_format: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text') }),
      z.strictObject({ type: z.literal('json_object') }),
      z.strictObject({
        type: z.literal('json_schema'),
        json_schema: z.strictObject({ name: z.string().min(1), description: z.string().optional(), schema: jsonObject.optional(), strict: z.boolean().nullish() }),
      }),
    ])
    .optional(),
  max_tokens: z.int().positive().nullish(),
  max_completion_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullish(),
  // Parameters Keel cannot honour are accepted only at the value that changes nothing.
  n: z.literal(1, { error: 'the Keel gateway returns one choice (n: 1)' }).nullish(),
  logprobs: z.literal(false, { error: 'the Keel gateway does not return log probabilities' }).nullish(),
  frequency_penalty: z.literal(0, { error: 'the Keel gateway does not apply frequency penalties' }).nullish(),
  presence_penalty: z.literal(0, { error: 'the Keel gateway does not apply presence penalties' }).nullish(),
  // Bookkeeping that does not change the answer. Metadata tags the run (request-metadata.ts); it is
  // not forwarded: OpenAI takes it only with `store`, which keeps the conversation at OpenAI.
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  service_tier: z.string().nullish(),
});

type ParsedChatRequest = z.infer<typeof chatRequestSchema>;

/** Checks a Chat Completions body and translates it; a 400 in OpenAI's manner names the field at fault. */
export function parseChatRequest(body: Record<string, unknown>): ChatRequest {
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw requestIssue(parsed.error, body, 'openai');
  const request = parsed.data;
  const options: GenerateOptionsV1 = { messages: toMessages(request.messages) };
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map(({ function: tool }) => ({
      name: tool.name,
      description: tool.description ?? '',
      inputSchema: (tool.parameters ?? { type: 'object', properties: {} }),
    }));
  }
  if (request.tool_choice !== undefined) {
    if (options.tools === undefined) throw invalidRequest("Invalid value for 'tool_choice': tool_choice is only allowed when 'tools' are specified.", 'tool_choice');
    options.toolChoice = toolChoice(request.tool_choice, options.tools.map((tool) => tool.name));
  }
  const format = responseFormat(request.response_format);
  if (format !== undefined) options.responseFormat = format;
  const maxOutputTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxOutputTokens !== undefined && maxOutputTokens !== null) options.maxOutputTokens = maxOutputTokens;
  if (request.temperature !== undefined && request.temperature !== null) options.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) options.topP = request.top_p;
  if (request.stop !== undefined && request.stop !== null) options.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined && request.seed !== null) options.seed = request.seed;
  const stream = request.stream === true;
  if (!stream && request.stream_options !== undefined && request.stream_options !== null) {
    throw invalidRequest("Invalid value for 'stream_options': stream_options is only allowed when 'stream' is true.", 'stream_options');
  }
  const metadata = bodyMetadata(request.metadata, 'openai');
  return { model: request.model, options, stream, includeUsage: stream && request.stream_options?.include_usage === true, ...(metadata === undefined ? {} : { metadata }) };
}

function toMessages(messages: ParsedChatRequest['messages']): MessageV1[] {
  const converted: MessageV1[] = [];
  // A tool message answers a call of an earlier assistant message; its function name comes from there.
  const calls = new Map<string, string>();
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        converted.push({ role: 'system', content: text(message.content) });
        break;
      case 'user':
        converted.push({ role: 'user', content: typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content.map((part) => ({ type: 'text', text: part.text })) });
        break;
      case 'assistant': {
        const content: (TextPartV1 | ToolCallPartV1)[] = [];
        const said = assistantText(message);
        if (said !== '') content.push({ type: 'text', text: said });
        for (const call of message.tool_calls ?? []) {
          calls.set(call.id, call.function.name);
          content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.function.name, input: parseToolArguments(call.function.arguments) });
        }
        converted.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const toolName = calls.get(message.tool_call_id);
        if (toolName === undefined) {
          throw invalidRequest(
            `Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'; no earlier assistant message has a tool call with id ${JSON.stringify(message.tool_call_id)}.`,
            `messages[${index}].tool_call_id`,
          );
        }
        const result: ToolResultPartV1 = { type: 'tool-result', toolCallId: message.tool_call_id, toolName, output: text(message.content) };
        // Results of one assistant turn travel together, as one tool message of Keel's.
        const previous = converted.at(-1);
        if (previous?.role === 'tool') previous.content.push(result);
        else converted.push({ role: 'tool', content: [result] });
        break;
      }
    }
  });
  return converted;
}

function text(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/** What an earlier assistant turn said: its text, or its refusal when that is all it said. */
function assistantText(message: Extract<ParsedChatRequest['messages'][number], { role: 'assistant' }>): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  const parts = (content ?? []).map((part) => (part.type === 'text' ? part.text : part.refusal)).join('');
  return parts === '' ? (message.refusal ?? '') : parts;
}

function toolChoice(choice: NonNullable<ParsedChatRequest['tool_choice']>, names: string[]): ToolChoiceV1 {
  if (typeof choice === 'string') return choice;
  if (!names.includes(choice.function.name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': function ${JSON.stringify(choice.function.name)} is not one of the tools (${names.join(', ')}).`, 'tool_choice.function.name');
  }
  return { toolName: choice.function.name };
}

function responseFormat(format: ParsedChatRequest['response_format']): ResponseFormatV1 | undefined {
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json' };
  const json: ResponseFormatV1 = { type: 'json', name: format.json_schema.name };
  if (format.json_schema.schema !== undefined) json.schema = format.json_schema.schema;
  return json;
}
