/**
 * `keelModelProvider({ run, runtime })`: Keel as the Agents SDK's model provider. An agent's model
 * name (`support`, a route of the config; `sim:default`; `openai:gpt-4o-mini`) resolves to the
 * deployment's governed model for it, the same one an agent of Keel's own gets: routing, budget
 * reserved before and settled after, fallback, bulkhead, breaker, retries honouring retry-after,
 * attempt timeout. Each call of the SDK's loop is:
 *   1. translated to Keel's request (model-request.ts), which is what is journaled;
 *   2. run as the engine's durable model step (`run.model`), journaled with usage, cost and
 *      latency; on a resumed run the recorded answer is returned and the model is not called;
 *   3. translated back into output items (model-response.ts), inside a `generation` span whose
 *      usage and model are set, so the SDK's traces show Keel's calls like any model's.
 * A failure reaches the SDK as the model's thrown error, which its runner surfaces from `run()`:
 * the KeelError itself, with its stable code, so a task that lets it through ends its run the way
 * Keel ends any run (a budget stop ends it as a budget stop). `getRetryAdvice` tells the SDK not
 * to retry: Keel already retried as the route says.
 */
import type { Model, ModelProvider, ModelRequest, ModelResponse, ModelRetryAdvice, ModelRetryAdviceRequest, StreamEvent } from '@openai/agents';
import { createGenerationSpan } from '@openai/agents';
import type { AgentRuntime, AgentSimulatorOptions } from '../agent/index.ts';
import type { RunContext } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { ModelCallError } from '../models/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, StreamPartV1 } from '../spec/index.ts';
import { throwIfRunInterrupted } from '../framework/index.ts';
import { keelRequestOf } from './model-request.ts';
import { metadataOf, modelResponseOf, outputItemsOf } from './model-response.ts';
import { bindCurrentTrace } from './trace-processor.ts';

export interface KeelModelProviderOptions {
  /** The run the calls belong to: the task function's context. */
  run: RunContext;
  /** The deployment's governance: `keel.runtime` (routes and prices from its config, budgets on its store). */
  runtime: AgentRuntime;
  /** The model or route for an agent that names none (the SDK then asks for its default). */
  defaultModel?: string;
  /** The scenario, seed and faults of `sim:` models. */
  simulator?: AgentSimulatorOptions;
  /** The journal's step name for a call of `name`. Default `openai-agents:<name>`. */
  stepName?: (name: string) => string;
}

export function keelModelProvider(options: KeelModelProviderOptions): ModelProvider {
  return {
    getModel(modelName?: string): Model {
      const name = modelName === undefined || modelName === '' ? options.defaultModel : modelName;
      if (name === undefined) throw new KeelError('usage-invalid', 'the agent names no model and keelModelProvider was given no defaultModel');
      return new KeelAgentsModel(name, options);
    },
  };
}

/** One model or route of the deployment as an Agents SDK model, inside one run. */
export class KeelAgentsModel implements Model {
  readonly name: string;
  readonly #options: KeelModelProviderOptions;

