import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { FinishReasonV1 } from '../../spec/index.ts';

/**
 * Anthropic's stop reason as Keel's finish reason. A `tool_use` stop whose only tool call was the
 * structured-output response tool is an answer, not a request to run tools, so it is `stop`.
 */
export function toFinishReason(stopReason: StopReason | null, calledCallerTools: boolean): FinishReasonV1 {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return calledCallerTools ? 'tool-calls' : 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'refusal';
    default:
      // pause_turn (a server tool's long turn, to be continued), a reason newer than this
      // adapter, or none at all.
      return 'other';
  }
}
