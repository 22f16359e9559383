import { KeelError } from '../errors/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import { AnthropicModel } from './anthropic/index.ts';
import { isHttpURL } from './openai/create-openai-model.ts';
import { OpenAIChatModel, OpenAIResponsesModel } from './openai/index.ts';

/** The wire formats a configured provider may speak: each is one of Keel's adapters, pointed at another endpoint. */
export const providerApis = ['openai-chat', 'openai-responses', 'anthropic'] as const;
export type ProviderApi = (typeof providerApis)[number];

/**
 * An upstream a deployment names itself (the config file's `providers`): `vllm:llama-3.1-8b` is
 * model `llama-3.1-8b` at this endpoint, and reports provider `vllm` to prices, budgets, breakers
 * and the journal.
 */
export interface ProviderSetting {
  api: ProviderApi;
  baseURL: string;
  /** The name of the environment variable that holds the key; absent for a server that takes none. */
  apiKeyEnv?: string;
  /** Sent on every call (OpenRouter's HTTP-Referer, a proxy's routing header). Never a credential: see credentialHeaders. */
  headers?: Record<string, string>;
}

/** Headers that carry a secret: a key belongs in the environment (apiKeyEnv), not in the config file. */
export const credentialHeaders: readonly string[] = ['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie'];

/** Servers that take no key still get the header the SDKs insist on; this says none was configured. */
const placeholderApiKey = 'keel-no-api-key';

/**
 * `NAME:MODEL` for a configured provider → a model. The key is read here, from the variable the
 * provider names and nothing else: OPENAI_API_KEY or ANTHROPIC_API_KEY never go to an endpoint the
 * config added, and a missing variable fails when the model is named, as a missing OPENAI_API_KEY does.
 */
export function createConfiguredModel(provider: string, modelId: string, setting: ProviderSetting, environment: Record<string, string | undefined>): LanguageModelV1 {
  const name = `${provider}:${modelId}`;
  if (!isHttpURL(setting.baseURL)) throw new KeelError('config-invalid', `provider ${provider}: baseURL ${JSON.stringify(setting.baseURL)} is not an http(s) URL (needed for model ${name})`);
  const credential = Object.keys(setting.headers ?? {}).find((header) => credentialHeaders.includes(header.toLowerCase()));
  if (credential !== undefined) throw new KeelError('config-invalid', `provider ${provider}: header ${credential} carries a credential; name the variable holding the key in apiKeyEnv instead`);
  let apiKey = placeholderApiKey;
  if (setting.apiKeyEnv !== undefined) {
    const value = environment[setting.apiKeyEnv]?.trim();
    if (value === undefined || value === '') throw new KeelError('config-invalid', `${setting.apiKeyEnv} is not set (needed for model ${name}: provider ${provider}'s apiKeyEnv)`);
    apiKey = value;
  }
  const headers = setting.headers === undefined ? {} : { headers: setting.headers };
  switch (setting.api) {
    case 'openai-chat':
      return new OpenAIChatModel(modelId, { apiKey, baseURL: setting.baseURL, provider, ...headers });
    case 'openai-responses':
      return new OpenAIResponsesModel(modelId, { apiKey, baseURL: setting.baseURL, provider, ...headers });
    case 'anthropic':
      return new AnthropicModel(modelId, { apiKey, baseURL: setting.baseURL, provider, ...headers });
    default:
      // Unreachable from a validated config; a library caller's setting is not validated by the schema.
      throw new KeelError('config-invalid', `provider ${provider}: api ${JSON.stringify(setting.api)} is not one of ${providerApis.join(', ')}`);
  }
}
