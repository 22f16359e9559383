import { dirname, join } from 'node:path';
import { PaymentsLedger, runDemo } from '../../demo/index.ts';
import { KeelError } from '../../errors/index.ts';
import { resolveModel } from '../../models/index.ts';
import { defaultDatabasePath, openStore, resolveDatabase } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { demoGovernance } from '../demo-governance.ts';
import { printJson } from '../command.ts';
import { count, dollars, duration, micros, paintStatus, table, truncate } from '../format/text.ts';

/** Where the demo's payments system keeps its refunds: beside the embedded journal. */
export function ledgerPath(database: string | undefined, environment: NodeJS.ProcessEnv): string {
  const target = resolveDatabase(database, environment);
  return target.dialect === 'sqlite' ? join(dirname(target.path), 'demo-payments.db') : join(dirname(defaultDatabasePath), 'demo-payments.db');
}

export const demoCommand: Command = async (context) => {
  const model = context.options.model ?? 'sim:default';
  resolveModel(model, { environment: context.environment }); // fail on a bad --model before anything is written
  const seed = context.options.seed === undefined ? 7 : Number(context.options.seed);
  if (!Number.isInteger(seed)) throw new KeelError('usage-invalid', `--seed must be an integer, got ${context.options.seed}`);
  const governance = demoGovernance(context.options.config, context.environment);
  const store = await openStore({ database: context.options.db, create: true, environment: context.environment });
  const ledger = new PaymentsLedger(ledgerPath(context.options.db, context.environment));
  try {
    const runs = await runDemo({ store, ledger, model, seed, governance });
    if (context.options.json) {
      printJson(context, { database: store.location, model, ...(governance.route === undefined ? {} : { route: { name: 'support', models: governance.route.models } }), runs });
      return 0;
    }
    const { paint } = context;
    // Under a config whose `support` route names the models, those answer, not --model.
    const on = governance.route === undefined ? model : `route support (${governance.route.models.join(', ')})`;
    context.output.stdout(`${paint('bold', 'Keel demo')}: a support agent on ${on}, journaled in ${store.location}\n\n`);
    for (const run of runs) {
      const detail =
        run.status === 'ok' || run.status === 'degraded'
          ? run.refundId === null
            ? `answered without a refund: ${truncate(run.answer ?? '', 90)}`
            : `refund ${run.refundId} of ${dollars(run.refundCents ?? 0)} issued: ${truncate(run.answer ?? '', 70)}`
          : (run.reason ?? '');
      context.output.stdout(
        `${table([[paintStatus(paint, run.status), run.customer, run.id, `${run.steps} steps`, `${count(run.tokens)} tokens`, micros(run.costMicros), duration(run.durationMs)]], [10, 11, 40, 9, 13, 10, 6])}\n`,
      );
      context.output.stdout(`  ${detail}\n`);
      for (const marker of run.confidence) context.output.stdout(`  ${paint('yellow', `confidence ${marker.confidence}`)} on ${marker.subject}: ${marker.reason}\n`);
    }
    const first = runs[0]?.id ?? 'RUN';
    const waiting = runs.filter((run) => run.status === 'waiting');
    context.output.stdout(`\n${runs.length} runs: ${runs.length - waiting.length} in an end state, ${waiting.length} waiting, durably, for a person.\n`);
    for (const run of waiting) context.output.stdout(`Decide: keel approve ${run.id}   or   keel deny ${run.id} --reason "…"\n`);
    context.output.stdout(`Look around: keel runs · keel show ${first} · keel escalations · keel audit verify\n`);
    return 0;
  } finally {
    ledger.close();
    await store.close();
  }
};
