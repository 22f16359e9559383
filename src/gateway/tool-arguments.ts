import type { JsonValue } from '../spec/index.ts';

/** Anthropic's `tool_use.input` is always an object; raw or scalar arguments are wrapped as `{ value }`. */
export function toolInputObject(input: JsonValue): { [key: string]: JsonValue } {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? input : { value: input };
}
