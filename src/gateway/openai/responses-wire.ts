import { generatedAnswer } from '../gateway-runs.ts';
import type { WireFormat } from '../serve-call.ts';
import { openAIErrorResponse } from './openai-error.ts';
import type { ResponseEcho } from './responses-request.ts';
import { wholeResponse } from './responses-response.ts';
import { ResponseEventEncoder } from './responses-stream.ts';

/** Responses: a response's id is its run's (`resp_<uuid without dashes>` for `run_<uuid>`), its items' ids follow. */
export function responsesWire(model: string, echo: ResponseEcho): WireFormat {
  const createdAt = Math.floor(Date.now() / 1_000);
  const identity = (runId: string) => {
    const base = runId.replace(/^run_/, '').replaceAll('-', '');
    return { id: `resp_${base}`, itemBase: base, model, createdAt };
  };
  return {
    api: 'openai.responses',
    error: (failure, runId) => openAIErrorResponse(failure, runId),
    answer: (result, runId) => wholeResponse(generatedAnswer(result), identity(runId), echo),
    events: (runId) => new ResponseEventEncoder(identity(runId), echo),
  };
}
