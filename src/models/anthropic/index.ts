export { AnthropicModel } from './anthropic-model.ts';
export type { AnthropicModelOptions } from './anthropic-model.ts';
export { createAnthropicModel } from './create-anthropic-model.ts';
export type { CreateAnthropicModelOptions } from './create-anthropic-model.ts';
export { defaultMaxOutputTokens } from './anthropic-request.ts';
