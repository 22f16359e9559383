import { loadRun } from '../../journal/read-run.ts';
import { openStore } from '../../store/open-store.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { table } from '../format/text.ts';

const pageSize = 500;

/** The escalation queue: runs waiting, durably, for a person's decision. */
export const escalationsCommand: Command = async (context) => {
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const queue = [];
    // Every waiting run, a page at a time: a queue longer than one page is still the whole queue.
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const waiting = await store.listRuns({ statuses: ['waiting'], limit: pageSize, ...(after === undefined ? {} : { after }) });
      for (const run of waiting) {
        const { state } = await loadRun(store, run.id);
        const request = state.pendingApproval;
        if (request === undefined) continue;
        queue.push({ id: run.id, requestId: request.id, task: run.task, principal: run.principal, tenant: run.tenant, reason: request.reason, details: request.details, waitingSince: run.updatedAt });
      }
      const last = waiting.at(-1);
      if (waiting.length < pageSize || last === undefined) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    if (context.options.json) {
      printJson(context, { database: store.location, escalations: queue });
      return 0;
    }
    if (queue.length === 0) {
      context.output.stdout('No run is waiting for a decision.\n');
      return 0;
    }
    const rows = [['RUN', 'TASK', 'FOR', 'SINCE', 'WHY'].map((heading) => context.paint('dim', heading))];
    for (const item of queue) rows.push([item.id, item.task, item.principal, item.waitingSince.replace('T', ' ').slice(0, 19), item.reason]);
    context.output.stdout(`${table(rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
};
