import { demoTasks, PaymentsLedger } from '../../demo/index.ts';
import { Engine } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { demoGovernance } from '../demo-governance.ts';
import { paintStatus } from '../format/text.ts';
import { ledgerPath } from './demo.ts';

/** `keel approve RUN` / `keel deny RUN --reason …`: record the decision, then resume the run here. */
function decideCommand(decision: 'approve' | 'deny'): Command {
  return async (context) => {
    const [runId, ...extra] = context.positionals;
    if (runId === undefined || extra.length > 0) throw new KeelError('usage-invalid', `usage: keel ${decision} RUN${decision === 'deny' ? ' --reason "…"' : ''}`);
    if (decision === 'deny' && (context.options.reason ?? '').trim() === '') throw new KeelError('usage-invalid', 'keel deny needs --reason: the run records why it was denied');
    const governance = demoGovernance(context.options.config, context.environment);
    const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
    const ledger = new PaymentsLedger(ledgerPath(context.options.db, context.environment));
    try {
      const engine = new Engine({ store, tasks: demoTasks(ledger, governance) });
      const who = decider(context.options.as, context.environment);
      const result = await engine.decide(runId, { decision, decider: who, ...(context.options.reason === undefined ? {} : { reason: context.options.reason }) });
      if (context.options.json) printJson(context, { decided: { runId, decision, decider: who }, result });
      else if ('status' in result) context.output.stdout(`${who} ${decision === 'approve' ? 'approved' : 'denied'} ${runId}; the run is now ${paintStatus(context.paint, result.status)}${result.reason === undefined ? '' : `: ${result.reason}`}\n`);
      else context.output.stdout(`${who} ${decision === 'approve' ? 'approved' : 'denied'} ${runId}; it will resume on the next worker (${result.detail})\n`);
      return 0;
    } finally {
      ledger.close();
      await store.close();
    }
  };
}

export const approveCommand = decideCommand('approve');
export const denyCommand = decideCommand('deny');
