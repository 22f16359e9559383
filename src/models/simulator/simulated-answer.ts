import { canonicalJson } from '../../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, JsonValue, TextPartV1, ToolCallPartV1 } from '../../spec/index.ts';
import { driftJson, truncateJson } from './corrupt-json.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { seededRandom, seedFrom } from './seeded-random.ts';
import type { Fault } from './simulator-faults.ts';
import type { SimulatedTurn } from './simulator-script.ts';
import { structuredText } from './structured-output.ts';

export interface AnswerInput {
  request: GenerateOptionsV1;
  turn: SimulatedTurn;
  /** The conversation's seed: ids and structured output depend on it and nothing else. */
  seed: number;
  modelId: string;
  inputTokens: number;
  /** A fault that reshapes the answer (`malformed-json`, `schema-drift`), if this call has one. */
  fault: Fault | undefined;
}

/**
 * The provider's answer for a turn: structured output applied, then any JSON fault, with ids and
 * usage derived from the conversation seed. `faulted` says whether the fault found JSON to corrupt;
 * one that did not (a plain-text answer) changed nothing and is not reported.
 */
export function simulatedAnswer(input: AnswerInput): { result: GenerateResultV1; faulted: boolean } {
  const { request, turn, seed } = input;
  let text = turn.text;
  const format = request.responseFormat;
  const jsonText = turn.type === 'text' && format?.type === 'json';
  if (jsonText && text !== undefined) text = structuredText(text, format, seededRandom(seedFrom(`${seed}:structured-output`)));
  let calls = turn.type === 'tool-calls' ? turn.calls : [];
  let faulted = false;
  const fault = input.fault?.type === 'malformed-json' || input.fault?.type === 'schema-drift' ? input.fault : undefined;
  if (fault !== undefined && jsonText && text !== undefined) {
    text = fault.type === 'malformed-json' ? truncateJson(text) : JSON.stringify(driftJson(JSON.parse(text) as JsonValue, fault));
    faulted = true;
  } else if (fault !== undefined && calls.length > 0) {
    // Arguments that no longer parse reach the harness as the raw text, as adapters pass them on.
    calls = calls.map((call) => ({ toolName: call.toolName, input: fault.type === 'malformed-json' ? truncateJson(JSON.stringify(call.input)) : driftJson(call.input, fault) }));
    faulted = true;
  }
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  if (text !== undefined && text !== '') content.push({ type: 'text', text });
  calls.forEach((call, index) => {
    content.push({ type: 'tool-call', toolCallId: `call_${seed.toString(16)}_${index}`, toolName: call.toolName, input: call.input });
  });
  const result: GenerateResultV1 = {
    content,
    finishReason: turn.type === 'tool-calls' ? 'tool-calls' : 'stop',
    usage: { inputTokens: input.inputTokens, outputTokens: estimateTokens(canonicalJson(content)) },
    response: { id: responseId(seed), modelId: input.modelId },
  };
  return { result, faulted };
}

/** A refusal: no content, the explanation in `refusal`, as providers with native refusals answer. */
export function refusalAnswer(message: string, seed: number, modelId: string, inputTokens: number): GenerateResultV1 {
  return {
    content: [],
    finishReason: 'refusal',
    usage: { inputTokens, outputTokens: estimateTokens(message) },
    response: { id: responseId(seed), modelId },
    refusal: message,
  };
}

function responseId(seed: number): string {
  return `sim-${seed.toString(16).padStart(8, '0')}`;
}
