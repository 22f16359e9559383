import { codeForStatus, isTimeoutReason, ModelCallError } from '../model-call-error.ts';
import type { Fault } from './simulator-faults.ts';

export interface SimulatedCallIdentity {
  provider: string;
  modelId: string;
  /** Stands in for the provider's request id header, so an injected failure can be traced like a real one. */
  requestId: string;
}

type FailingFault = Extract<Fault, { type: 'server-error' | 'rate-limit' | 'overloaded' | 'truncated-stream' }>;

/**
 * The error a real adapter would throw for this failure, with the same code, status and
 * retry-after, so resilience policy cannot tell a drill from an outage.
 */
export function faultError(fault: FailingFault, call: SimulatedCallIdentity): ModelCallError {
  const name = `${call.provider}:${call.modelId}`;
  switch (fault.type) {
    case 'server-error': {
      const status = fault.status ?? 500;
      return new ModelCallError(codeForStatus(status), `${name} answered HTTP ${status} (injected fault)`, { ...call, status, providerCode: 'server_error' });
    }
    case 'rate-limit':
      return new ModelCallError('model-rate-limited', `${name} answered HTTP 429, retry after ${fault.retryAfterMs} ms (injected fault)`, {
        ...call,
        status: 429,
        retryAfterMs: fault.retryAfterMs,
        providerCode: 'rate_limit_error',
      });
    case 'overloaded':
      return new ModelCallError('model-overloaded', `${name} answered HTTP 529, overloaded (injected fault)`, { ...call, status: 529, providerCode: 'overloaded_error' });
    case 'truncated-stream':
      return new ModelCallError('model-stream-truncated', `${name}'s stream ended after ${fault.afterParts} parts, before finish (injected fault)`, call);
  }
}

/** The caller stopped waiting (its abortSignal fired, or an injected hang ran out). */
export function timeoutError(call: SimulatedCallIdentity, reason: string, cause?: unknown): ModelCallError {
  return new ModelCallError('model-timeout', `${call.provider}:${call.modelId} ${reason}`, call, cause === undefined ? {} : { cause });
}

/** The caller's signal fired while the simulator was answering: a deadline is a timeout, anything else a cancellation, as in the real adapters. */
export function abortError(call: SimulatedCallIdentity, reason: string, cause: unknown): ModelCallError {
  if (isTimeoutReason(cause)) return timeoutError(call, reason, cause);
  return new ModelCallError('model-aborted', `${call.provider}:${call.modelId} ${reason}`, call, cause === undefined ? { retryable: false } : { retryable: false, cause });
}
