import type { JsonValue } from '../../spec/index.ts';

type Schema = { [key: string]: JsonValue };

const words = ['amber', 'brisk', 'cedar', 'delta', 'ember', 'fjord', 'granite', 'harbor', 'indigo', 'juniper', 'kestrel', 'lumen'];

/** Deeper than any schema a tool or response format needs; stops a recursive `$ref` from looping. */
const maxDepth = 12;

/**
 * A value that follows a JSON Schema, drawn from `random`, so one seed always gives the same
 * value. The subset is what structured-output schemas use (and what zod emits): `type` (one or a
 * list; `null` is picked last), `properties` (every one is filled, required or not), `required`,
 * `enum`, `const`, `anyOf`/`oneOf` (one branch), `allOf` (merged), local `$ref`, `minimum`/
 * `maximum` and their exclusive forms, `minItems`/`maxItems`/`items`, `minLength`/`maxLength`,
 * and string `format` (date-time, date, email, uri, uuid). `pattern` is not honoured.
 */
export function sampleFromSchema(schema: JsonValue, random: () => number): JsonValue {
  return sample(schema, random, schema, 0);
}

function sample(node: JsonValue, random: () => number, root: JsonValue, depth: number): JsonValue {
  if (!isSchema(node) || depth > maxDepth) return null;
  if (typeof node.$ref === 'string') return sample(resolveReference(node.$ref, root), random, root, depth + 1);
  if (node.const !== undefined) return node.const;
  if (Array.isArray(node.enum) && node.enum.length > 0) return pick(node.enum, random);
  const branches = node.anyOf ?? node.oneOf;
  if (Array.isArray(branches) && branches.length > 0) return sample(pick(branches, random), random, root, depth + 1);
  if (Array.isArray(node.allOf)) return sample(mergeAll(node), random, root, depth + 1);
  switch (typeOf(node)) {
    case 'object':
      return sampleObject(node, random, root, depth);
    case 'array':
      return sampleArray(node, random, root, depth);
    case 'integer':
      return sampleNumber(node, random, true);
    case 'number':
      return sampleNumber(node, random, false);
    case 'boolean':
      return random() < 0.5;
    case 'null':
      return null;
    default:
      return sampleString(node, random);
  }
}

function typeOf(node: Schema): string {
  const type = node.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const concrete = type.find((candidate) => candidate !== 'null') ?? type[0];
    return typeof concrete === 'string' ? concrete : 'string';
  }
  if (node.properties !== undefined) return 'object';
  if (node.items !== undefined) return 'array';
  return 'string';
}

function sampleObject(node: Schema, random: () => number, root: JsonValue, depth: number): JsonValue {
  const value: Schema = {};
  const properties = isSchema(node.properties) ? node.properties : {};
  for (const [key, property] of Object.entries(properties)) value[key] = sample(property, random, root, depth + 1);
  // A required field with no schema still has to be there for the output to validate.
  for (const key of Array.isArray(node.required) ? node.required : []) {
    if (typeof key === 'string' && !(key in value)) value[key] = sampleString({}, random);
  }
  return value;
}

function sampleArray(node: Schema, random: () => number, root: JsonValue, depth: number): JsonValue {
  const minimum = numberOr(node.minItems, 1);
  const maximum = Math.max(minimum, Math.min(numberOr(node.maxItems, minimum + 2), minimum + 3));
  const count = minimum + Math.floor(random() * (maximum - minimum + 1));
  return Array.from({ length: count }, () => sample(node.items ?? {}, random, root, depth + 1));
}

function sampleNumber(node: Schema, random: () => number, integer: boolean): number {
  const step = integer ? 1 : 0.01;
  const low = typeof node.exclusiveMinimum === 'number' ? node.exclusiveMinimum + step : numberOr(node.minimum, 0);
  const high = typeof node.exclusiveMaximum === 'number' ? node.exclusiveMaximum - step : numberOr(node.maximum, low + 100);
  if (integer) {
    const floor = Math.ceil(low);
    return floor + Math.floor(random() * (Math.max(floor, Math.floor(high)) - floor + 1));
  }
  return Math.min(high, Math.max(low, Math.round((low + random() * (high - low)) * 100) / 100));
}

function sampleString(node: Schema, random: () => number): string {
  const word = pick(words, random);
  switch (node.format) {
    case 'date-time':
      return new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 365 * 86_400) * 1000).toISOString();
    case 'date':
      return new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 365) * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return `${word}@example.com`;
    case 'uri':
    case 'url':
      return `https://example.com/${word}`;
    case 'uuid':
      return uuid(random);
  }
  const count = 1 + Math.floor(random() * 3);
  let text = [word, ...Array.from({ length: count - 1 }, () => pick(words, random))].join(' ');
  const minimum = numberOr(node.minLength, 0);
  while (text.length < minimum) text += ` ${pick(words, random)}`;
  return text.slice(0, Math.max(minimum, numberOr(node.maxLength, text.length))).padEnd(minimum, 'x');
}

function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function mergeAll(node: Schema): Schema {
  const { allOf, ...rest } = node;
  const merged: Schema = { ...rest };
  for (const part of Array.isArray(allOf) ? allOf : []) {
    if (!isSchema(part)) continue;
    const properties = { ...(isSchema(merged.properties) ? merged.properties : {}), ...(isSchema(part.properties) ? part.properties : {}) };
    const required = [...(Array.isArray(merged.required) ? merged.required : []), ...(Array.isArray(part.required) ? part.required : [])];
    Object.assign(merged, part, { properties, required });
  }
  return merged;
}

/** Local references only (`#/$defs/Name`, `#/definitions/Name`): schemas sent to models are self-contained. */
function resolveReference(reference: string, root: JsonValue): JsonValue {
  if (!reference.startsWith('#')) return {};
  let node: JsonValue | undefined = root;
  for (const segment of reference.slice(1).split('/').filter((part) => part !== '')) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isSchema(node) ? node[key] : undefined;
  }
  return node ?? {};
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function numberOr(value: JsonValue | undefined, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function isSchema(value: JsonValue | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
