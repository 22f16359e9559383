/**
 * `keelMiddleware`: any AI SDK model, wrapped with `wrapLanguageModel`, becomes a governed, durable
 * Keel model inside one run. Each call is:
 *   1. translated to Keel's request (call-options.ts), which is what is journaled and reserved for;
 *   2. the AI SDK model adapted to a Keel LanguageModelV1 (keel-model-of.ts; a model made by the
 *      Keel provider is used as the Keel model it is) and put behind the deployment's governed
 *      route: routing, budget reserved before and settled after, fallback, bulkhead, breaker,
 *      retries honouring retry-after, attempt timeout, the same stack an agent's calls take;
 *   3. run as the engine's durable model step (`context.model`): journaled with usage, cost and
 *      latency; on a resumed run the recorded answer is returned and the model is not called;
 *   4. translated back. Failures reach the framework as its APICallError (ai-sdk-error.ts), not
 *      retryable: Keel has retried as the route says, so set the AI SDK's `maxRetries: 0` or its
 *      retries only repeat a final answer.
 * A stream is streamed live and journaled whole; the finish part waits for the call's settlement so
 * it can carry the cost. A failure before the first part rejects the call (as a provider's HTTP
 * error would); after it, it errors the stream.
 */
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4GenerateResult, LanguageModelV4Middleware, LanguageModelV4StreamPart, LanguageModelV4StreamResult, SharedV4Warning } from '@ai-sdk/provider';
import type { AgentRuntime } from '../agent/index.ts';
import type { RunContext } from '../engine/index.ts';
import type { GenerateResultV1, LanguageModelV1, StreamPartV1 } from '../spec/index.ts';
import { aiSdkErrorOf } from './ai-sdk-error.ts';
import { keelRequestOf } from './call-options.ts';
import { aiSdkResultOf } from './generate-result.ts';
import { keelModelBehind, warningsFor } from './keel-language-model.ts';
import { AiSdkKeelModel, keelNameOf } from './keel-model-of.ts';
import { throwIfRunInterrupted } from '../framework/index.ts';
import { AiSdkStreamWriter, streamPartsOf } from './stream-parts.ts';

export interface KeelMiddlewareOptions {
  /** The run the calls belong to: the task function's context. */
  run: RunContext;
  /** The deployment's governance: `keel.runtime` (routes and prices from its config, budgets on its store). */
  runtime: AgentRuntime;
  /**
   * A route of the config to call through; it must list the wrapped model (by `name`), which stands
   * in for that entry. Default: the wrapped model alone, as a route of one.
   */
  route?: string;
  /**
   * The wrapped model's `provider:model` for prices and routes. Default from the AI SDK model:
   * `openai.chat` / `gpt-4o-mini` → `openai:gpt-4o-mini`.
   */
  name?: string;
  /** The journal's step name for each call. Default `ai-sdk:<name>`. */
  stepName?: string;
}

export function keelMiddleware(options: KeelMiddlewareOptions): LanguageModelV4Middleware {
  return {
    specificationVersion: 'v4',
    wrapGenerate: ({ model, params }) => governedGenerate(options, model, params),
    wrapStream: ({ model, params }) => governedStream(options, model, params),
  };
}

interface PreparedCall {
  governed: LanguageModelV1;
  stepName: string;
  url: string;
  /** Settings a Keel model has no field for; an AI SDK model gets the framework's call whole, so none. */
  warnings: SharedV4Warning[];
}

function prepare(options: KeelMiddlewareOptions, model: LanguageModelV4, params: LanguageModelV4CallOptions): PreparedCall {
  // A run stopped inside a tool ends here, before another model call is paid for.
  throwIfRunInterrupted(options.run);
  const behind = keelModelBehind(model);
  const derived = behind ?? keelNameOf(model);
  const name = options.name ?? `${derived.provider}:${derived.modelId}`;
  const keelModel = behind ?? new AiSdkKeelModel(model, splitName(name), params);
  const governed = options.runtime.governedRoute(options.route ?? name, new Map([[name, keelModel]]));
  return { governed, stepName: options.stepName ?? `ai-sdk:${name}`, url: `keel:${options.route ?? name}`, warnings: behind === undefined ? [] : warningsFor(params) };
}

function splitName(name: string): { provider: string; modelId: string } {
  const separator = name.indexOf(':');
  return separator === -1 ? { provider: name, modelId: '' } : { provider: name.slice(0, separator), modelId: name.slice(separator + 1) };
}

async function governedGenerate(options: KeelMiddlewareOptions, model: LanguageModelV4, params: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
  const call = prepare(options, model, params);
  let result: GenerateResultV1;
  try {
    result = await options.run.model(call.stepName, call.governed, keelRequestOf(params));
  } catch (error) {
    throw aiSdkErrorOf(error, { url: call.url, keepRetryable: false });
  }
  return { ...aiSdkResultOf(result), warnings: call.warnings };
}

async function governedStream(options: KeelMiddlewareOptions, model: LanguageModelV4, params: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
  const call = prepare(options, model, params);
  let cost: GenerateResultV1['cost'];
  const writer = new AiSdkStreamWriter(() => cost);
  let controller!: ReadableStreamDefaultController<LanguageModelV4StreamPart>;
  // A reader that stops early does not stop the step: it is read to its end, journaled and billed.
  let cancelled = false;
  const stream = new ReadableStream<LanguageModelV4StreamPart>({
    start: (streamController) => {
      controller = streamController;
    },
    cancel: () => {
      cancelled = true;
    },
  });
  for (const part of writer.start(call.warnings)) controller.enqueue(part);
  const opened = Promise.withResolvers<void>();
  let streamed = false;
  let finish: StreamPartV1 | undefined;
  const write = (part: StreamPartV1) => {
    for (const converted of writer.write(part)) if (!cancelled) controller.enqueue(converted);
  };
  const answered = options.run.model(call.stepName, call.governed, keelRequestOf(params), {
    onPart: (part) => {
      streamed = true;
      // Held back until the call is settled, so the finish part can say what it cost.
      if (part.type === 'finish') finish = part;
      else write(part);
      opened.resolve();
    },
  });
  answered.then(
    (result) => {
      cost = result.cost;
      // A replayed step is not streamed again: its recorded answer is written out whole.
      if (!streamed) for (const part of streamPartsOf(result)) write(part);
      else if (finish !== undefined) write(finish);
      if (!cancelled) controller.close();
      opened.resolve();
    },
    (error: unknown) => {
      const failure = aiSdkErrorOf(error, { url: call.url, keepRetryable: false });
      if (!streamed) opened.reject(failure);
      else if (!cancelled) controller.error(failure);
    },
  );
  await opened.promise;
  return { stream };
}
