import type { JsonValue } from '../spec/index.ts';

/**
 * A tool call's arguments as a client sends them back (OpenAI: JSON text). Text that is not JSON
 * stays the raw string, the spec's rule for arguments a model got wrong; empty text is no arguments.
 */
export function parseToolArguments(text: string): JsonValue {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** The inverse: a string input is the raw text the model sent, so it goes out as it came. */
export function toolArgumentsText(input: JsonValue): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** Anthropic's `tool_use.input` is always an object; raw or scalar arguments are wrapped as `{ value }`. */
export function toolInputObject(input: JsonValue): { [key: string]: JsonValue } {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? input : { value: input };
}
