import { z } from 'zod';
import type { GenerateOptionsV1, MessageV1, ResponseFormatV1, ToolChoiceV1, ToolResultPartV1 } from '../../spec/index.ts';
import { invalidRequest } from '../gateway-failure.ts';
import { requestIssue } from '../request-issue.ts';
import { bodyMetadata } from '../request-metadata.ts';
import { parseToolArguments } from '../../models/index.ts';

/** A Responses request, as Keel's native call, with what the response echoes back. */
export interface ResponsesRequest {
  /** The route or `provider:model` the client named. */
  model: string;
  options: GenerateOptionsV1;
  stream: boolean;
  echo: ResponseEcho;
  /** The body's `metadata`, checked (request-metadata.ts): echoed in the response, never sent upstream. */
  metadata?: Record<string, string>;
}

/** The request settings a `response` object repeats, as OpenAI's does. */
export interface ResponseEcho {
  instructions: string | null;
  tools: unknown[];
  toolChoice: unknown;
  text: { format: unknown };
  temperature: number | null;
  topP: number | null;
  maxOutputTokens: number | null;
  metadata: Record<string, string>;
  user?: string;
}

const textOnly = 'the Keel gateway accepts text content parts only (input_text, output_text, refusal)';
const jsonObject = z.record(z.string(), z.json());
const contentPart = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('input_text'), text: z.string() }),
    z.object({ type: z.literal('output_text'), text: z.string() }),
    z.object({ type: z.literal('refusal'), refusal: z.string() }),
  ],
  { error: textOnly },
);

// Items are read loosely: clients send back the output items of a response as they came (with
// `id`, `status`, `annotations`, `logprobs`), and those fields change nothing Keel sends.
const messageItem = z.object({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCallItem = z.object({ type: z.literal('function_call'), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const functionCallOutputItem = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
});
const inputItem = z.preprocess(
  // A message may leave its `type` out (OpenAI's "easy input message").
  (item) => (typeof item === 'object' && item !== null && !Array.isArray(item) && !('type' in item) && 'role' in item ? { ...item, type: 'message' } : item),
  z.discriminatedUnion('type', [messageItem, functionCallItem, functionCallOutputItem], {
    error: 'the Keel gateway accepts input items of type message, function_call and function_call_output',
  }),
);

const notStored = 'the Keel gateway stores no responses: send the whole conversation in input';
const responsesSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItem).min(1)]),
  instructions: z.string().nullish(),
  tools: z
    .array(
      z.strictObject({
        type: z.literal('function', { error: 'the Keel gateway supports function tools only' }),
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a function name is 1 to 64 letters, digits, underscores or dashes'),
        description: z.string().nullish(),
        parameters: jsonObject.nullish(),
        strict: z.boolean().nullish(),
      }),
    )
    .optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), name: z.string().min(1) })]).optional(),
  text: z
    .strictObject({
      format: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('text') }),
          z.strictObject({ type: z.literal('json_object') }),
          z.strictObject({ type: z.literal('json_schema'), name: z.string().min(1), schema: jsonObject, description: z.string().optional(), strict: z.boolean().nullish() }),
        ])
        .optional(),
      verbosity: z.literal('medium', { error: 'the Keel gateway does not change verbosity (medium only)' }).nullish(),
    })
    .optional(),
  max_output_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  // A conversation kept by the server is something the Keel gateway does not have.
  previous_response_id: z.null({ error: `previous_response_id is not supported: ${notStored}` }).optional(),
  conversation: z.null({ error: `conversation is not supported: ${notStored}` }).optional(),
  store: z.literal(false, { error: `store: true is not supported: ${notStored}` }).nullish(),
  background: z.literal(false, { error: 'the Keel gateway answers in the foreground (background: false)' }).nullish(),
  // Parameters Keel cannot honour are accepted only at the value that changes nothing.
  reasoning: z.null({ error: 'the Keel gateway does not pass reasoning settings on' }).optional(),
  include: z.array(z.string()).max(0, 'the Keel gateway includes no extra output data').nullish(),
  top_logprobs: z.literal(0, { error: 'the Keel gateway does not return log probabilities' }).nullish(),
  truncation: z.literal('disabled', { error: 'the Keel gateway does not truncate input (truncation: disabled)' }).nullish(),
  // Bookkeeping that does not change the answer.
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  service_tier: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
});

type ParsedResponsesRequest = z.infer<typeof responsesSchema>;
type InputItem = Exclude<ParsedResponsesRequest['input'], string>[number];

