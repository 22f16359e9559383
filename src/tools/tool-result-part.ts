import type { JsonValue, ToolCallPartV1, ToolResultPartV1 } from '../spec/index.ts';
import type { ToolCallOutcome } from './tool-call-outcome.ts';

/**
 * What the model is told about its call. Refusals and failures say what happened in words it can
 * act on (fix the arguments, try another way, wait), without policy internals or stack traces.
 */
export function toolResultPart(call: Pick<ToolCallPartV1, 'toolCallId' | 'toolName'>, outcome: ToolCallOutcome): ToolResultPartV1 {
  const part = { type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName } as const;
  if (outcome.status === 'ok') return { ...part, output: outcome.output };
  return { ...part, output: errorOutput(outcome), isError: true };
}

function errorOutput(outcome: Exclude<ToolCallOutcome, { status: 'ok' }>): JsonValue {
  switch (outcome.status) {
    case 'arguments-invalid':
      return { error: 'arguments-invalid', message: 'The arguments do not match the tool schema. Fix them and call again.', validationErrors: outcome.validationErrors };
    case 'denied': {
      const output: JsonValue = { error: 'denied', reason: outcome.reason, message: outcome.message };
      if (outcome.retryAfterMs !== undefined) output.retryAfterMs = outcome.retryAfterMs;
      return output;
    }
    case 'approval-required':
      return { error: 'approval-required', message: `This call needs a person's approval: ${outcome.reason}` };
    case 'failed':
      return { error: 'failed', message: outcome.error.message, retryable: outcome.error.retryable };
  }
}
