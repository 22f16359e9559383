import type { ContractViolation } from './contract-violation.ts';

export type ParsedJsonText = { ok: true; value: unknown } | { ok: false; violation: ContractViolation };

/**
 * The model's text as a JSON value, or a `json-invalid` violation saying what is wrong with it in
 * words of our own (the JavaScript parser's wording differs between Node versions, and these
 * messages are journaled and replayed). A single ```json fence around the value is accepted:
 * models without native structured output add one out of habit, and it hides nothing.
 */
export function parseJsonText(text: string): ParsedJsonText {
  const body = unfenced(text.trim());
  if (body === '') return invalid('the answer is empty; expected a JSON value');
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return invalid(diagnose(body));
  }
}

function invalid(message: string): ParsedJsonText {
  return { ok: false, violation: { path: '$', code: 'json-invalid', message: `not valid JSON: ${message}` } };
}

function unfenced(text: string): string {
  const fence = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i.exec(text);
  return fence?.[1]?.trim() ?? text;
}

/** A structural reading of text JSON.parse refused: cut short, wrapped in prose, or broken inside. */
function diagnose(text: string): string {
  const first = text[0] ?? '';
  if (!/[[{"\-0-9tfn]/.test(first)) return 'it starts with text that is not JSON; reply with the JSON value only';
  const scan = scanStructure(text);
  if (scan.inString) return 'the text ends inside a string, before the JSON value is complete';
  if (scan.unclosed > 0) return `the text ends before the JSON value is complete (${scan.unclosed} unclosed ${scan.unclosed === 1 ? 'bracket' : 'brackets'})`;
  if (scan.endOfValue !== undefined && text.slice(scan.endOfValue).trim() !== '') return 'there is text after the JSON value; reply with the JSON value only';
  return 'a syntax error inside the value (such as a missing comma, colon or quote, or a trailing comma)';
}

interface Structure {
  inString: boolean;
  unclosed: number;
  /** Index just past the first complete object or array, when there is one. */
  endOfValue: number | undefined;
}

function scanStructure(text: string): Structure {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let endOfValue: number | undefined;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inString) {
      if (escaped) escaped = false;
      else if (character === '\\') escaped = true;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') inString = true;
    else if (character === '{' || character === '[') depth += 1;
    else if (character === '}' || character === ']') {
      depth -= 1;
      if (depth === 0 && endOfValue === undefined) endOfValue = index + 1;
    }
  }
  return { inString, unclosed: Math.max(0, depth), endOfValue };
}
