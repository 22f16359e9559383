import { z } from 'zod';
import { builtInProviders, knownProviders, parseSimulatorName } from '../models/index.ts';

const example = '(e.g. openai:gpt-4o-mini, sim:default)';

/** `provider:model` → its parts; the model id may itself contain colons (Ollama's `llama3:8b`). */
function splitName(name: string): { provider: string; modelId: string } | undefined {
  const match = /^([a-z0-9-]+):(\S+)$/i.exec(name);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { provider: match[1], modelId: match[2] };
}

/**
 * The form of a name. Whether its provider exists is checked over the whole config
 * (`unknownProvider`), since the file's own `providers` section adds names.
 */
function checkName(allowWildcard: boolean) {
  return (name: string, context: z.RefinementCtx) => {
    const parts = splitName(name);
    if (parts === undefined) {
      const form = allowWildcard ? 'provider:model or provider:*' : 'provider:model';
      context.addIssue({ code: 'custom', input: name, message: `must be written ${form} ${example}, got '${name}'` });
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

/** A model a route calls. */
export const modelNameSchema = z.string().superRefine(checkName(false));

/** A price table key. */
export const pricedModelSchema = z.string().superRefine(checkName(false));

/** An entry of the `free` list: a model or a whole provider (`provider:*`). */
export const freeModelSchema = z.string().superRefine(checkName(true));

/**
 * Why a well-formed name's provider is unknown, or undefined when it is known: a route's model must
 * be one Keel can resolve (built in or configured); a price may also be for `openai-compatible`, the
 * provider an `openai:` model reports when OPENAI_BASE_URL points at a self-hosted server.
 */
export function unknownProvider(name: string, use: 'model' | 'price', configured: readonly string[]): string | undefined {
  const provider = splitName(name)?.provider;
  if (provider === undefined) return undefined;
  const known = [...(use === 'model' ? knownProviders : builtInProviders), ...configured];
  return known.includes(provider) ? undefined : `unknown provider '${provider}' in '${name}' (known: ${known.join(', ')})`;
}
