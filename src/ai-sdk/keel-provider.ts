import type { LanguageModelV4 } from '@ai-sdk/provider';
import { resolveModel } from '../models/index.ts';
import type { ResolveModelOptions } from '../models/index.ts';
import { aiSdkModelOf } from './keel-language-model.ts';

/** `keel('sim:default')`: any model Keel resolves (`sim:`, `openai:`, `openai-responses:`, `anthropic:`) as an AI SDK model. */
export type KeelProvider = (name: string) => LanguageModelV4;

/**
 * A provider of Keel's models for the AI SDK. `simulator` sets the scenario script, seed and
 * faults of `sim:` models; keys and endpoints are read from `environment` (default process.env).
 * A bad name or a missing key fails here, when the model is named.
 */
export function createKeelProvider(options: ResolveModelOptions = {}): KeelProvider {
  return (name) => aiSdkModelOf(resolveModel(name, options));
}

/** One Keel model as an AI SDK model: `keelModel('sim:default')`. */
export function keelModel(name: string, options: ResolveModelOptions = {}): LanguageModelV4 {
  return createKeelProvider(options)(name);
}
