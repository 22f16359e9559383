import type { FailureKind, GatewayFailure } from '../gateway-failure.ts';
import { retryAfterHeaders } from '../gateway-failure.ts';
import { jsonResponse } from '../json-response.ts';

/** A failure as OpenAI reports it: status, `{error: {message, type, param, code}}`, headers. */
export interface OpenAIErrorResponse {
  status: number;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
  headers: Record<string, string>;
}

// OpenAI reports an exhausted quota as a 429 of type `insufficient_quota`, and so does Keel's
// budget stop; clients tell it from a rate limit by its type, and `x-should-retry: false` keeps
// the official clients from retrying what cannot succeed.
const shapes: Record<FailureKind, { status: number; type: string }> = {
  'invalid-request': { status: 400, type: 'invalid_request_error' },
  // OpenAI answers a wrong key with a 401 of this type and code `invalid_api_key`.
  authentication: { status: 401, type: 'invalid_request_error' },
  'not-found': { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  'too-large': { status: 413, type: 'invalid_request_error' },
  permission: { status: 403, type: 'permission_error' },
  budget: { status: 429, type: 'insufficient_quota' },
  'rate-limited': { status: 429, type: 'rate_limit_error' },
  overloaded: { status: 503, type: 'server_error' },
  timeout: { status: 504, type: 'server_error' },
  upstream: { status: 502, type: 'server_error' },
  internal: { status: 500, type: 'server_error' },
};

export function openAIError(failure: GatewayFailure): OpenAIErrorResponse {
  const shape = shapes[failure.kind];
  return {
    status: shape.status,
    // OpenAI's codes are snake_case; Keel's own (`budget-exceeded`) are written the same way here.
    body: { error: { message: failure.message, type: shape.type, param: failure.param ?? null, code: failure.code?.replaceAll('-', '_') ?? null } },
    headers: { ...(failure.kind === 'budget' ? { 'x-should-retry': 'false' } : {}), ...retryAfterHeaders(failure) },
  };
}

/** The failure as a response; `runId` names the run it ended, when there was one. */
export function openAIErrorResponse(failure: GatewayFailure, runId?: string): Response {
  const { status, body, headers } = openAIError(failure);
  return jsonResponse(body, status, runId === undefined ? headers : { ...headers, 'keel-run-id': runId });
}
