import { KeelError } from '../../errors/index.ts';
import type { LanguageModelV1 } from '../../spec/index.ts';
import { isOpenAIEndpoint, openAIBaseURL } from './openai-client.ts';
import type { OpenAIModelSettings } from './openai-client.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIResponsesModel } from './openai-responses-model.ts';

export interface CreateOpenAIModelOptions {
  /** Which OpenAI API to speak. Default `chat`: the one every OpenAI-compatible server has. */
  api?: 'chat' | 'responses';
  /** Default: `OPENAI_API_KEY` from `environment`. */
  apiKey?: string;
  /** Default: `OPENAI_BASE_URL` from `environment`, else `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Where settings are read from; default `process.env`. */
  environment?: Record<string, string | undefined>;
}

/** Local servers (vLLM, Ollama, llama.cpp, LM Studio) ignore the key, but the header must be present. */
const placeholderApiKey = 'keel-no-api-key';

/** `openai:MODEL` → a model, with its key and endpoint resolved from options or the environment. */
export function createOpenAIModel(modelId: string, options: CreateOpenAIModelOptions = {}): LanguageModelV1 {
  const environment = options.environment ?? process.env;
  const baseURL = options.baseURL ?? nonEmpty(environment['OPENAI_BASE_URL']) ?? openAIBaseURL;
  if (!isHttpURL(baseURL)) {
    throw new KeelError('config-invalid', `OPENAI_BASE_URL ${JSON.stringify(baseURL)} is not an http(s) URL (needed for model openai:${modelId})`);
  }
  const apiKey = options.apiKey ?? nonEmpty(environment['OPENAI_API_KEY']);
  if (apiKey === undefined && isOpenAIEndpoint(baseURL)) {
    throw new KeelError('config-invalid', `OPENAI_API_KEY is not set (needed for model openai:${modelId})`);
  }
  const settings: OpenAIModelSettings = { apiKey: apiKey ?? placeholderApiKey, baseURL };
  const organization = nonEmpty(environment['OPENAI_ORG_ID']);
  if (organization !== undefined) settings.organization = organization;
  const project = nonEmpty(environment['OPENAI_PROJECT_ID']);
  if (project !== undefined) settings.project = project;
  return options.api === 'responses' ? new OpenAIResponsesModel(modelId, settings) : new OpenAIChatModel(modelId, settings);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `localhost:8000` parses as a URL with scheme `localhost:`; only http and https reach a server. */
export function isHttpURL(value: string): boolean {
  try {
    const protocol = new URL(value).protocol;
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
