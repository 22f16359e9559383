/**
 * The fleet drill, reduced to fit the suite (the full 2,000-run drill is `npm run fleet`): four
 * real `keel worker` processes on one PostgreSQL database of their own drain 200 runs of an agent
 * under one tenant-day budget that runs out part-way and one per-tenant model-call rate limit.
 *  - calm: the budget holds, the ledger equals the journals' model-call costs to the micro-dollar,
 *    the rate limit holds across the workers by the limiter's own clock, failures in worker-1 open
 *    sim:fast's breaker and the others shed their calls to it within 1 s, every run ends or waits
 *    for a person, every chain verifies, every worker exits 0 on SIGTERM;
 *  - disrupted: one worker SIGKILLed once 30% of the runs have settled (a fresh one started in its
 *    place), PostgreSQL restarted at 60%: still no overspend; the killed worker's reservations are
 *    billed by the runs' takeovers, so the ledger equals the journals but for settles the restart
 *    lost (each hold's excess over what its journal billed, counted exactly); every run ends or
 *    waits, and the surviving workers ride the restart out and exit 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFleet, describeFleet, fleetBudgetMicros, fleetFailingWorker, fleetRateLimit } from './fleet-checks.ts';
import { runFleet } from './fleet-harness.ts';
import { findPostgresBinaries } from './private-postgres.ts';

const binaries = findPostgresBinaries();
const skip = 'skipReason' in binaries ? binaries.skipReason : false;
const postgresBin = 'bin' in binaries ? binaries.bin : '';
const runs = 200;
const budgetMicros = fleetBudgetMicros(runs);
const calmBudgetMicros = fleetBudgetMicros(runs, { failingWorker: true });

test(`four workers drain ${runs} runs under one budget, rate limit and breaker: no overspend, the ledger equals the journals, the limit and breaker hold across workers`, { skip, timeout: 120_000 }, async () => {
  const report = await runFleet({ postgresBin, runs, workers: 4, concurrency: 8, budgetMicros: calmBudgetMicros, rateLimit: fleetRateLimit, failingWorker: fleetFailingWorker });
  process.stdout.write(`${describeFleet(report).replace(/^/gm, '# ')}\n`);
  assert.deepEqual(checkFleet(report, { disrupted: false }), []);
  assert.equal(report.ledgerSpentMicros, report.journalMicros);
  assert.ok((report.statuses.ok ?? 0) > 0 && (report.statuses.escalated ?? 0) + (report.statuses.degraded ?? 0) > 0, JSON.stringify(report.statuses));
});

test(`a worker SIGKILLed and PostgreSQL restarted mid-drill: no overspend, every run ends or waits, the others ride it out`, { skip, timeout: 120_000 }, async () => {
  const report = await runFleet({ postgresBin, runs, workers: 4, concurrency: 8, budgetMicros, rateLimit: fleetRateLimit, killAt: 0.3, replaceKilled: true, restartAt: 0.6 });
  process.stdout.write(`${describeFleet(report).replace(/^/gm, '# ')}\n`);
  assert.deepEqual(checkFleet(report, { disrupted: true }), []);
  assert.equal(report.killed, 'worker-2');
  assert.ok(report.restartedAfterSettled !== undefined);
  assert.equal(report.workerExits.length, 5, 'four workers and the one started in place of the killed one');
});
