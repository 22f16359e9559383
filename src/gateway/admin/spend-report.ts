import { KeelError } from '../../errors/index.ts';
import type { SpendQueryV1, SpendRowV1, StoreV1 } from '../../spec/index.ts';

export interface SpendReport {
  since: string;
  until: string;
  by: SpendQueryV1['by'];
  rows: SpendRowV1[];
  total: Omit<SpendRowV1, 'group'>;
}

/** The period a spend report covers when none is given: the current UTC month, up to now. */
export function defaultSpendPeriod(now: Date = new Date()): { since: string; until: string } {
  return { since: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(), until: now.toISOString() };
}

/** What runs created in a period spent, by tenant, principal or task, with the period's total. */
export async function spendReport(store: StoreV1, query: SpendQueryV1): Promise<SpendReport> {
  if (store.summarizeSpend === undefined) throw new KeelError('runtime-unsupported', `the store at ${store.location} cannot summarize spend`);
  const rows = await store.summarizeSpend(query);
  const total = { runs: 0, costMicros: 0, inputTokens: 0, outputTokens: 0 };
  for (const row of rows) {
    total.runs += row.runs;
    total.costMicros += row.costMicros;
    total.inputTokens += row.inputTokens;
    total.outputTokens += row.outputTokens;
  }
  return { since: query.since, until: query.until, by: query.by, rows, total };
}
