import { KeelError } from '../errors/index.ts';
import { currentStep } from '../journal/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import { createAnthropicModel } from './anthropic/index.ts';
import { createOpenAIModel } from './openai/index.ts';
import { echoScript, parseSimulatorName, SimulatorModel, withQuality } from './simulator/index.ts';
import type { SimulatorOptions } from './simulator/index.ts';

export interface ResolveModelOptions {
  environment?: Record<string, string | undefined>;
  /** For `sim:` models: the seed and scenario script. */
  simulator?: Omit<SimulatorOptions, 'profile'>;
}

export const knownProviders = ['sim', 'openai', 'openai-responses', 'anthropic'] as const;

/**
 * `provider:model` → a model. `openai:` speaks Chat Completions (so it reaches every
 * OpenAI-compatible server through OPENAI_BASE_URL); `openai-responses:` the Responses API.
 * Keys and endpoints are checked here, so a bad setting fails when the model is named.
 */
export function resolveModel(name: string, options: ResolveModelOptions = {}): LanguageModelV1 {
  const separator = name.indexOf(':');
  const provider = separator === -1 ? name : name.slice(0, separator);
  const modelId = separator === -1 ? '' : name.slice(separator + 1);
  if (modelId === '' && provider !== 'sim') throw new KeelError('config-invalid', `model '${name}' must be written provider:model (e.g. openai:gpt-4o-mini, sim:default)`);
  const environment = options.environment ?? process.env;
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
    default:
      throw new KeelError('config-invalid', `model '${name}': unknown provider '${provider}' (known: ${knownProviders.join(', ')})`);
  }
}
