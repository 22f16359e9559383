import { KeelError } from '../errors/index.ts';
import type { UsageV1 } from '../spec/index.ts';

/** Prices in integer micro-USD per million tokens (1 USD = 1,000,000 micro-USD). Never floats. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  /** Price of prompt tokens served from the provider's cache; defaults to the input price. */
  cachedInputPerMillion?: number;
}

export interface PriceTable {
  /** Recorded with every priced call, so a cost can be traced to the table that produced it. */
  version: string;
  /** `provider:model` → price. A model id with a date suffix (gpt-4o-2024-08-06) matches its base. */
  models: Record<string, ModelPrice>;
  /**
   * Models declared to cost nothing (self-hosted servers, the free simulator profile): exact
   * `provider:model` names or `provider:*`. Anything neither priced nor declared free is an error.
   */
  free?: string[];
}

export interface ResolvedPrice {
  price: ModelPrice;
  priceVersion: string;
  /** The table entry that matched (`openai:gpt-4o` for `openai:gpt-4o-2024-08-06`). */
  entry: string;
}

const zero: ModelPrice = { inputPerMillion: 0, outputPerMillion: 0 };

/** The price of a model, or `price-unknown`: an unpriced model is never silently free. */
export function resolvePrice(table: PriceTable, provider: string, modelId: string): ResolvedPrice {
  const name = `${provider}:${modelId}`;
  const exact = table.models[name];
  if (exact !== undefined) return { price: exact, priceVersion: table.version, entry: name };
  // Providers publish dated snapshots of a model; they share the base model's price.
  const base = /^(.*?)(-\d{4}-?\d{2}-?\d{2}|-latest)$/.exec(modelId)?.[1];
  if (base !== undefined) {
    const entry = `${provider}:${base}`;
    const price = table.models[entry];
    if (price !== undefined) return { price, priceVersion: table.version, entry };
  }
  if ((table.free ?? []).some((declared) => declared === name || declared === `${provider}:*`)) {
    return { price: zero, priceVersion: table.version, entry: name };
  }
  throw new KeelError(
    'price-unknown',
    `no price for ${name} in price table ${table.version}; add it to the table or declare it free (free: ["${name}"])`,
  );
}

/** Cost of a call in micro-USD, rounded up: integer arithmetic, products stay far below 2^53. */
export function costOf(price: ModelPrice, usage: UsageV1): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const total = uncached * price.inputPerMillion + cached * (price.cachedInputPerMillion ?? price.inputPerMillion) + usage.outputTokens * price.outputPerMillion;
  return Math.ceil(total / 1_000_000);
}

/** Validates a user-supplied table: integer, non-negative prices and `provider:model` keys. */
export function checkPriceTable(table: PriceTable, source: string): PriceTable {
  if (typeof table.version !== 'string' || table.version === '') throw new KeelError('config-invalid', `${source}: price table needs a version`);
  for (const [name, price] of Object.entries(table.models)) {
    if (!/^[a-z0-9-]+:[^\s:][^\s]*$/i.test(name)) throw new KeelError('config-invalid', `${source}: price table key '${name}' must be provider:model`);
    for (const field of ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion'] as const) {
      const value = price[field];
      if (value === undefined && field === 'cachedInputPerMillion') continue;
      if (!Number.isSafeInteger(value) || (value ?? -1) < 0) {
        throw new KeelError('config-invalid', `${source}: ${name}.${field} must be a non-negative integer (micro-USD per million tokens), got ${JSON.stringify(value)}`);
      }
    }
  }
  return table;
}
