/**
 * One Keel process of the shared-budget test: createKeel on the PostgreSQL schema it is given,
 * then `lanes` concurrent loops of runs under the tenant's daily budget, each loop stopping at its
 * first run the budget refused. Prints one JSON line: the runs it made and how each ended.
 * Usage: node --conditions=keel-source spend-process.ts <postgres-url> <schema> <lanes>
 */
import { createKeel } from 'keel';
import { budgetTenant, spendAgent, spendConfig } from './spend-agent.ts';

const [url, schema, lanesText] = process.argv.slice(2);
if (url === undefined || schema === undefined) throw new Error('usage: spend-process.ts <postgres-url> <schema> <lanes>');
const keel = await createKeel({ database: url, config: spendConfig, agents: [spendAgent], environment: { ...process.env, KEEL_PG_SCHEMA: schema } });
const runs: { runId: string; status: string; reason: string | null }[] = [];
// A bound on a loop that would otherwise never be refused: the test then fails on its figures.
const maxRunsPerLane = 200;
await Promise.all(
  Array.from({ length: Number(lanesText ?? '1') }, async (_, lane) => {
    for (let index = 0; index < maxRunsPerLane; index += 1) {
      const outcome = await keel.run('spend-agent', { message: `note ${lane}.${index}` }, { principal: 'ada', tenant: budgetTenant });
      runs.push({ runId: outcome.runId, status: outcome.status, reason: outcome.reason ?? null });
      if (outcome.status !== 'ok') return;
    }
  }),
);
await keel.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, runs })}\n`);
