/**
 * `npm run fleet`: the full drill, twice. Four `keel worker` processes drain 2,000 runs under one
 * tenant-day budget and one per-tenant rate limit: calm, with one worker's failures opening a
 * breaker; then with one worker SIGKILLed at 30% and PostgreSQL restarted at 60%. Each is checked
 * as test/fleet/fleet.test.ts checks its reduced fleet, and its figures printed. Exit 1 when a
 * check fails.
 * Options: --runs N (2000), --workers N (4), --concurrency N (8), --budget MICROS (about three
 * quarters of what the runs would spend), --only calm|disrupted, --no-replace (the others wait out the killed
 * worker's 30 s leases instead of a fresh worker taking them over at once).
 */
import { parseArgs } from 'node:util';
import { checkFleet, describeFleet, fleetBudgetMicros, fleetFailingWorker, fleetRateLimit } from './fleet-checks.ts';
import type { FleetOptions } from './fleet-harness.ts';
import { runFleet } from './fleet-harness.ts';
import { findPostgresBinaries } from './private-postgres.ts';

function fail(message: string): never {
  process.stderr.write(`fleet: ${message}\n`);
  process.exit(2);
}

let values;
try {
  values = parseArgs({
    options: {
      runs: { type: 'string', default: '2000' },
      workers: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '8' },
      budget: { type: 'string' },
      only: { type: 'string' },
      'no-replace': { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

function wholeNumber(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) fail(`--${name} must be a whole number of at least ${minimum}, got ${text}`);
  return value;
}

const runs = wholeNumber('runs', values.runs, 1);
const workers = wholeNumber('workers', values.workers, 2);
const concurrency = wholeNumber('concurrency', values.concurrency, 1);
const budgetMicros = values.budget === undefined ? fleetBudgetMicros(runs) : wholeNumber('budget', values.budget, 1);
if (values.only !== undefined && values.only !== 'calm' && values.only !== 'disrupted') fail(`--only must be calm or disrupted, got ${values.only}`);
const binaries = findPostgresBinaries();
if ('skipReason' in binaries) fail(`cannot run: ${binaries.skipReason}`);

const base: FleetOptions = { postgresBin: binaries.bin, runs, workers, concurrency, budgetMicros, rateLimit: fleetRateLimit, log: (line) => process.stdout.write(`# ${line}\n`) };
const variants: { name: 'calm' | 'disrupted'; options: FleetOptions }[] = [
  { name: 'calm', options: { ...base, ...(values.budget === undefined ? { budgetMicros: fleetBudgetMicros(runs, { failingWorker: true }) } : {}), failingWorker: fleetFailingWorker } },
  { name: 'disrupted', options: { ...base, killAt: 0.3, restartAt: 0.6, replaceKilled: !values['no-replace'] } },
];
let failures = 0;
for (const variant of variants.filter((candidate) => values.only === undefined || values.only === candidate.name)) {
  process.stdout.write(`\n== ${variant.name} ==\n`);
  const report = await runFleet(variant.options);
  process.stdout.write(`${describeFleet(report)}\n`);
  const problems = checkFleet(report, { disrupted: variant.name === 'disrupted' });
  for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`);
  failures += problems.length;
}
process.exitCode = failures === 0 ? 0 : 1;
