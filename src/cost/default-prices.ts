import type { PriceTable } from './price-table.ts';

const usd = (dollarsPerMillion: number): number => Math.round(dollarsPerMillion * 1_000_000);

/**
 * List prices per million tokens, as published by the providers (standard tier, no batch
 * discount). Update by adding a new table with a new version; old runs keep the version they
 * were priced with in their journal.
 */
export const defaultPriceTable: PriceTable = {
  version: '2026-11-01',
  models: {
    'openai:gpt-5': { inputPerMillion: usd(1.25), cachedInputPerMillion: usd(0.125), outputPerMillion: usd(10) },
    'openai:gpt-5-mini': { inputPerMillion: usd(0.25), cachedInputPerMillion: usd(0.025), outputPerMillion: usd(2) },
    'openai:gpt-5-nano': { inputPerMillion: usd(0.05), cachedInputPerMillion: usd(0.005), outputPerMillion: usd(0.4) },
    'openai:gpt-4.1': { inputPerMillion: usd(2), cachedInputPerMillion: usd(0.5), outputPerMillion: usd(8) },
    'openai:gpt-4.1-mini': { inputPerMillion: usd(0.4), cachedInputPerMillion: usd(0.1), outputPerMillion: usd(1.6) },
    'openai:gpt-4.1-nano': { inputPerMillion: usd(0.1), cachedInputPerMillion: usd(0.025), outputPerMillion: usd(0.4) },
    'openai:gpt-4o': { inputPerMillion: usd(2.5), cachedInputPerMillion: usd(1.25), outputPerMillion: usd(10) },
    'openai:gpt-4o-mini': { inputPerMillion: usd(0.15), cachedInputPerMillion: usd(0.075), outputPerMillion: usd(0.6) },
    'openai:o3': { inputPerMillion: usd(2), cachedInputPerMillion: usd(0.5), outputPerMillion: usd(8) },
    'openai:o4-mini': { inputPerMillion: usd(1.1), cachedInputPerMillion: usd(0.275), outputPerMillion: usd(4.4) },
    // Embeddings: input only. Added under the same version, since no price it already had changed.
    'openai:text-embedding-3-small': { inputPerMillion: usd(0.02), outputPerMillion: 0 },
    'openai:text-embedding-3-large': { inputPerMillion: usd(0.13), outputPerMillion: 0 },
    'openai:text-embedding-ada-002': { inputPerMillion: usd(0.1), outputPerMillion: 0 },
    'anthropic:claude-opus-4-1': { inputPerMillion: usd(15), cachedInputPerMillion: usd(1.5), outputPerMillion: usd(75) },
    'anthropic:claude-opus-4': { inputPerMillion: usd(15), cachedInputPerMillion: usd(1.5), outputPerMillion: usd(75) },
    'anthropic:claude-sonnet-4-5': { inputPerMillion: usd(3), cachedInputPerMillion: usd(0.3), outputPerMillion: usd(15) },
    'anthropic:claude-sonnet-4': { inputPerMillion: usd(3), cachedInputPerMillion: usd(0.3), outputPerMillion: usd(15) },
    'anthropic:claude-3-7-sonnet': { inputPerMillion: usd(3), cachedInputPerMillion: usd(0.3), outputPerMillion: usd(15) },
    'anthropic:claude-haiku-4-5': { inputPerMillion: usd(1), cachedInputPerMillion: usd(0.1), outputPerMillion: usd(5) },
    'anthropic:claude-3-5-haiku': { inputPerMillion: usd(0.8), cachedInputPerMillion: usd(0.08), outputPerMillion: usd(4) },
    // The simulator's profiles are priced like the tiers they stand for, so budgets and cost-aware
    // routing behave on the simulator as they would on real models.
    'sim:default': { inputPerMillion: usd(0.5), outputPerMillion: usd(1.5) },
    'sim:fast': { inputPerMillion: usd(0.1), outputPerMillion: usd(0.4) },
    'sim:smart': { inputPerMillion: usd(5), outputPerMillion: usd(15) },
    'sim:realistic': { inputPerMillion: usd(2.5), outputPerMillion: usd(10) },
    'sim:flaky': { inputPerMillion: usd(0.5), outputPerMillion: usd(1.5) },
    'sim:compromised': { inputPerMillion: usd(0.5), outputPerMillion: usd(1.5) },
  },
  // Self-hosted OpenAI-compatible servers (vLLM, Ollama, llama.cpp, LM Studio) have no per-token
  // price; add a table entry to charge GPU time to budgets instead.
  free: ['sim:free', 'openai-compatible:*'],
};
