import type { Anthropic } from '@anthropic-ai/sdk';
import type { ErrorCode } from '../../errors/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamResultV1 } from '../../spec/index.ts';
import type { ModelCallError } from '../model-call-error.ts';
import { providerFetch } from '../provider-fetch.ts';
import { toAnthropicRequest } from './anthropic-request.ts';
import { toGenerateResult } from './anthropic-response.ts';

/**
 * The SDK, and what reads its errors and streams, loaded by the first call: a gateway or worker
 * whose routes name no Anthropic model never loads its some 250 modules.
 */
async function loadSdk() {
  const [{ Anthropic: Client }, errors, { toStreamParts }] = await Promise.all([import('@anthropic-ai/sdk'), import('./anthropic-errors.ts'), import('./anthropic-stream.ts')]);
  return { Client, toStreamParts, ...errors };
}

let sdk: ReturnType<typeof loadSdk> | undefined;

export interface AnthropicModelOptions {
  apiKey: string;
  /** Where the Messages API lives; the SDK's default (https://api.anthropic.com) when absent. */
  baseURL?: string;
  /** Headers sent on every call, beneath any the caller passes per call. */
  headers?: Record<string, string>;
  /** The provider the model reports (prices, breakers, the journal); default `anthropic`. */
  provider?: string;
}

/** What the SDK takes per request: the caller's cancellation and extra headers. */
interface PerCallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/**
 * Anthropic's Messages API as a LanguageModelV1, through the official SDK. The SDK never retries
 * (`maxRetries: 0`): retries, backoff and breakers are Keel middleware, which needs to see every
 * failure, classified, to decide.
 */
export class AnthropicModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly #options: AnthropicModelOptions;
  #client: Anthropic | undefined;

  constructor(modelId: string, options: AnthropicModelOptions) {
    this.provider = options.provider ?? 'anthropic';
    this.modelId = modelId;
    this.#options = options;
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const { body, responseTool } = toAnthropicRequest(this.modelId, options);
    const loaded = await (sdk ??= loadSdk());
    let response;
    try {
      // An explicit timeout (the SDK's own default) stops the SDK refusing a large max_tokens
      // without streaming before it sends anything; Keel's attempt timeout still bounds the call.
      response = await this.#clientOf(loaded).messages.create(body, { ...perCall(options), timeout: nonStreamingTimeoutMs }).withResponse();
    } catch (error) {
      // A body cut off while it was read is the likeliest failure the SDK does not classify.
      throw this.#failure(loaded, error, options.abortSignal, 'model-connection-failed');
    }
    return toGenerateResult(response.data, response.request_id ?? null, responseTool);
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    const { body, responseTool } = toAnthropicRequest(this.modelId, options);
    const loaded = await (sdk ??= loadSdk());
    let response;
    try {
      response = await this.#clientOf(loaded).messages.create({ ...body, stream: true }, perCall(options)).withResponse();
    } catch (error) {
      throw this.#failure(loaded, error, options.abortSignal, 'model-connection-failed');
    }
    const context = { provider: this.provider, modelId: this.modelId, requestId: response.request_id ?? null, responseTool, abortSignal: options.abortSignal };
    return { stream: loaded.toStreamParts(response.data, context) };
  }

  #clientOf(loaded: Awaited<ReturnType<typeof loadSdk>>): Anthropic {
    this.#client ??= new loaded.Client({
      apiKey: this.#options.apiKey,
      // Always explicit, so the SDK never falls back to reading ANTHROPIC_BASE_URL itself.
      baseURL: this.#options.baseURL ?? 'https://api.anthropic.com',
      maxRetries: 0,
      // Keel's transport: about half the CPU of the global fetch per call (provider-fetch.ts).
      fetch: providerFetch,
      ...(this.#options.headers === undefined ? {} : { defaultHeaders: this.#options.headers }),
    });
    return this.#client;
  }

  #failure(loaded: Awaited<ReturnType<typeof loadSdk>>, error: unknown, abortSignal: AbortSignal | undefined, fallbackCode: ErrorCode): ModelCallError {
    const context = { provider: this.provider, modelId: this.modelId };
    if (abortSignal?.aborted === true) return loaded.abortedCallError(context, abortSignal.reason);
    return loaded.toModelCallError(error, context, fallbackCode);
  }
}

/** The Anthropic SDK's default for a call that does not stream: ten minutes. */
const nonStreamingTimeoutMs = 600_000;

function perCall(options: GenerateOptionsV1): PerCallOptions {
  const perCallOptions: PerCallOptions = {};
  if (options.abortSignal !== undefined) perCallOptions.signal = options.abortSignal;
  if (options.headers !== undefined) perCallOptions.headers = options.headers;
  return perCallOptions;
}
