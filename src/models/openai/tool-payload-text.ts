import type { JsonValue, ToolResultPartV1 } from '../../spec/index.ts';

/**
 * Tool-call arguments arrive as JSON text. Text that does not parse is passed on raw (the spec's
 * rule), so the caller can see what the model actually sent. Empty text is a call with no
 * arguments: some servers send "" for parameterless functions.
 */
export function parseToolArguments(text: string): JsonValue {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * The inverse, for replaying an assistant turn. A string input is the raw text the model sent
 * (function parameters are always objects), so it goes back verbatim rather than re-quoted.
 */
export function toolArgumentsText(input: JsonValue): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/**
 * A tool result as the text OpenAI carries: strings verbatim (the model reads text, quotes are
 * noise), anything else as JSON. OpenAI has no error flag on tool output, so a failed tool's
 * output is wrapped as `{"error": …}` to tell the model it failed.
 */
export function toolOutputText(part: ToolResultPartV1): string {
  if (part.isError === true) return JSON.stringify({ error: part.output });
  return typeof part.output === 'string' ? part.output : JSON.stringify(part.output);
}
