import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { deadGatewayRuns } from '../dead-gateway-runs.ts';
import { paintStatus } from '../format/text.ts';
import { openDeployment } from '../open-deployment.ts';
import { servedFrom } from '../unserved-runs.ts';

/**
 * Resumes every non-terminal run of a served task, each from where its journal stops. Runs of
 * other tasks are never claimed: each is named, with its task, and left for a worker that serves it.
 * The runs of dead `keel serve` processes, which nothing can finish, are ended (`failed`,
 * gateway-process-died), as a gateway ends them.
 */
export const resumeCommand: Command = async (context) => {
  const deployment = await openDeployment(context, { create: false });
  try {
    const { keel } = deployment;
    const deadGateways = await (await deadGatewayRuns(context, deployment)).end();
    const settled = await keel.engine.resumeAll();
    const remaining = await keel.store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 1_000 });
    const results = [...deadGateways, ...settled].map((result) =>
      'abandoned' in result ? { id: result.runId, abandoned: result.abandoned, detail: result.detail } : { id: result.runId, task: result.task, status: result.status, reason: result.reason ?? null },
    );
    if (context.options.json) {
      printJson(context, {
        database: keel.store.location,
        resumed: results,
        stillOpen: remaining.map((run) => ({ id: run.id, task: run.task, status: run.status, leaseOwner: run.leaseOwner, served: keel.serves(run.task) })),
      });
      return 0;
    }
    if (results.length === 0) context.output.stdout('Nothing to resume: every run of a served task is in an end state, waiting for a person, or held by a live worker.\n');
    for (const result of results) {
      context.output.stdout('status' in result ? `${paintStatus(context.paint, result.status)}  ${result.id}${result.reason === null ? '' : `  ${result.reason}`}\n` : `left  ${result.id}  ${result.detail}\n`);
    }
    for (const run of remaining) {
      if (!keel.serves(run.task)) context.output.stdout(`left  ${run.id}  task ${run.task} is not served here (${servedFrom(deployment)})\n`);
      else context.output.stdout(`still ${run.status}  ${run.id}${run.leaseOwner === null ? '' : ` (held by ${run.leaseOwner})`}\n`);
    }
    return 0;
  } finally {
    await deployment.close();
  }
};
