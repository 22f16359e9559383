import { KeelError } from '../../errors/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { paintStatus } from '../format/text.ts';
import { openDeployment } from '../open-deployment.ts';

/** `keel approve RUN` / `keel deny RUN --reason …`: record the decision, then resume the run here if its task is served. */
function decideCommand(decision: 'approve' | 'deny'): Command {
  return async (context) => {
    const [runId, ...extra] = context.positionals;
    if (runId === undefined || extra.length > 0) throw new KeelError('usage-invalid', `usage: keel ${decision} RUN${decision === 'deny' ? ' --reason "…"' : ''}`);
    if (decision === 'deny' && (context.options.reason ?? '').trim() === '') throw new KeelError('usage-invalid', 'keel deny needs --reason: the run records why it was denied');
    const deployment = await openDeployment(context, { create: false });
    try {
      const who = decider(context.options.as, context.environment);
      const result = await deployment.keel.decide(runId, { decision, decider: who, ...(context.options.reason === undefined ? {} : { reason: context.options.reason }) });
      const verb = decision === 'approve' ? 'approved' : 'denied';
      if (context.options.json) printJson(context, { decided: { runId, decision, decider: who }, result });
      else if ('status' in result) context.output.stdout(`${who} ${verb} ${runId}; the run is now ${paintStatus(context.paint, result.status)}${result.reason === undefined ? '' : `: ${result.reason}`}\n`);
      else {
        // A proxy session's run is continued by the keel mcp-proxy process holding the session, not by a worker.
        const task = (await deployment.keel.store.getRun(runId))?.task;
        const next = task === 'mcp-proxy' ? 'the keel mcp-proxy session holding it continues the call' : `it will resume on the next worker (${result.detail})`;
        context.output.stdout(`${who} ${verb} ${runId}; ${next}\n`);
      }
      return 0;
    } finally {
      await deployment.close();
    }
  };
}

export const approveCommand = decideCommand('approve');
export const denyCommand = decideCommand('deny');
