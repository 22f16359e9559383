import OpenAI from 'openai';
import type { GenerateOptionsV1 } from '../../spec/index.ts';
import { providerFetch } from '../provider-fetch.ts';

export const openAIBaseURL = 'https://api.openai.com/v1';

export interface OpenAIModelSettings {
  apiKey: string;
  /** Default `https://api.openai.com/v1`; anything else makes the provider `openai-compatible`. */
  baseURL?: string;
  organization?: string;
  project?: string;
  /** The provider the model reports (prices, breakers, the journal); default from the base URL (`providerFor`). */
  provider?: string;
  /** Sent on every call, beneath any the caller passes per call. */
  headers?: Record<string, string>;
}

/**
 * The SDK client as Keel needs it: no SDK retries (Keel's resilience middleware owns retries,
 * and a hidden retry would double-spend and skew its budgets) and no SDK deadline (the caller's
 * abort signal is the only one). Everything is passed explicitly so the SDK never falls back to
 * reading process.env behind our `environment`. Its transport is Keel's providerFetch, about half
 * the CPU of the global fetch per call.
 */
export function createOpenAIClient(settings: OpenAIModelSettings): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL ?? openAIBaseURL,
    organization: settings.organization ?? null,
    project: settings.project ?? null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    fetch: providerFetch,
    ...(settings.headers === undefined ? {} : { defaultHeaders: settings.headers }),
    // The SDK insists on a timer; this is the largest setTimeout accepts (~24.8 days). Zero would fire at once.
    timeout: 2_147_483_647,
  });
}

/** True for OpenAI's own endpoint; vLLM, Ollama, llama.cpp, LM Studio and proxies are not. */
export function isOpenAIEndpoint(baseURL: string | undefined): boolean {
  if (baseURL === undefined) return true;
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

export function providerFor(baseURL: string | undefined): 'openai' | 'openai-compatible' {
  return isOpenAIEndpoint(baseURL) ? 'openai' : 'openai-compatible';
}

/** Per-call transport options: the caller's signal and headers, nothing else. */
export function requestOptionsFor(options: Pick<GenerateOptionsV1, 'abortSignal' | 'headers'>): { signal?: AbortSignal; headers?: Record<string, string> } {
  const requestOptions: { signal?: AbortSignal; headers?: Record<string, string> } = {};
  if (options.abortSignal !== undefined) requestOptions.signal = options.abortSignal;
  if (options.headers !== undefined) requestOptions.headers = options.headers;
  return requestOptions;
}