/** Checks a Responses body and translates it; a 400 in OpenAI's manner names the field at fault. */
export function parseResponsesRequest(body: Record<string, unknown>): ResponsesRequest {
  const parsed = responsesSchema.safeParse(body);
  if (!parsed.success) throw requestIssue(parsed.error, body, 'openai');
  const request = parsed.data;
  const messages: MessageV1[] = [];
  const instructions = request.instructions ?? null;
  if (instructions !== null && instructions !== '') messages.push({ role: 'system', content: instructions });
  if (typeof request.input === 'string') messages.push({ role: 'user', content: [{ type: 'text', text: request.input }] });
  else messages.push(...toMessages(request.input));
  const options: GenerateOptionsV1 = { messages };
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map((tool) => ({ name: tool.name, description: tool.description ?? '', inputSchema: tool.parameters ?? { type: 'object', properties: {} } }));
  }
  if (request.tool_choice !== undefined && options.tools !== undefined) options.toolChoice = toolChoice(request.tool_choice, options.tools.map((tool) => tool.name));
  else if (request.tool_choice !== undefined && request.tool_choice !== 'auto' && request.tool_choice !== 'none') {
    throw invalidRequest("Invalid value for 'tool_choice': a tool must be chosen from 'tools', and none were given.", 'tool_choice');
  }
  const format = request.text?.format;
  const responseFormat = formatOf(format);
  if (responseFormat !== undefined) options.responseFormat = responseFormat;
  if (request.max_output_tokens !== undefined && request.max_output_tokens !== null) options.maxOutputTokens = request.max_output_tokens;
  if (request.temperature !== undefined && request.temperature !== null) options.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) options.topP = request.top_p;
  const stream = request.stream === true;
  if (!stream && request.stream_options !== undefined && request.stream_options !== null) {
    throw invalidRequest("Invalid value for 'stream_options': stream_options is only allowed when 'stream' is true.", 'stream_options');
  }
  const echo: ResponseEcho = {
    instructions,
    tools: (request.tools ?? []).map((tool) => ({ type: 'function', name: tool.name, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? true })),
    toolChoice: request.tool_choice ?? 'auto',
    text: { format: format ?? { type: 'text' } },
    temperature: request.temperature ?? null,
    topP: request.top_p ?? null,
    maxOutputTokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    ...(request.user === undefined ? {} : { user: request.user }),
  };
  const metadata = bodyMetadata(request.metadata, 'openai');
  return { model: request.model, options, stream, echo, ...(metadata === undefined ? {} : { metadata }) };
}

/**
 * Items become Keel's messages: a function call joins the assistant turn before it, and the
 * outputs of one turn's calls travel together as one tool message.
 */
function toMessages(items: InputItem[]): MessageV1[] {
  const converted: MessageV1[] = [];
  // An output answers a call of an earlier item; its function name comes from there.
  const calls = new Map<string, string>();
  items.forEach((item, index) => {
    const previous = converted.at(-1);
    switch (item.type) {
      case 'message': {
        const text = typeof item.content === 'string' ? item.content : item.content.map((part) => (part.type === 'refusal' ? part.refusal : part.text)).join('');
        if (item.role === 'system' || item.role === 'developer') converted.push({ role: 'system', content: text });
        else if (item.role === 'user') converted.push({ role: 'user', content: [{ type: 'text', text }] });
        else converted.push({ role: 'assistant', content: text === '' ? [] : [{ type: 'text', text }] });
        break;
      }
      case 'function_call': {
        calls.set(item.call_id, item.name);
        const call = { type: 'tool-call' as const, toolCallId: item.call_id, toolName: item.name, input: parseToolArguments(item.arguments) };
        if (previous?.role === 'assistant') previous.content.push(call);
        else converted.push({ role: 'assistant', content: [call] });
        break;
      }
      case 'function_call_output': {
        const toolName = calls.get(item.call_id);
        if (toolName === undefined) {
          throw invalidRequest(`No tool call found for function call output with call_id ${JSON.stringify(item.call_id)}: an earlier function_call item must have it.`, `input[${index}].call_id`);
        }
        const output = typeof item.output === 'string' ? item.output : item.output.map((part) => (part.type === 'refusal' ? part.refusal : part.text)).join('');
        const result: ToolResultPartV1 = { type: 'tool-result', toolCallId: item.call_id, toolName, output };
        if (previous?.role === 'tool') previous.content.push(result);
        else converted.push({ role: 'tool', content: [result] });
        break;
      }
    }
  });
  return converted;
}

function toolChoice(choice: NonNullable<ParsedResponsesRequest['tool_choice']>, names: string[]): ToolChoiceV1 {
  if (typeof choice === 'string') return choice;
  if (!names.includes(choice.name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': function ${JSON.stringify(choice.name)} is not one of the tools (${names.join(', ')}).`, 'tool_choice.name');
  }
  return { toolName: choice.name };
}

function formatOf(format: NonNullable<ParsedResponsesRequest['text']>['format']): ResponseFormatV1 | undefined {
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json' };
  return { type: 'json', name: format.name, schema: format.schema };
}
