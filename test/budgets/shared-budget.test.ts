/**
 * Two real Keel processes on one PostgreSQL schema run an agent under one tenant-day budget until
 * the budget refuses them. The budget lives in the store, so together they never spend past it,
 * and the ledger's spend equals, to the micro-dollar, the sum of the model calls' costs in the
 * journals of every run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { PostgresStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';
import { budgetTenant, dailyBudgetMicros } from './spend-agent.ts';

const run = promisify(execFile);
const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('keel_shared_budget');
after(() => (skip === false ? dropSchema(url, schema) : undefined));

interface ProcessReport {
  pid: number;
  runs: { runId: string; status: string; reason: string | null }[];
}

test('two processes under one tenant-day budget never overspend it, and the ledger equals the journals', { skip }, async () => {
  const dayBefore = new Date().toISOString().slice(0, 10);
  const script = join(import.meta.dirname, 'spend-process.ts');
  const spawnOne = async (): Promise<ProcessReport> => {
    const { stdout } = await run(process.execPath, ['--conditions=keel-source', script, url, schema, '3'], { timeout: 120_000 });
    return JSON.parse(stdout) as ProcessReport;
  };
  // The schema is made first, so neither process spends while the other is still migrating it.
  await (await PostgresStore.open({ url, schema })).close();
  const reports = await Promise.all([spawnOne(), spawnOne()]);
  const dayAfter = new Date().toISOString().slice(0, 10);

  const store = await PostgresStore.open({ url, schema, create: false });
  try {
    // A run that straddled midnight UTC spent from two days' budgets; each is checked on its own below.
    const days = [...new Set([dayBefore, dayAfter])];
    const accounts = await Promise.all(days.map((day) => store.budgets.readBudget(`tenant:${budgetTenant}:day:${day}`)));
    let journaled = 0;
    let calls = 0;
    for (const report of reports) {
      assert.ok(report.runs.length > 0);
      // Every loop ended on a refusal, not on the safety bound.
      assert.ok(report.runs.some((entry) => entry.status !== 'ok' && /budget|micro-USD/.test(entry.reason ?? '')), JSON.stringify(report.runs.at(-1)));
      for (const entry of report.runs) {
        for (const event of await store.readJournal(entry.runId)) {
          const data = event.data as { kind?: string; cost?: { micros?: number } };
          if (event.type === 'step-end' && data.kind === 'model-call' && data.cost?.micros !== undefined) {
            journaled += data.cost.micros;
            calls += 1;
          }
        }
      }
    }
    const spent = accounts.reduce((sum, account) => sum + account.spent.micros, 0);
    for (const account of accounts) {
      assert.ok(account.spent.micros <= dailyBudgetMicros, `spent ${account.spent.micros} of a ${dailyBudgetMicros} micro-USD day`);
      assert.equal(account.reserved.micros, 0, 'every reservation was settled');
    }
    process.stdout.write(
      `# shared budget: ${reports.map((report) => `pid ${report.pid}: ${report.runs.filter((entry) => entry.status === 'ok').length} ok runs`).join(', ')}; ${calls} model calls; ledger ${spent} = journals ${journaled} of ${dailyBudgetMicros} micro-USD\n`,
    );
    assert.equal(spent, journaled, 'the ledger and the journals agree to the micro-dollar');
    assert.ok(reports.every((report) => report.runs.some((entry) => entry.status === 'ok')), 'both processes spent from the budget');
  } finally {
    await store.close();
  }
});
