import { Engine } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import { isTerminal } from '../../journal/index.ts';
import type { RunRecordV1 } from '../../spec/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { paintStatus } from '../format/text.ts';

/**
 * `keel stop RUN` / `keel stop --all`: halt runs in a safe state, journaled as a human decision.
 * Stopping needs no task code, so runs of any task stop; a run that had already ended is said to
 * have, and is left untouched.
 */
export const stopCommand: Command = async (context) => {
  const all = context.options.all;
  if ((context.positionals.length === 0) === !all || context.positionals.length > 1) throw new KeelError('usage-invalid', 'usage: keel stop RUN | keel stop --all [--reason "…"]');
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  try {
    const engine = new Engine({ store, tasks: [] });
    const request = { by: decider(context.options.as, context.environment), reason: context.options.reason ?? 'stopped from the command line' };
    const targets: RunRecordV1[] = [];
    if (all) targets.push(...(await store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 100_000 })));
    for (const runId of all ? [] : context.positionals) {
      const run = await store.getRun(runId);
      if (run === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${store.location} (list them with \`keel runs\`)`);
      targets.push(run);
    }
    const ended = targets.filter((run) => isTerminal(run.status));
    const results: RunRecordV1[] = await Promise.all(targets.filter((run) => !isTerminal(run.status)).map((run) => engine.stop(run.id, request)));
    const unstopped = results.filter((run) => !isTerminal(run.status));
    if (context.options.json) {
      printJson(context, {
        stopped: results.map((run) => ({ id: run.id, status: run.status, reason: run.reason })),
        alreadyEnded: ended.map((run) => ({ id: run.id, status: run.status, reason: run.reason })),
        stillRunning: unstopped.map((run) => run.id),
      });
    } else {
      if (targets.length === 0) context.output.stdout('No run to stop.\n');
      for (const run of ended) context.output.stdout(`${run.id} had already ended ${paintStatus(context.paint, run.status)}${run.reason === null ? '' : ` (${run.reason})`}; nothing to stop\n`);
      for (const run of results) {
        // The run may have reached its own end between the request and the stop.
        const own = isTerminal(run.status) && !(run.status === 'failed' && (run.reason ?? '').startsWith('stopped by '));
        context.output.stdout(`${paintStatus(context.paint, run.status)}  ${run.id}${run.reason === null ? '' : `  ${run.reason}`}${own ? '  (ended on its own before the stop took effect)' : ''}\n`);
      }
    }
    if (unstopped.length > 0) {
      context.output.stderr(`keel: ${unstopped.length} run(s) did not stop within 2 s (their worker will stop them at its next safe point): ${unstopped.map((run) => run.id).join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await store.close();
  }
};
