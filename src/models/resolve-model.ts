import { KeelError } from '../errors/index.ts';
import { currentStep } from '../journal/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import { createAnthropicModel } from './anthropic/index.ts';
import { createConfiguredModel } from './configured-provider.ts';
import type { ProviderSetting } from './configured-provider.ts';
import { createOpenAIModel } from './openai/index.ts';
import { echoScript, parseSimulatorName, SimulatorModel, withQuality } from './simulator/index.ts';
import type { SimulatorOptions } from './simulator/index.ts';

export interface ResolveModelOptions {
  environment?: Record<string, string | undefined>;
  /** For `sim:` models: the seed and scenario script. */
  simulator?: Omit<SimulatorOptions, 'profile'>;
  /** Providers the deployment configured (the config file's `providers`), by the name models are written with. */
  providers?: Readonly<Record<string, ProviderSetting>>;
}

export const knownProviders = ['sim', 'openai', 'openai-responses', 'anthropic'] as const;

/** Names a configured provider may not take: those a model is written with, and the one an `openai:` model at another endpoint reports. */
export const builtInProviders: readonly string[] = [...knownProviders, 'openai-compatible'];

/**
 * `provider:model` → a model. `openai:` speaks Chat Completions (so it reaches every
 * OpenAI-compatible server through OPENAI_BASE_URL); `openai-responses:` the Responses API.
 * A provider of `options.providers` is one of those adapters at its own endpoint, with its own key.
 * Keys and endpoints are checked here, so a bad setting fails when the model is named.
 */
export function resolveModel(name: string, options: ResolveModelOptions = {}): LanguageModelV1 {
  const separator = name.indexOf(':');
  const provider = separator === -1 ? name : name.slice(0, separator);
  const modelId = separator === -1 ? '' : name.slice(separator + 1);
  if (modelId === '' && provider !== 'sim') throw new KeelError('config-invalid', `model '${name}' must be written provider:model (e.g. openai:gpt-4o-mini, sim:default)`);
  const environment = options.environment ?? process.env;
  const configured = options.providers !== undefined && Object.hasOwn(options.providers, provider) ? options.providers[provider] : undefined;
  if (configured !== undefined) {
    // The config schema refuses such a name; a library caller's providers are not run through it.
    if (builtInProviders.includes(provider)) throw new KeelError('config-invalid', `provider '${provider}' is built in; a configured provider may not take its name`);
    return createConfiguredModel(provider, modelId, configured, environment);
  }
  switch (provider) {
    case 'sim': {
      const onFault = options.simulator?.onFault;
      // `sim:NAME@Q`: NAME answering wrongly on a seeded share 1 − Q of items (quality-model.ts).
      const { profile, quality } = parseSimulatorName(modelId === '' ? 'default' : modelId);
      const script = options.simulator?.script;
      return new SimulatorModel({
        ...options.simulator,
        ...(quality === undefined ? {} : { script: withQuality(script ?? echoScript, quality, options.simulator?.seed ?? 0) }),
        profile,
        // Injected faults are part of the record: a drill's journal says what was done to it.
        onFault: (fault, call) => {
          currentStep()?.record('fault-injection', { fault: fault, call });
          onFault?.(fault, call);
        },
      });
    }
    case 'openai':
      return createOpenAIModel(modelId, { api: 'chat', environment });
    case 'openai-responses':
      return createOpenAIModel(modelId, { api: 'responses', environment });
    case 'anthropic':
      return createAnthropicModel(modelId, { environment });
    default: {
      const known = [...knownProviders, ...Object.keys(options.providers ?? {})];
      throw new KeelError('config-invalid', `model '${name}': unknown provider '${provider}' (known: ${known.join(', ')})`);
    }
  }
}
