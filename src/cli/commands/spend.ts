import { KeelError } from '../../errors/index.ts';
// The narrow entry: a read command does not load the gateway for the report it shares with the admin API.
import { defaultSpendPeriod, spendReport } from '../../gateway/admin/spend-report.ts';
import { openStore } from '../../store/open-store.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { count, micros, table } from '../format/text.ts';

const groupings = ['tenant', 'principal', 'task'] as const;

/**
 * `keel spend [--since T] [--until T] [--by tenant|principal|task]`: what runs created in a period
 * spent, most costly first, from the run index (the current UTC month by tenant unless told). Reads only.
 */
export const spendCommand: Command = async (context) => {
  const by = context.options.by ?? 'tenant';
  if (!(groupings as readonly string[]).includes(by)) throw new KeelError('usage-invalid', `--by must be one of ${groupings.join(', ')}; got ${JSON.stringify(by)}`);
  const period = defaultSpendPeriod();
  const since = context.options.since ?? period.since;
  const until = context.options.until ?? period.until;
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const report = await spendReport(store, { since, until, by: by as (typeof groupings)[number] });
    if (context.options.json) {
      printJson(context, { database: store.location, ...report });
      return 0;
    }
    const { paint } = context;
    const rows = [[by.toUpperCase(), 'RUNS', 'COST', 'TOKENS IN', 'TOKENS OUT'].map((heading) => paint('dim', heading))];
    for (const row of report.rows) rows.push([row.group ?? '(none)', String(row.runs), micros(row.costMicros), count(row.inputTokens), count(row.outputTokens)]);
    rows.push(['total', String(report.total.runs), micros(report.total.costMicros), count(report.total.inputTokens), count(report.total.outputTokens)].map((cell) => paint('dim', cell)));
    context.output.stdout(`Runs created from ${report.since} to ${report.until}, by ${by}:\n${table(rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
};
