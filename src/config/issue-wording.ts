import { z } from 'zod';
import type { core } from 'zod';

/**
 * How a config problem is worded. Zod's own messages ("Invalid input: expected int, received
 * number") name neither the setting nor the value; this error map says what the setting must be
 * and what it was. Messages set on a schema itself take precedence over it.
 */
export const configErrorMap: core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${Number(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive === true ? '≥' : '>'} ${Number(issue.minimum)}, got ${describeValue(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'array') return `must list at most ${Number(issue.maximum)} items`;
      return `must be ${issue.inclusive === true ? '≤' : '<'} ${Number(issue.maximum)}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? describeValue(issue.values[0]) : `one of ${issue.values.map(describeValue).join(', ')}`}, got ${describeValue(issue.input)}`;
    case 'unrecognized_keys': {
      // The key itself goes into the path (see issueLine); the message lists what is allowed.
      const allowed = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
      return `unknown setting${allowed.length === 0 ? '' : ` (allowed here: ${allowed.join(', ')})`}`;
    }
    case 'invalid_key':
      // A record key that fails its schema: the key schema's own message says why.
      return issue.issues[0]?.message ?? `invalid key ${describeValue(issue.input)}`;
    default:
      return undefined;
  }
};

/** One line: `SOURCE: PATH: MESSAGE`, the path written as in JavaScript (`routes[0].models[1]`). */
export function issueLine(issue: core.$ZodIssue, source: string): string {
  const path = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  const where = settingPath(path);
  return `${source}: ${where === '' ? '' : `${where}: `}${issue.message.replace(/\s*\n\s*/g, ' ')}`;
}

export function settingPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** A value as the user wrote it, short enough for one line. */
export function describeValue(value: unknown): string {
  let text: string;
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'string':
      text = `'${value}'`;
      break;
    case 'number':
    case 'boolean':
    case 'bigint':
      text = String(value);
      break;
    case 'symbol':
      text = value.toString();
      break;
    default:
      return value === null ? 'null' : Array.isArray(value) ? 'a list' : 'an object';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    default:
      return `a ${expected}`;
  }
}
