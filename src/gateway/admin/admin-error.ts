import { KeelError } from '../../errors/index.ts';
import { jsonResponse } from '../json-response.ts';

/** Every admin failure: `{ error: { code, message } }`, the code one of Keel's stable error codes. */
export function adminErrorResponse(status: number, code: string, message: string): Response {
  return jsonResponse({ error: { code, message } }, status);
}

/** A thrown value as the admin API's answer: Keel errors keep their code and status; anything else is a 500. */
export function adminFailure(error: unknown, log: ((line: string) => void) | undefined, where: string): Response {
  if (error instanceof KeelError) return adminErrorResponse(error.httpStatus, error.code, error.message.split('\n')[0] ?? '');
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  log?.(`keel admin: internal error on ${where}: ${message}`);
  return adminErrorResponse(500, 'internal', `the admin API failed: ${message}`);
}
