/**
 * `npm run fleet`: the full drill. Four `keel worker` processes drain 2,000 runs under one
 * tenant-day budget, one worker SIGKILLed at 30% and PostgreSQL restarted at 60%; then the checks
 * of test/fleet/fleet.test.ts, and the figures. Exit 1 when a check fails.
 * Options: --runs N (2000), --workers N (4), --concurrency N (8), --budget MICROS (a third of what
 * the runs would spend), --calm (no kill, no restart), --no-replace (the others wait out the
 * killed worker's 30 s leases instead of a fresh worker taking them over at once).
 */
import { parseArgs } from 'node:util';
import { checkFleet, describeFleet } from './fleet-checks.ts';
import { runFleet } from './fleet-harness.ts';
import { findPostgresBinaries } from './private-postgres.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
    budget: { type: 'string' },
    calm: { type: 'boolean', default: false },
    'no-replace': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const binaries = findPostgresBinaries();
if ('skipReason' in binaries) {
  process.stderr.write(`fleet: cannot run: ${binaries.skipReason}\n`);
  process.exit(1);
}
const log = (line: string) => process.stdout.write(`# ${line}\n`);
const report = await runFleet({
  postgresBin: binaries.bin,
  runs,
  workers: Number(values.workers),
  concurrency: Number(values.concurrency),
  // About 65 micro-USD a run: a third of the queue's need, so the budget runs out part-way.
  budgetMicros: values.budget === undefined ? runs * 22 : Number(values.budget),
  ...(values.calm ? {} : { killAt: 0.3, restartAt: 0.6, replaceKilled: !values['no-replace'] }),
  log,
});
process.stdout.write(`${describeFleet(report)}\n`);
const problems = checkFleet(report, { disrupted: !values.calm });
for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
