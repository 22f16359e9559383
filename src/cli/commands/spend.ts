// The narrow entry: a read command does not load the gateway for the report it shares with the admin API.
import { defaultSpendPeriod, parseSpendGrouping, spendReport } from '../../gateway/admin/spend-report.ts';
import { openStore } from '../../store/open-store.ts';
import { checkPeriod } from '../../store/period.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { count, micros, table } from '../format/text.ts';

/**
 * `keel spend [--since T] [--until T] [--by tenant|principal|task|tag:NAME]`: what runs created in a
 * period spent, most costly first, from the run index (the current UTC month by tenant unless told);
 * by tag, the runs without it are one group, shown as (none). Reads only.
 */
export const spendCommand: Command = async (context) => {
  const by = context.options.by ?? 'tenant';
  const grouping = parseSpendGrouping(by, '--by');
  // Before the store is opened, in the words keel runs uses for the same options: a bad one opens nothing.
  checkPeriod(context.options, { since: '--since', until: '--until' });
  const period = defaultSpendPeriod();
  const since = context.options.since ?? period.since;
  const until = context.options.until ?? period.until;
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const report = await spendReport(store, { since, until, ...grouping });
    if (context.options.json) {
      printJson(context, { database: store.location, ...report });
      return 0;
    }
    const { paint } = context;
    const rows = [[(grouping.tag ?? grouping.by).toUpperCase(), 'RUNS', 'COST', 'TOKENS IN', 'TOKENS OUT'].map((heading) => paint('dim', heading))];
    for (const row of report.rows) rows.push([row.group ?? '(none)', String(row.runs), micros(row.costMicros), count(row.inputTokens), count(row.outputTokens)]);
    rows.push(['total', String(report.total.runs), micros(report.total.costMicros), count(report.total.inputTokens), count(report.total.outputTokens)].map((cell) => paint('dim', cell)));
    context.output.stdout(`Runs created from ${report.since} to ${report.until}, by ${by}:\n${table(rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
};
