import { invalidRequest } from './gateway-failure.ts';

/**
 * The request body as a JSON object, or a 400 saying why not: no body, text that is not JSON, or
 * JSON that is not an object. Its size was already limited (see gateway.ts).
 */
export async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === '') throw invalidRequest('the request has no body: send a JSON object', undefined, 'body_missing');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidRequest(`the request body is not valid JSON (${reason})`, undefined, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest(`the request body must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`, undefined, 'invalid_json');
  }
  return value as Record<string, unknown>;
}