  constructor(name: string, options: KeelModelProviderOptions) {
    this.name = name;
    this.#options = options;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const { run } = this.#options;
    const call = this.#prepare(request);
    const span = this.#span(request, call.keelRequest);
    try {
      const result = await run.model(call.stepName, call.governed, call.keelRequest);
      this.#settleSpan(span, result, request);
      return modelResponseOf(result);
    } catch (error) {
      span.setError({ message: error instanceof Error ? error.message : String(error), data: error instanceof KeelError ? { code: error.code } : {} });
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Streams text deltas as they arrive and ends with `response_done` holding the whole answer; the
   * step is journaled whole, like a generated one. A replayed step is not streamed again: its
   * recorded text comes as one delta.
   */
  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const { run } = this.#options;
    const call = this.#prepare(request);
    const span = this.#span(request, call.keelRequest);
    const parts: StreamPartV1[] = [];
    let wake = Promise.withResolvers<void>();
    let streamed = false;
    const answered = run.model(call.stepName, call.governed, call.keelRequest, {
      onPart: (part) => {
        streamed = true;
        parts.push(part);
        wake.resolve();
      },
    });
    let settled: { result: GenerateResultV1 } | { error: unknown } | undefined;
    answered.then(
      (result) => {
        settled = { result };
        wake.resolve();
      },
      (error: unknown) => {
        settled = { error };
        wake.resolve();
      },
    );
    try {
      yield { type: 'response_started' };
      for (;;) {
        await wake.promise;
        wake = Promise.withResolvers<void>();
        for (const part of parts.splice(0)) if (part.type === 'text-delta') yield { type: 'output_text_delta', delta: part.delta };
        if (settled === undefined) continue;
        if ('error' in settled) throw settled.error;
        const result = settled.result;
        const text = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
        if (!streamed && text !== '') yield { type: 'output_text_delta', delta: text };
        this.#settleSpan(span, result, request);
        const { inputTokens, outputTokens } = result.usage;
        yield {
          type: 'response_done',
          response: {
            id: result.response.id,
            usage: { requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
            output: outputItemsOf(result),
            providerData: { keel: { ...metadataOf(result) } },
          },
        };
        return;
      }
    } catch (error) {
      span.setError({ message: error instanceof Error ? error.message : String(error), data: error instanceof KeelError ? { code: error.code } : {} });
      throw error;
    } finally {
      span.end();
      // A reader that stops early does not stop the step: it runs to its end, journaled and billed.
      await answered.catch(() => undefined);
    }
  }

  /** Keel has retried as the route says; the SDK's own retries would only repeat its final answer. */
  getRetryAdvice(advice: ModelRetryAdviceRequest): ModelRetryAdvice {
    const error = advice.error;
    const statusCode = error instanceof ModelCallError && error.status !== undefined ? error.status : error instanceof KeelError ? error.httpStatus : undefined;
    return {
      suggested: false,
      reason: 'Keel already retried this call as its route says',
      ...(statusCode === undefined ? {} : { normalized: { statusCode, ...(error instanceof KeelError ? { errorCode: error.code } : {}) } }),
    };
  }

  #prepare(request: ModelRequest) {
    const { run, runtime, simulator } = this.#options;
    // A run stopped inside a tool ends here, before another model call is paid for.
    throwIfRunInterrupted(run);
    bindCurrentTrace(run);
    const governed = runtime.model(this.name, { task: run.task, ...(simulator === undefined ? {} : { simulator }) });
    const stepName = this.#options.stepName?.(this.name) ?? `openai-agents:${this.name}`;
    return { governed, stepName, keelRequest: keelRequestOf(request) };
  }

  #span(request: ModelRequest, keelRequest: GenerateOptionsV1) {
    const config: Record<string, unknown> = { route: this.name };
    if (keelRequest.temperature !== undefined) config.temperature = keelRequest.temperature;
    if (keelRequest.maxOutputTokens !== undefined) config.max_output_tokens = keelRequest.maxOutputTokens;
    const span = createGenerationSpan({ data: { model: this.name, model_config: config } });
    if (request.tracing === true) span.spanData.input = keelRequest.messages.map((message) => ({ ...message }));
    span.start();
    return span;
  }

  #settleSpan(span: ReturnType<typeof createGenerationSpan>, result: GenerateResultV1, request: ModelRequest): void {
    span.spanData.model = result.response.modelId;
    const usage: Record<string, unknown> = { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens };
    if (result.cost !== undefined) usage.details = { keel_cost_micros: result.cost.micros, keel_price_version: result.cost.priceVersion };
    span.spanData.usage = usage;
    if (request.tracing === true) span.spanData.output = outputItemsOf(result).map((item) => ({ ...item }));
  }
}
