import type { FailureKind, GatewayFailure } from '../gateway-failure.ts';
import { retryAfterHeaders } from '../gateway-failure.ts';
import { jsonResponse } from '../json-response.ts';

/** A failure as Anthropic reports it: status, `{type: 'error', error: {type, message}, request_id}`, headers. */
export interface AnthropicErrorResponse {
  status: number;
  body: { type: 'error'; error: { type: string; message: string }; request_id: string | null };
  headers: Record<string, string>;
}

// Anthropic's own table (docs: API errors): a budget stop is its `billing_error`, a 402.
const shapes: Record<FailureKind, { status: number; type: string }> = {
  'invalid-request': { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'authentication_error' },
  'not-found': { status: 404, type: 'not_found_error' },
  // Anthropic has no conflict type of its own: a 409 is an invalid request in its table.
  conflict: { status: 409, type: 'invalid_request_error' },
  'too-large': { status: 413, type: 'request_too_large' },
  permission: { status: 403, type: 'permission_error' },
  budget: { status: 402, type: 'billing_error' },
  'rate-limited': { status: 429, type: 'rate_limit_error' },
  overloaded: { status: 529, type: 'overloaded_error' },
  timeout: { status: 504, type: 'timeout_error' },
  upstream: { status: 502, type: 'api_error' },
  internal: { status: 500, type: 'api_error' },
};

export function anthropicError(failure: GatewayFailure, requestId: string | null = null): AnthropicErrorResponse {
  const shape = shapes[failure.kind];
  return {
    status: shape.status,
    body: { type: 'error', error: { type: shape.type, message: failure.message }, request_id: requestId },
    headers: { ...(failure.kind === 'budget' ? { 'x-should-retry': 'false' } : {}), ...retryAfterHeaders(failure) },
  };
}

/** The failure as a response; `runId` names the run it ended, when there was one, and is the request id. */
export function anthropicErrorResponse(failure: GatewayFailure, runId?: string): Response {
  const { status, body, headers } = anthropicError(failure, runId ?? null);
  return jsonResponse(body, status, runId === undefined ? headers : { ...headers, 'keel-run-id': runId });
}
