import type { RunOutcome } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { JsonValue } from '../../spec/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { paintStatus } from '../format/text.ts';
import { openDeployment } from '../open-deployment.ts';

/**
 * `keel run TASK --input JSON`: starts a run of a served task and executes it in this process
 * (exit 0 when it ends ok or degraded or waits for a person, 1 when it fails or escalates).
 * `--enqueue` only opens it, for `keel worker` to execute.
 */
export const runCommand: Command = async (context) => {
  const [task, ...extra] = context.positionals;
  if (task === undefined || extra.length > 0) throw new KeelError('usage-invalid', 'usage: keel run TASK --input JSON [--principal P] [--tenant T] [--enqueue]');
  const input = parseInput(context.options.input);
  const deployment = await openDeployment(context, { create: true, task });
  try {
    const { keel } = deployment;
    const request = { ...(context.options.principal === undefined ? {} : { principal: context.options.principal }), ...(context.options.tenant === undefined ? {} : { tenant: context.options.tenant }) };
    if (context.options.enqueue) {
      const runId = await keel.enqueue(task, input, request);
      if (context.options.json) printJson(context, { runId, task, status: 'queued' });
      else context.output.stdout(`queued  ${runId}  ${task}  (a keel worker serving ${task} will execute it)\n`);
      return 0;
    }
    const outcome = await keel.run(task, input, request);
    if (context.options.json) printJson(context, outcome);
    else printOutcome(context, outcome);
    return outcome.status === 'failed' || outcome.status === 'escalated' ? 1 : 0;
  } finally {
    await deployment.close();
  }
};

function parseInput(text: string | undefined): JsonValue {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new KeelError('usage-invalid', `--input is not valid JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

function printOutcome(context: Parameters<Command>[0], outcome: RunOutcome): void {
  context.output.stdout(`${paintStatus(context.paint, outcome.status)}  ${outcome.runId}  ${outcome.task}${outcome.reason === undefined ? '' : `  ${outcome.reason}`}\n`);
  if (outcome.output !== undefined) context.output.stdout(`output: ${JSON.stringify(outcome.output)}\n`);
  for (const marker of outcome.confidence) context.output.stdout(`${context.paint('yellow', `confidence ${marker.confidence}`)} on ${marker.subject}: ${marker.reason}\n`);
  if (outcome.status === 'waiting') context.output.stdout(`Decide: keel approve ${outcome.runId}   or   keel deny ${outcome.runId} --reason "…"\n`);
}
