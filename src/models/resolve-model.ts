import { KeelError } from '../errors/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import { SimulatorModel } from './simulator/index.ts';
import type { SimulatorScript } from './simulator/index.ts';

/**
 * Turns a `provider:model` name into a model. Only the simulator ships in this version; real
 * providers are named here so the error says what is coming rather than "unknown".
 */
export function resolveModel(name: string, options: { seed?: number; script?: SimulatorScript } = {}): LanguageModelV1 {
  const separator = name.indexOf(':');
  const provider = separator === -1 ? name : name.slice(0, separator);
  const model = separator === -1 ? '' : name.slice(separator + 1);
  if (provider === 'sim') {
    return new SimulatorModel({ profile: model === '' ? 'default' : model, ...options });
  }
  if (provider === 'openai' || provider === 'anthropic') {
    throw new KeelError('config-invalid', `model ${name}: the ${provider} adapter is not part of this build yet; use sim:NAME`);
  }
  throw new KeelError('config-invalid', `model ${name}: unknown provider '${provider}' (expected sim:NAME)`);
}
