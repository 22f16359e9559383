import type { JsonValue } from '../../spec/index.ts';

/**
 * JSON cut off part way, the way a model that hit its token limit or lost the thread emits it:
 * the first 60% of the text, which for an object or array leaves it unclosed. Never valid JSON.
 */
export function truncateJson(text: string): string {
  const cut = text.slice(0, Math.max(1, Math.floor(text.length * 0.6)));
  return isJson(cut) ? `${cut},` : cut;
}

export interface Drift {
  rename?: { from: string; to: string };
  drop?: string[];
}

/**
 * The same answer after a silent model update: fields renamed or dropped wherever they appear,
 * key order otherwise kept. With neither given, the top-level object loses its first field.
 */
export function driftJson(value: JsonValue, drift: Drift): JsonValue {
  if (drift.rename === undefined && drift.drop === undefined) {
    if (!isObject(value)) return value;
    const [, ...rest] = Object.entries(value);
    return Object.fromEntries(rest);
  }
  return reshape(value, drift);
}

function reshape(value: JsonValue, drift: Drift): JsonValue {
  if (Array.isArray(value)) return value.map((item) => reshape(item, drift));
  if (!isObject(value)) return value;
  const entries: [string, JsonValue][] = [];
  for (const [key, field] of Object.entries(value)) {
    if (drift.drop?.includes(key) === true) continue;
    entries.push([key === drift.rename?.from ? drift.rename.to : key, reshape(field, drift)]);
  }
  return Object.fromEntries(entries);
}

export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
