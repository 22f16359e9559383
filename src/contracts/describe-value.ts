/**
 * Values as violation messages show them: JSON spelling, so the model reads back exactly what it
 * wrote, and short, so one huge string cannot flood the repair prompt or the journal.
 */
const longest = 60;

/** The JSON type of a value, with integers told apart from other numbers. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `"maybe"`, `9000`, `null`, `an object`, `an array of 3`. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (value === undefined) return 'nothing';
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  const text = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  return text.length > longest ? `${text.slice(0, longest - 3)}...` : text;
}

/** `integer 9000`, `string "maybe"`, `null`, `an object`: the type named, then the value. */
export function describeTypedValue(value: unknown): string {
  if (value === null || typeof value === 'object' || value === undefined) return describeValue(value);
  return `${jsonTypeOf(value)} ${describeValue(value)}`;
}
