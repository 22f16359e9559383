import { generatedAnswer } from '../gateway-runs.ts';
import type { WireFormat } from '../serve-call.ts';
import { ChatChunkEncoder } from './chat-stream.ts';
import { chatCompletion } from './chat-response.ts';
import { openAIErrorResponse } from './openai-error.ts';

/** Chat Completions: a completion's id is its run's (`chatcmpl-<uuid>` for `run_<uuid>`). */
export function chatWire(model: string, includeUsage: boolean): WireFormat {
  const created = Math.floor(Date.now() / 1_000);
  const identity = (runId: string) => ({ id: `chatcmpl-${runId.replace(/^run_/, '')}`, model, created });
  return {
    api: 'openai.chat.completions',
    error: (failure, runId) => openAIErrorResponse(failure, runId),
    answer: (result, runId) => chatCompletion(generatedAnswer(result), identity(runId)),
    events: (runId) => new ChatChunkEncoder(identity(runId), includeUsage),
  };
}
