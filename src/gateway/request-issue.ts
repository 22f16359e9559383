import type { z } from 'zod';
import type { GatewayRequestError } from './gateway-failure.ts';
import { invalidRequest } from './gateway-failure.ts';

const maxListed = 5;

/** How a provider writes the path of a request field: OpenAI `messages[0].role`, Anthropic `messages.0.role`. */
export type PathStyle = 'openai' | 'anthropic';

/**
 * The first problem zod found in a request body, as one line in the provider's manner: a missing
 * field, a field the API does not have, or a value of the wrong kind, naming the field.
 */
export function requestIssue(error: z.ZodError, body: unknown, style: PathStyle): GatewayRequestError {
  const first = error.issues[0];
  if (first === undefined) return invalidRequest('the request body is not valid');
  const { issue, path } = innermost(first, keys(first.path));
  if (issue.code === 'unrecognized_keys') {
    // A body of many thousand unknown keys is told by its first few: the answer stays one short line.
    const fields = issue.keys.slice(0, maxListed).map((key) => fieldName([...path, key.length > 100 ? `${key.slice(0, 100)}…` : key], style));
    const more = issue.keys.length > maxListed ? ` (and ${issue.keys.length - maxListed} more)` : '';
    const listed = fields.map((field) => `'${field}'`).join(', ');
    const message = style === 'openai' ? `Unrecognized request argument supplied: ${fields.join(', ')}${more}` : `${listed}${more}: Extra inputs are not permitted`;
    return invalidRequest(message, fields[0], 'unknown_parameter');
  }
  const field = fieldName(path, style);
  if (path.length > 0 && valueAt(body, path) === undefined) {
    return invalidRequest(style === 'openai' ? `Missing required parameter: '${field}'.` : `${field}: Field required`, field, 'missing_required_parameter');
  }
  const detail = issue.message.replace(/^Invalid input: /, '');
  if (path.length === 0) return invalidRequest(`the request body is not valid: ${detail}`);
  return invalidRequest(style === 'openai' ? `Invalid value for '${field}': ${detail}.` : `${field}: ${detail}`, field, 'invalid_value');
}

/**
 * A value that matched no alternative of a union (a string or a list of parts, say) is explained by
 * the alternative it came closest to: the one whose problem lies deepest in the value.
 */
function innermost(issue: z.core.$ZodIssue, path: (string | number)[]): { issue: z.core.$ZodIssue; path: (string | number)[] } {
  if (issue.code !== 'invalid_union') return { issue, path };
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const candidate = branch[0];
    if (candidate !== undefined && (best === undefined || candidate.path.length > best.path.length)) best = candidate;
  }
  return best === undefined ? { issue, path } : innermost(best, [...path, ...keys(best.path)]);
}

function keys(path: readonly PropertyKey[]): (string | number)[] {
  return path.filter((key): key is string | number => typeof key !== 'symbol');
}

function fieldName(path: readonly (string | number)[], style: PathStyle): string {
  if (style === 'anthropic') return path.join('.');
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : name === '' ? key : `${name}.${key}`), '');
}

function valueAt(body: unknown, path: readonly (string | number)[]): unknown {
  let value = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
