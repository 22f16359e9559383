/**
 * One Keel process of the shared-limits tests, on the PostgreSQL schema it is given (and on Redis
 * when KEEL_REDIS_URL is set in its environment). Prints one JSON line when done.
 *
 *   metered <url> <schema> <lanes> <runs per lane>   runs of the rate-limited agent, lanes at once
 *   failing <url> <schema> <runs>                    runs whose every model call fails
 *   watching <url> <schema>                          runs one after another; prints `ready` after
 *                                                    the first, and stops a few runs after its first
 *                                                    shed call (or at a bound)
 */
import { createKeel } from 'keel';
import { failingAgent, limitedTenant, limitsConfig, meteredAgent, watchingAgent } from './limits-agents.ts';

const [mode, url, schema, first, second] = process.argv.slice(2);
if (mode === undefined || url === undefined || schema === undefined) throw new Error('usage: limits-process.ts <mode> <postgres-url> <schema> ...');
const keel = await createKeel({ database: url, config: limitsConfig, agents: [meteredAgent, watchingAgent, failingAgent], environment: { ...process.env, KEEL_PG_SCHEMA: schema } });
const runs: { runId: string; status: string }[] = [];
const start = async (task: string, note: string) => {
  const outcome = await keel.run(task, { message: note }, { principal: 'ada', tenant: limitedTenant });
  runs.push({ runId: outcome.runId, status: outcome.status });
  return outcome;
};

if (mode === 'metered') {
  await Promise.all(
    Array.from({ length: Number(first) }, async (_, lane) => {
      for (let index = 0; index < Number(second); index += 1) await start('metered-agent', `note ${lane}.${index}`);
    }),
  );
} else if (mode === 'failing') {
  for (let index = 0; index < Number(first); index += 1) await start('failing-agent', `failing ${index}`);
} else {
  // A bound on a loop that would otherwise never see a shed call: the test then fails on its figures.
  const maxRuns = 2_000;
  let shedRuns = 0;
  for (let index = 0; index < maxRuns && shedRuns < 5; index += 1) {
    const outcome = await start('watching-agent', `watching ${index}`);
    if (index === 0) process.stdout.write('ready\n');
    const journal = await keel.store.readJournal(outcome.runId);
    if (journal.some((event) => event.type === 'model-attempt-end' && (event.data as { error?: { code?: string } }).error?.code === 'breaker-open')) shedRuns += 1;
  }
}
await keel.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, mode, runs })}\n`);
