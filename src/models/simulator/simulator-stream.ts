import type { GenerateResultV1, JsonValue, StreamPartV1 } from '../../spec/index.ts';
import { isJson } from './corrupt-json.ts';
import type { SimulatedCallIdentity } from './fault-error.ts';
import type { CallTiming } from './simulator-latency.ts';
import { wait } from './simulator-latency.ts';

export interface StreamPlan {
  result: GenerateResultV1;
  timing: CallTiming;
  /** Added before the first token: the `slow-first-token` fault. */
  extraFirstTokenMs: number;
  /** End with `truncation` after this many parts, before `finish`: the `truncated-stream` fault. */
  truncateAfterParts?: number;
  truncation?: () => Error;
  signal: AbortSignal | undefined;
  call: SimulatedCallIdentity;
}

/** Longest delta, in characters: providers stream about a token (a short word) at a time. */
const maxDeltaLength = 12;

/**
 * Streams an answer the way a provider does: `response-start` at once, the time to first token,
 * text a word or so per delta, each tool call's JSON arguments in pieces and then the whole call,
 * `finish` last; every delta after the first waits its share of the per-token time.
 */
export async function* streamAnswer(plan: StreamPlan): AsyncGenerator<StreamPartV1> {
  const parts = partsOf(plan.result);
  const limit = plan.truncateAfterParts === undefined ? parts.length : Math.min(plan.truncateAfterParts, parts.length - 1);
  for (const [index, { part, characters }] of parts.slice(0, limit).entries()) {
    if (index === 1) await wait(plan.timing.firstTokenMs + plan.extraFirstTokenMs, plan.signal, plan.call);
    else if (index > 1 && characters > 0) await wait((plan.timing.perOutputTokenMs * characters) / 4, plan.signal, plan.call);
    yield part;
  }
  if (limit < parts.length && plan.truncation !== undefined) throw plan.truncation();
}

function partsOf(result: GenerateResultV1): { part: StreamPartV1; characters: number }[] {
  const parts: { part: StreamPartV1; characters: number }[] = [{ part: { type: 'response-start', response: result.response }, characters: 0 }];
  for (const content of result.content) {
    if (content.type === 'text') {
      for (const delta of chunks(content.text)) parts.push({ part: { type: 'text-delta', delta }, characters: delta.length });
    } else {
      for (const inputDelta of chunks(argumentsText(content.input))) {
        parts.push({ part: { type: 'tool-call-delta', toolCallId: content.toolCallId, toolName: content.toolName, inputDelta }, characters: inputDelta.length });
      }
      parts.push({ part: content, characters: 0 });
    }
  }
  const finish: StreamPartV1 = { type: 'finish', finishReason: result.finishReason, usage: result.usage };
  if (result.refusal !== undefined) finish.refusal = result.refusal;
  parts.push({ part: finish, characters: 0 });
  return parts;
}

/** Word-sized pieces (a word with its trailing space), long runs such as JSON cut to `maxDeltaLength`. */
export function chunks(text: string): string[] {
  const pieces: string[] = [];
  for (const word of text.match(/\s*\S+\s*|\s+/g) ?? []) {
    for (let offset = 0; offset < word.length; offset += maxDeltaLength) pieces.push(word.slice(offset, offset + maxDeltaLength));
  }
  return pieces;
}

/** What went over the wire for a tool call's input: its JSON, or the raw text it could not be parsed from. */
function argumentsText(input: JsonValue): string {
  return typeof input === 'string' && !isJson(input) ? input : JSON.stringify(input);
}
