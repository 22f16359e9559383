import { replayRun, replayWithCandidate } from '../../engine/index.ts';
import type { CandidateReport } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import { canonicalJson } from '../../journal/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { openDeployment } from '../open-deployment.ts';

/**
 * `keel replay RUN`: rebuild every model input of a run from its journal and check it byte for
 * byte. `--model P:M`: re-run it against another model, tools answered from the journal, and
 * compare its status and output with the recorded run's. Exit 1 when anything differs.
 */
export const replayCommand: Command = async (context) => {
  const [runId, ...extra] = context.positionals;
  if (runId === undefined || extra.length > 0) throw new KeelError('usage-invalid', 'usage: keel replay RUN [--model PROVIDER:MODEL]');
  const candidateName = context.options.model;
  const deployment = await openDeployment(context, { create: false, replay: true });
  try {
    const { store, engine } = deployment.keel;
    if (candidateName === undefined) {
      const report = await replayRun(store, runId, engine.tasks);
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
    // The demo's simulated models answer from the demo's script; a tasks module's from the default one.
    const simulator = deployment.demoScript === undefined ? undefined : { script: deployment.demoScript };
    // Resolved as the deployment resolves models: a provider its config names is a candidate too.
    const candidate = deployment.keel.runtime.resolveModel(candidateName, simulator);
    const report = await replayWithCandidate(store, runId, engine.tasks, { name: candidateName, model: candidate });
    const differences = outcomeDifferences(report);
    if (context.options.json) printJson(context, { ...report, matches: differences.length === 0, differences });
    else {
      context.output.stdout(`replayed ${runId} against ${candidateName} (tools answered from the journal)\n`);
      context.output.stdout(`  recorded:  ${report.recorded.status}, ${report.recorded.toolCalls.length} tool calls, ${report.recorded.tokens} tokens\n`);
      context.output.stdout(
        `  candidate: ${report.candidateRun.status}${report.candidateRun.stoppedBecause === undefined ? '' : ` (${report.candidateRun.stoppedBecause})`}, ${report.candidateRun.toolCalls.length} tool calls, ${report.candidateRun.tokens} tokens\n`,
      );
      context.output.stdout(report.changes.length === 0 ? '  no changes\n' : report.changes.map((change) => `  changed: ${change}\n`).join(''));
    }
    if (differences.length > 0) {
      context.output.stderr(`keel: ${candidateName} does not reproduce ${runId}: ${differences.join('; ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await deployment.close();
  }
};

/** What decides whether a candidate reproduces the run: how it ends and what it returns. */
function outcomeDifferences(report: CandidateReport): string[] {
  const differences: string[] = [];
  if (report.candidateRun.status !== report.recorded.status) differences.push(`status ${report.recorded.status} → ${report.candidateRun.status}`);
  const recorded = canonicalJson(report.recorded.output);
  const candidate = canonicalJson(report.candidateRun.output);
  if (recorded !== candidate) differences.push(`output ${excerpt(recorded)} → ${excerpt(candidate)}`);
  return differences;
}

function excerpt(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 79)}…`;
}
