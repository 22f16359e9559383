export { createOpenAIModel } from './create-openai-model.ts';
export type { CreateOpenAIModelOptions } from './create-openai-model.ts';
export { OpenAIChatModel } from './openai-chat-model.ts';
export { OpenAIResponsesModel } from './openai-responses-model.ts';
export type { OpenAIModelSettings } from './openai-client.ts';
