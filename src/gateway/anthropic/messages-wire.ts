import { generatedAnswer } from '../gateway-runs.ts';
import type { WireFormat } from '../serve-call.ts';
import { anthropicErrorResponse } from './anthropic-error.ts';
import { messageObject } from './messages-response.ts';
import { MessageEventEncoder } from './messages-stream.ts';

/** Messages: a message's id is its run's (`msg_<uuid without dashes>` for `run_<uuid>`). */
export function messagesWire(model: string): WireFormat {
  const identity = (runId: string) => ({ id: `msg_${runId.replace(/^run_/, '').replaceAll('-', '')}`, model });
  return {
    api: 'anthropic.messages',
    error: (failure, runId) => anthropicErrorResponse(failure, runId),
    answer: (result, runId) => messageObject(generatedAnswer(result), identity(runId)),
    events: (runId) => {
      const encoder = new MessageEventEncoder(identity(runId));
      return { part: (part) => encoder.part(part), end: () => '', error: (failure) => encoder.error(failure, runId) };
    },
  };
}
