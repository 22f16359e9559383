/**
 * The agent's model call, as LangChain would make it (its `wrapModelCall` handler: the request's
 * model with its tools bound), seen as a Keel LanguageModelV1, so Keel's governed route (routing,
 * budget, retries, breaker, attempt timeout) and the engine's durable model step apply to it
 * unchanged. What governance decides is laid over the call: the attempt's abort signal and, for a
 * Keel chat model, the output bound the budget reserved for. The answer, an AIMessage, comes back
 * in Keel's terms; a provider's failure comes back classified, as a Keel adapter would classify it.
 */
import type { AIMessage } from '@langchain/core/messages';
import { KeelError } from '../errors/index.ts';
import { codeForStatus, ModelCallError, parseRetryAfter } from '../models/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamPartV1, StreamResultV1 } from '../spec/index.ts';
import { KeelChatModel } from './keel-chat-model.ts';
import { keelResultOf } from './message-translation.ts';

/** The part of LangChain's model request Keel needs: the handler takes it back with settings laid over. */
export interface HandledRequest {
  model: unknown;
  modelSettings?: Record<string, unknown>;
}

export class HandlerKeelModel<Request extends HandledRequest> implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly #handler: (request: Request) => Promise<AIMessage> | AIMessage;
  readonly #request: Request;

  constructor(handler: (request: Request) => Promise<AIMessage> | AIMessage, request: Request, name: { provider: string; modelId: string }) {
    this.#handler = handler;
    this.#request = request;
    this.provider = name.provider;
    this.modelId = name.modelId;
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const settings: Record<string, unknown> = { ...this.#request.modelSettings };
    // LangChain merges a bound signal with the agent's own (AbortSignal.any): either stops the call.
    if (options.abortSignal !== undefined) settings.signal = options.abortSignal;
    if (options.maxOutputTokens !== undefined && this.#request.model instanceof KeelChatModel) settings.maxOutputTokens = options.maxOutputTokens;
    let message: AIMessage;
    try {
      message = await this.#handler({ ...this.#request, modelSettings: settings });
    } catch (error) {
      throw modelCallErrorOf(error, this, options.abortSignal);
    }
    return keelResultOf(message, this.modelId);
  }

  /** Keel's model step asks for a stream only when it is given a part listener; the middleware never does. */
  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    const result = await this.doGenerate(options);
    async function* parts(): AsyncGenerator<StreamPartV1> {
      yield { type: 'response-start', response: result.response };
      for (const part of result.content) yield part.type === 'text' ? { type: 'text-delta', delta: part.text } : part;
      yield { type: 'finish', finishReason: result.finishReason, usage: result.usage };
    }
    return { stream: parts() };
  }
}

/**
 * A LangChain model's failure, classified as Keel's adapters classify theirs: a KeelError as it is,
 * an HTTP status (the OpenAI and Anthropic SDKs put it on `status`, and the response's headers on
 * `headers`, read for retry-after) by its code, the attempt's
 * signal as a timeout or an abort, anything else as a model error not worth retrying.
 */
export function modelCallErrorOf(error: unknown, model: { provider: string; modelId: string }, signal: AbortSignal | undefined): KeelError {
  if (error instanceof KeelError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    const timedOut = typeof reason === 'object' && reason !== null && (('name' in reason && reason.name === 'TimeoutError') || ('code' in reason && reason.code === 'model-timeout'));
    return new ModelCallError(timedOut ? 'model-timeout' : 'model-aborted', `${model.provider}:${model.modelId}: ${message}`, model, { cause: error });
  }
  const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : undefined;
  if (status !== undefined) {
    const headers = typeof error === 'object' && error !== null && 'headers' in error && error.headers instanceof Headers ? error.headers : undefined;
    const retryAfterMs = headers === undefined ? undefined : parseRetryAfter(headers);
    return new ModelCallError(codeForStatus(status), `${model.provider}:${model.modelId}: ${message}`, { ...model, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }, { cause: error });
  }
  return new ModelCallError('model-error', `${model.provider}:${model.modelId}: ${message}`, model, { retryable: false, cause: error });
}
