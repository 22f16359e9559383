import type { FinishReasonV1, GenerateResultV1, UsageV1 } from '../../spec/index.ts';
import { toolArgumentsText } from '../../models/index.ts';
import type { ResponseEcho } from './responses-request.ts';

/** What names one response: its id (`resp_…`), the base of its items' ids, the model asked for, its creation second. */
export interface ResponseIdentity {
  id: string;
  itemBase: string;
  model: string;
  createdAt: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** An output item: an assistant message, or a function call for the client to run. */
export type OutputItem =
  | { id: string; type: 'message'; status: ResponseStatus; role: 'assistant'; content: ({ type: 'output_text'; text: string; annotations: []; logprobs: [] } | { type: 'refusal'; refusal: string })[] }
  | { id: string; type: 'function_call'; status: ResponseStatus; call_id: string; name: string; arguments: string };

export function messageItemId(identity: ResponseIdentity, index: number): string {
  return `msg_${identity.itemBase}_${index}`;
}

export function functionCallItemId(identity: ResponseIdentity, index: number): string {
  return `fc_${identity.itemBase}_${index}`;
}

/** A finish that is not a whole answer makes the response `incomplete`, saying why. */
export function responseStatus(reason: FinishReasonV1): { status: 'completed' | 'incomplete'; incompleteDetails: { reason: string } | null } {
  if (reason === 'length') return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  if (reason === 'content-filter') return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  return { status: 'completed', incompleteDetails: null };
}

export function responseUsage(usage: UsageV1) {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** The `response` object at any stage: the request's settings echoed, the output so far, the usage once known. */
export function responseObject(
  identity: ResponseIdentity,
  echo: ResponseEcho,
  state: { status: ResponseStatus; output: OutputItem[]; usage?: UsageV1; incompleteDetails?: { reason: string } | null; error?: { code: string; message: string } | null },
) {
  return {
    id: identity.id,
    object: 'response',
    created_at: identity.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incompleteDetails ?? null,
    instructions: echo.instructions,
    max_output_tokens: echo.maxOutputTokens,
    model: identity.model,
    output: state.output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: null,
    store: false,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.toolChoice,
    tools: echo.tools,
    top_p: echo.topP,
    truncation: 'disabled',
    usage: state.usage === undefined ? null : responseUsage(state.usage),
    metadata: echo.metadata,
    ...(echo.user === undefined ? {} : { user: echo.user }),
  };
}

/** Keel's whole answer as a `response` object: its text as one message, each tool call as a function_call item. */
export function wholeResponse(result: GenerateResultV1, identity: ResponseIdentity, echo: ResponseEcho) {
  const output: OutputItem[] = [];
  const text = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  if (text !== '' || result.refusal !== undefined) {
    const content: Extract<OutputItem, { type: 'message' }>['content'] = [];
    if (text !== '') content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
    if (result.refusal !== undefined) content.push({ type: 'refusal', refusal: result.refusal });
    output.push({ id: messageItemId(identity, 0), type: 'message', status: 'completed', role: 'assistant', content });
  }
  for (const part of result.content) {
    if (part.type !== 'tool-call') continue;
    output.push({ id: functionCallItemId(identity, output.length), type: 'function_call', status: 'completed', call_id: part.toolCallId, name: part.toolName, arguments: toolArgumentsText(part.input) });
  }
  const { status, incompleteDetails } = responseStatus(result.finishReason);
  return responseObject(identity, echo, { status, output, usage: result.usage, incompleteDetails });
}
