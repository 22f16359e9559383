import { demoTasks, PaymentsLedger, supportScript } from '../../demo/index.ts';
import { replayRun, replayWithCandidate, TaskCatalog } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import { resolveModel } from '../../models/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { ledgerPath } from './demo.ts';

/**
 * `keel replay RUN`: rebuild every model input of a run from its journal and check it byte for
 * byte. `--model P:M`: re-run it against another model, tools answered from the journal.
 */
export const replayCommand: Command = async (context) => {
  const [runId, ...extra] = context.positionals;
  if (runId === undefined || extra.length > 0) throw new KeelError('usage-invalid', 'usage: keel replay RUN [--model PROVIDER:MODEL]');
  const candidateName = context.options.model;
  const candidate = candidateName === undefined ? undefined : resolveModel(candidateName, { environment: context.environment, simulator: { script: supportScript } });
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  // Replay never runs a tool, but the demo's task is built around its ledger; open it read-only in spirit.
  const ledger = new PaymentsLedger(ledgerPath(context.options.db, context.environment));
  try {
    const tasks = new TaskCatalog(demoTasks(ledger));
    if (candidate === undefined || candidateName === undefined) {
      const report = await replayRun(store, runId, tasks);
      if (context.options.json) printJson(context, report);
      else if (report.matched) context.output.stdout(`replayed ${runId}: all ${report.modelCalls} model inputs match the journal byte for byte\n`);
      else if (report.firstDifference !== undefined) {
        const { step, name, difference } = report.firstDifference;
        context.output.stdout(`replayed ${runId}: model input of step ${step} (${name}) differs at byte ${difference?.offset}\n  recorded: …${difference?.recorded}…\n  rebuilt:  …${difference?.rebuilt}…\n`);
      } else context.output.stdout(`replayed ${runId}: stopped early: ${report.stoppedEarly}\n`);
      if (!report.matched) {
        const first = report.firstDifference;
        context.output.stderr(
          first === undefined
            ? `keel: replay of ${runId} did not complete: ${report.stoppedEarly}\n`
            : `keel: replay of ${runId} differs: model input of step ${first.step} (${first.name}) at byte ${first.difference?.offset}\n`,
        );
      }
      return report.matched ? 0 : 1;
    }
    const report = await replayWithCandidate(store, runId, tasks, { name: candidateName, model: candidate });
    if (context.options.json) printJson(context, report);
    else {
      context.output.stdout(`replayed ${runId} against ${candidateName} (tools answered from the journal)\n`);
      context.output.stdout(`  recorded:  ${report.recorded.status}, ${report.recorded.toolCalls.length} tool calls, ${report.recorded.tokens} tokens\n`);
      context.output.stdout(`  candidate: ${report.candidateRun.completed ? 'finished' : `stopped: ${report.candidateRun.stoppedBecause}`}, ${report.candidateRun.toolCalls.length} tool calls, ${report.candidateRun.tokens} tokens\n`);
      context.output.stdout(report.changes.length === 0 ? '  no changes\n' : report.changes.map((change) => `  changed: ${change}\n`).join(''));
    }
    return 0;
  } finally {
    ledger.close();
    await store.close();
  }
};
