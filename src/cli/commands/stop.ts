import { demoTasks, PaymentsLedger } from '../../demo/index.ts';
import { Engine } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import { isTerminal } from '../../journal/index.ts';
import type { RunRecordV1 } from '../../spec/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { demoGovernance } from '../demo-governance.ts';
import { paintStatus } from '../format/text.ts';
import { ledgerPath } from './demo.ts';

/** `keel stop RUN` / `keel stop --all`: halt runs in a safe state, journaled as a human decision. */
export const stopCommand: Command = async (context) => {
  const all = context.options.all;
  if ((context.positionals.length === 0) === !all || context.positionals.length > 1) throw new KeelError('usage-invalid', 'usage: keel stop RUN | keel stop --all [--reason "…"]');
  const governance = demoGovernance(context.options.config, context.environment);
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  const ledger = new PaymentsLedger(ledgerPath(context.options.db, context.environment));
  try {
    const engine = new Engine({ store, tasks: demoTasks(ledger, governance) });
    const request = { by: decider(context.options.as, context.environment), reason: context.options.reason ?? 'stopped from the command line' };
    const targets = all ? (await store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 100_000 })).map((run) => run.id) : context.positionals;
    const results: RunRecordV1[] = await Promise.all(targets.map((runId) => engine.stop(runId, request)));
    const unstopped = results.filter((run) => !isTerminal(run.status));
    if (context.options.json) printJson(context, { stopped: results.map((run) => ({ id: run.id, status: run.status, reason: run.reason })), stillRunning: unstopped.map((run) => run.id) });
    else {
      if (results.length === 0) context.output.stdout('No run to stop.\n');
      for (const run of results) context.output.stdout(`${paintStatus(context.paint, run.status)}  ${run.id}${run.reason === null ? '' : `  ${run.reason}`}\n`);
    }
    if (unstopped.length > 0) {
      context.output.stderr(`keel: ${unstopped.length} run(s) did not stop within 2 s (their worker will stop them at its next safe point): ${unstopped.map((run) => run.id).join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    ledger.close();
    await store.close();
  }
};
