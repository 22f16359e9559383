import { KeelError } from '../../errors/index.ts';
import type { RunRecordV1, RunStatusV1 } from '../../spec/index.ts';
import { openStore } from '../../store/open-store.ts';
import { checkPeriod } from '../../store/period.ts';
import { parseRunTagFilter } from '../../store/run-tags.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { count, duration, micros, paintStatus, table } from '../format/text.ts';

const statuses: RunStatusV1[] = ['queued', 'running', 'waiting', 'ok', 'degraded', 'escalated', 'failed'];

export function runSummary(run: RunRecordV1) {
  return {
    id: run.id,
    task: run.task,
    taskVersion: run.taskVersion,
    status: run.status,
    reason: run.reason,
    principal: run.principal,
    tenant: run.tenant,
    steps: run.stepCount,
    tokens: { input: run.inputTokens, output: run.outputTokens, total: run.inputTokens + run.outputTokens },
    costMicros: run.costMicros,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    durationMs: Date.parse(run.updatedAt) - Date.parse(run.createdAt),
    ...(run.tags === undefined ? {} : { tags: run.tags }),
  };
}

export const runsCommand: Command = async (context) => {
  const status = context.options.status;
  if (status !== undefined && !statuses.includes(status as RunStatusV1)) {
    throw new KeelError('usage-invalid', `--status must be one of ${statuses.join(', ')}; got ${status}`);
  }
  // Its range was checked with the other arguments (command-table.ts), before anything was opened.
  const limit = context.options.limit === undefined ? 50 : Number(context.options.limit);
  // Before the store is opened: a malformed --tag, --since or --until opens nothing.
  const tags = parseRunTagFilter(context.options.tag, '--tag');
  const tagged = Object.keys(tags).length > 0;
  // The forms and words of keel spend's period: created at or after --since, before --until.
  const period = checkPeriod(context.options, { since: '--since', until: '--until' });
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const runs = await store.listRuns({ limit, ...(status === undefined ? {} : { statuses: [status as RunStatusV1] }), ...(tagged ? { tags } : {}), ...period });
    if (context.options.json) {
      printJson(context, { database: store.location, runs: runs.map(runSummary) });
      return 0;
    }
    if (runs.length === 0) {
      const filters = [...(status === undefined ? [] : [`status ${status}`]), ...Object.entries(tags).map(([name, value]) => `tag ${name}=${value}`)];
      const bounds = [...(period.since === undefined ? [] : [`since ${period.since}`]), ...(period.until === undefined ? [] : [`before ${period.until}`])];
      const created = bounds.length === 0 ? [] : [`created ${bounds.join(' and ')}`];
      const described = [...(filters.length === 0 ? [] : [`with ${filters.join(', ')}`]), ...created].join(', ');
      context.output.stdout(`No runs${described === '' ? '' : ` ${described}`} in ${store.location}.\n`);
      return 0;
    }
    const { paint } = context;
    const rows = [['RUN', 'TASK', 'STATUS', 'STEPS', 'TOKENS', 'COST', 'STARTED', 'TOOK'].map((heading) => paint('dim', heading))];
    for (const run of runs) {
      const summary = runSummary(run);
      rows.push([run.id, run.task, paintStatus(paint, run.status), String(run.stepCount), count(summary.tokens.total), micros(run.costMicros), run.createdAt.replace('T', ' ').slice(0, 19), duration(summary.durationMs)]);
    }
    context.output.stdout(`${table(rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
};
