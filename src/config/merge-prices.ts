import { checkPriceTable, defaultPriceTable } from '../cost/index.ts';
import type { PriceTable } from '../cost/index.ts';
import type { KeelConfig } from './config-schema.ts';

/**
 * The built-in table with the config's over it: config entries replace built-in ones, `free`
 * lists add up. The version is the config's when it has prices (a cost is then traceable to the
 * config's table), else the built-in one's.
 */
export function mergePrices(prices: KeelConfig['prices']): PriceTable {
  if (prices === undefined) return defaultPriceTable;
  const merged: PriceTable = {
    version: prices.version,
    models: { ...defaultPriceTable.models, ...prices.models },
    free: [...(defaultPriceTable.free ?? []), ...(prices.free ?? [])],
  };
  return checkPriceTable(merged, 'prices');
}
