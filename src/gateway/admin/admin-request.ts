import { KeelError } from '../../errors/index.ts';

/** Longest body the admin API reads: its bodies are a few short fields. */
const maxAdminBodyBytes = 64 * 1024;

/**
 * The request body as a JSON object holding only `allowed` fields, or a `usage-invalid` (400)
 * naming the first problem. An empty body is an empty object: every admin body is optional or
 * checked field by field afterwards.
 */
export async function readAdminBody(request: Request, allowed: readonly string[]): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > maxAdminBodyBytes) throw new KeelError('usage-invalid', `the request body is larger than the admin API's ${maxAdminBodyBytes} bytes`);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new KeelError('usage-invalid', `the request body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KeelError('usage-invalid', 'the request body must be a JSON object');
  const unknown = Object.keys(value).filter((field) => !allowed.includes(field));
  if (unknown.length > 0) {
    throw new KeelError('usage-invalid', `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.slice(0, 5).map((field) => JSON.stringify(field.slice(0, 40))).join(', ')}; this endpoint takes ${allowed.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

/** A string field: undefined when absent, else a string of 1 to `max` characters (trimmed). */
export function optionalText(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw new KeelError('usage-invalid', `${field} must be a string of 1 to ${max} characters`);
  return value.trim();
}

export function requiredText(body: Record<string, unknown>, field: string, max: number, why: string): string {
  const value = optionalText(body, field, max);
  if (value === undefined) throw new KeelError('usage-invalid', `${field} is required: ${why}`);
  return value;
}

/** A positive whole number field, when present. */
export function optionalCount(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new KeelError('usage-invalid', `${field} must be a positive whole number, got ${JSON.stringify(value)}`);
  return value;
}

/** Who decides, as the CLI's `--as` names them: `user:NAME` unless a kind is given (`team:support`). */
export function deciderName(as: string): string {
  return as.includes(':') ? as : `user:${as}`;
}
