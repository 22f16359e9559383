import { KeelError } from '../../errors/index.ts';
import { AnthropicModel } from './anthropic-model.ts';

export interface CreateAnthropicModelOptions {
  /** Overrides ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Overrides ANTHROPIC_BASE_URL. */
  baseURL?: string;
  /** Where the variables are read from; `process.env` unless given (tests pass their own). */
  environment?: NodeJS.ProcessEnv;
}

/**
 * An Anthropic model by id (`claude-sonnet-5-5`, …), configured from the environment. A missing
 * key fails here, at configuration time, naming the variable, rather than as a 401 on first use.
 */
export function createAnthropicModel(modelId: string, options: CreateAnthropicModelOptions = {}): AnthropicModel {
  const environment = options.environment ?? process.env;
  const apiKey = nonEmpty(options.apiKey) ?? nonEmpty(environment.ANTHROPIC_API_KEY);
  if (apiKey === undefined) {
    throw new KeelError('config-invalid', `ANTHROPIC_API_KEY is not set (needed for model anthropic:${modelId})`);
  }
  const baseURL = nonEmpty(options.baseURL) ?? nonEmpty(environment.ANTHROPIC_BASE_URL);
  return new AnthropicModel(modelId, baseURL === undefined ? { apiKey } : { apiKey, baseURL });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
