import { KeelError } from '../../errors/index.ts';
import type { SpendQueryV1, SpendRowV1, StoreV1 } from '../../spec/index.ts';

export interface SpendReport {
  since: string;
  until: string;
  by: SpendQueryV1['by'];
  /** The tag's name, when grouped by tag. */
  tag?: string;
  /** By tag, the runs without it are the group null. */
  rows: SpendRowV1[];
  total: Omit<SpendRowV1, 'group'>;
}

/** The period a spend report covers when none is given: the current UTC month, up to now. */
export function defaultSpendPeriod(now: Date = new Date()): { since: string; until: string } {
  return { since: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(), until: now.toISOString() };
}

/** A grouping as `keel spend --by` and GET /admin/spend?by= take it: tenant, principal, task or tag:NAME. */
export function parseSpendGrouping(text: string, option: string): Pick<SpendQueryV1, 'by' | 'tag'> {
  if (text === 'tenant' || text === 'principal' || text === 'task') return { by: text };
  // The name is checked by the store, against the tags' rule.
  if (text.startsWith('tag:') && text.length > 'tag:'.length) return { by: 'tag', tag: text.slice('tag:'.length) };
  throw new KeelError('usage-invalid', `${option} must be tenant, principal, task or tag:NAME; got ${JSON.stringify(text.slice(0, 40))}`);
}

/** What runs created in a period spent, by tenant, principal, task or a tag's value, with the period's total. */
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
  return { since: query.since, until: query.until, by: query.by, ...(query.tag === undefined ? {} : { tag: query.tag }), rows, total };
}
