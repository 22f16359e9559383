import { demoTasks, PaymentsLedger } from '../../demo/index.ts';
import { Engine } from '../../engine/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { demoGovernance } from '../demo-governance.ts';
import { printJson } from '../command.ts';
import { paintStatus } from '../format/text.ts';
import { ledgerPath } from './demo.ts';

/** Resumes every non-terminal run this process can serve, each from where its journal stops. */
export const resumeCommand: Command = async (context) => {
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  const ledger = new PaymentsLedger(ledgerPath(context.options.db, context.environment));
  try {
    const engine = new Engine({ store, tasks: demoTasks(ledger, demoGovernance(context.options.config, context.environment)) });
    const settled = await engine.resumeAll();
    const remaining = await store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 1_000 });
    const results = settled.map((result) =>
      'abandoned' in result ? { id: result.runId, abandoned: result.abandoned, detail: result.detail } : { id: result.runId, task: result.task, status: result.status, reason: result.reason ?? null },
    );
    if (context.options.json) {
      printJson(context, { database: store.location, resumed: results, stillOpen: remaining.map((run) => ({ id: run.id, task: run.task, status: run.status, leaseOwner: run.leaseOwner })) });
      return 0;
    }
    if (results.length === 0) context.output.stdout('Nothing to resume: every run is in an end state or held by a live worker.\n');
    for (const result of results) {
      context.output.stdout('status' in result ? `${paintStatus(context.paint, result.status)}  ${result.id}${result.reason === null ? '' : `  ${result.reason}`}\n` : `left  ${result.id}  ${result.detail}\n`);
    }
    for (const run of remaining) context.output.stdout(`still ${run.status}  ${run.id}${run.leaseOwner === null ? '' : ` (held by ${run.leaseOwner})`}\n`);
    return 0;
  } finally {
    ledger.close();
    await store.close();
  }
};
