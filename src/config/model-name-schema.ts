import { z } from 'zod';
import { knownProviders, parseSimulatorName } from '../models/index.ts';

const example = '(e.g. openai:gpt-4o-mini, sim:default)';

/**
 * Providers a price can be for: those a model can be named with, plus `openai-compatible`, the
 * provider an `openai:` model reports when OPENAI_BASE_URL points at a self-hosted server.
 */
const pricedProviders: readonly string[] = [...knownProviders, 'openai-compatible'];

/** `provider:model` → its parts; the model id may itself contain colons (Ollama's `llama3:8b`). */
function splitName(name: string): { provider: string; modelId: string } | undefined {
  const match = /^([a-z0-9-]+):(\S+)$/i.exec(name);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { provider: match[1], modelId: match[2] };
}

function checkName(providers: readonly string[], allowWildcard: boolean) {
  return (name: string, context: z.RefinementCtx) => {
    const parts = splitName(name);
    if (parts === undefined) {
      const form = allowWildcard ? 'provider:model or provider:*' : 'provider:model';
      context.addIssue({ code: 'custom', input: name, message: `must be written ${form} ${example}, got '${name}'` });
    } else if (!providers.includes(parts.provider)) {
      context.addIssue({ code: 'custom', input: name, message: `unknown provider '${parts.provider}' in '${name}' (known: ${providers.join(', ')})` });
    } else if (parts.modelId === '*' && !allowWildcard) {
      context.addIssue({ code: 'custom', input: name, message: `must name one model, got the wildcard '${name}' (wildcards belong in prices.free)` });
    } else if (parts.provider === 'sim' && parts.modelId.includes('@')) {
      // `sim:NAME@Q`, the simulator at a known lower quality: Q is checked where it is written.
      try {
        parseSimulatorName(parts.modelId);
      } catch (error) {
        context.addIssue({ code: 'custom', input: name, message: error instanceof Error ? error.message : String(error) });
      }
    }
  };
}

/** A model a route calls: its provider must be one Keel can resolve. */
export const modelNameSchema = z.string().superRefine(checkName(knownProviders, false));

/** A price table key. */
export const pricedModelSchema = z.string().superRefine(checkName(pricedProviders, false));

/** An entry of the `free` list: a model or a whole provider (`provider:*`). */
export const freeModelSchema = z.string().superRefine(checkName(pricedProviders, true));
