import { createKeel } from '../../agent/index.ts';
import { buildGovernance, loadConfig } from '../../config/index.ts';
import { resolveModel } from '../../models/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command, CommandContext } from '../command.ts';
import type { Keel } from '../../agent/index.ts';
import type { DemoRun } from '../demo-agent.ts';
import { demoRequests } from '../demo-requests.ts';
import { openDemoAgent } from '../demo-agent.ts';
import { printJson } from '../command.ts';
import { count, dollars, duration, micros, paintStatus, table, truncate } from '../format/text.ts';

/** `keel demo`: the support-refund example's agent (examples/support-refund) answers five customers. */
export const demoCommand: Command = async (context) => {
  const { environment } = context;
  const configPath = context.options.config ?? environment.KEEL_CONFIG;
  const config = configPath === undefined ? undefined : loadConfig(configPath);
  // A bad setting, --model or key stops the command here, before anything is written.
  if (config !== undefined && configPath !== undefined) buildGovernance(config, { environment, source: configPath });
  const demo = await openDemoAgent(context, config);
  const model = context.options.model ?? 'sim:default';
  try {
    if (demo.route === undefined) resolveModel(demo.model, { environment, ...(config?.providers === undefined ? {} : { providers: config.providers }) });
    const store = await openStore({ database: context.options.db, create: true, environment });
    try {
      const keel = await createKeel({ store, environment, agents: [demo.agent], ...(config === undefined ? {} : { config }) });
      try {
        if (context.options.count === undefined) printRuns(context, store.location, model, demo.route, await demo.runDemo(keel));
        else printCounted(context, store.location, model, await runCounted(keel, demo.agent.name, Number(context.options.count), seedOf(context)));
      } finally {
        await keel.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    demo.close();
  }
  return 0;
};

function seedOf(context: CommandContext): number {
  return context.options.seed === undefined ? 7 : Number(context.options.seed);
}

/** `--count N`: N varied, seeded requests (demo-requests.ts), one run each, one after the other. */
async function runCounted(keel: Keel, task: string, count: number, seed: number): Promise<{ id: string; customer: string; session: string; status: string }[]> {
  const runs: { id: string; customer: string; session: string; status: string }[] = [];
  for (const request of demoRequests(count, seed)) {
    const outcome = await keel.run(task, { message: request.message, session: request.session }, { principal: request.customer, tenant: 'acme-shop' });
    runs.push({ id: outcome.runId, customer: request.customer, session: request.session, status: outcome.status });
  }
  return runs;
}

function printCounted(context: CommandContext, location: string, model: string, runs: { id: string; status: string }[]): void {
  if (context.options.json) {
    printJson(context, { database: location, model, runs });
    return;
  }
  const byStatus = new Map<string, number>();
  for (const run of runs) byStatus.set(run.status, (byStatus.get(run.status) ?? 0) + 1);
  context.output.stdout(`${context.paint('bold', 'Keel demo')}: ${runs.length} support requests on ${model}, journaled in ${location}
`);
  context.output.stdout(`${[...byStatus].map(([status, number]) => `${number} ${paintStatus(context.paint, status as DemoRun['status'])}`).join(', ')}
`);
  context.output.stdout(`Pin them: keel dataset create NAME --task support-refund · then keel eval run --dataset NAME --model sim:default@0.85
`);
}

function printRuns(context: CommandContext, location: string, model: string, route: { name: string; models: string[] } | undefined, runs: DemoRun[]): void {
  if (context.options.json) {
    printJson(context, { database: location, model, ...(route === undefined ? {} : { route }), runs });
    return;
  }
  const { paint } = context;
  // Under a config whose `support` route names the models, those answer, not --model.
  const on = route === undefined ? model : `route support (${route.models.join(', ')})`;
  context.output.stdout(`${paint('bold', 'Keel demo')}: a support agent on ${on}, journaled in ${location}\n\n`);
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
}
