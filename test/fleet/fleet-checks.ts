/**
 * What the fleet drill must show, as a list of broken promises (empty when every one holds), and
 * its figures as text. Shared by the test (a reduced fleet) and `npm run fleet` (the full drill).
 */
import type { FleetReport } from './fleet-harness.ts';

/**
 * The tenant-day budget for `runs` runs. Undisturbed, a run spends about 65 micro-USD, so 50 a run
 * runs out about three quarters of the way through, after the drill's disruptions (at 30% and 60%
 * of the runs). With the failing worker, calls the open breakers shed fall back to the route's
 * second model (fleet-harness.ts), but many runs still fail, how many varying from drill to drill,
 * so that variant gets 40 a run: it ran out in every drill seen (70-122 of 200 runs failed), with room for runs
 * to end ok before it does.
 */
export function fleetBudgetMicros(runs: number, options: { failingWorker: boolean } = { failingWorker: false }): number {
  return runs * (options.failingWorker ? 40 : 50);
}

/** The drill's per-tenant model-call limit: about the pace four workers reach unthrottled, so it bites. */
export const fleetRateLimit = { limit: 20, windowMs: 500 };

/**
 * Worker-1's simulator fails its 3rd to 8th calls, which it makes at once when it starts (eight
 * runs at a time): failures in a row open sim:fast's breaker, for every worker, for 1.5 s.
 */
export const fleetFailingWorker = {
  faults: [{ on: { calls: [3, 4, 5, 6, 7, 8] }, fault: { type: 'server-error' as const } }],
  breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1_500 },
};

const settledStatuses = new Set(['ok', 'degraded', 'escalated', 'failed', 'waiting']);

/** The most calls granted in any window of `windowMs` (sorted grant times). */
function mostInWindow(grantedMs: readonly number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < grantedMs.length; last += 1) {
    while ((grantedMs[last] ?? 0) - (grantedMs[first] ?? 0) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

interface BreakerFigures {
  /** When the failing worker first opened the first model's breaker. */
  openedMs: number;
  /** How long until another worker shed a call to that model. */
  shedLagMs: number | undefined;
  /** Calls another worker still got through to that model from 1 s after the opening until it could half-open. */
  reachedAfterOneSecond: number;
}

function breakerFigures(report: FleetReport): BreakerFigures | undefined {
  if (report.breaker === undefined) return undefined;
  const opened = report.breakerOpens.find((open) => open.worker === report.failingWorker && open.breaker.includes('fast'));
  if (opened === undefined) return undefined;
  const others = report.attempts.filter((attempt) => attempt.worker !== report.failingWorker && attempt.modelId === 'fast' && attempt.timeMs >= opened.timeMs);
  const shed = others.find((attempt) => attempt.errorCode === 'breaker-open');
  const reached = others.filter((attempt) => attempt.outcome === 'ok' && attempt.timeMs > opened.timeMs + 1_000 && attempt.timeMs < opened.timeMs + (report.breaker?.halfOpenAfterMs ?? 0));
  return { openedMs: opened.timeMs, shedLagMs: shed === undefined ? undefined : shed.timeMs - opened.timeMs, reachedAfterOneSecond: reached.length };
}

export function checkFleet(report: FleetReport, options: { disrupted: boolean }): string[] {
  const problems: string[] = [];
  if (report.runs !== report.enqueued) problems.push(`${report.enqueued} runs enqueued, ${report.runs} in the store`);
  for (const [status, count] of Object.entries(report.statuses)) {
    if (!settledStatuses.has(status)) problems.push(`${count} runs ${status}: every run must end or wait for a person`);
  }
  for (const reason of report.failedReasons) if (reason.trim() === '') problems.push('a run failed without a reason');
  if (report.maxDaySpentMicros > report.budgetMicros) problems.push(`overspent: ${report.maxDaySpentMicros} of a ${report.budgetMicros} micro-USD day`);
  if (report.ledgerReservedMicros !== 0) problems.push(`${report.ledgerReservedMicros} micro-USD still reserved once every reservation expired`);
  if (report.ledgerSpentMicros < report.budgetMicros * 0.9) problems.push(`the budget never ran out: ${report.ledgerSpentMicros} of ${report.budgetMicros} spent`);
  if (!Object.keys(report.reasons).some((reason) => /budget|micro-USD/.test(reason))) problems.push('no run was stopped by the budget');
  if (report.chainFailures.length > 0 || report.chainsVerified !== report.runs) problems.push(`chains: ${report.chainsVerified} of ${report.runs} verify; ${report.chainFailures.slice(0, 3).join('; ')}`);
  if (options.disrupted) {
    // Whoever took over a run whose process died (the SIGKILLed worker's, or one given up when the
    // database went away) billed in its journal every reservation of the run the journal did not
    // bill, and settled it at that amount (src/engine/left-reservations.ts), so the ledger equals the
    // journals but for one thing nobody can know: a settle the database lost (the restart) while its
    // process went on. That call's journal billed its cost from the usage; its hold stayed in the
    // book and was booked at its full amount when it expired. The drill reads each hold still in the
    // book against what its run's journal billed for it, so the ledger must exceed the journals by
    // exactly their differences, and every such hold must be billed by some journal.
    const { excessMicros, unnamed } = report.unsettledAgainstJournals;
    if (report.ledgerSpentMicros < report.journalMicros) problems.push(`the ledger (${report.ledgerSpentMicros}) is below the journals (${report.journalMicros})`);
    if (report.ledgerSpentMicros !== report.journalMicros + excessMicros) {
      problems.push(`the ledger (${report.ledgerSpentMicros}) and the journals (${report.journalMicros}) differ by ${report.ledgerSpentMicros - report.journalMicros}, not by what lost settles explain (${excessMicros})`);
    }
    if (unnamed > 0) problems.push(`${unnamed} reservations left in the book that no journal bills`);
  } else {
    if (report.ledgerSpentMicros !== report.journalMicros) problems.push(`the ledger (${report.ledgerSpentMicros}) and the journals (${report.journalMicros}) disagree`);
    if (report.abandoned.length > 0) problems.push(`${report.abandoned.length} runs given up with nothing disrupted: ${report.abandoned.slice(0, 3).join(' | ')}`);
  }
  if (report.rateLimit !== undefined) {
    const { limit, windowMs } = report.rateLimit;
    // By the limiter's clock, across every process: never more than the limit in any window.
    const exact = mostInWindow(report.limiterGrantsMs, windowMs);
    if (exact > limit) problems.push(`the limiter granted ${exact} calls of one tenant in one ${windowMs} ms window, over its limit of ${limit}`);
    // Every journaled call was granted; interrupted executions may have been granted calls whose
    // events never reached a journal (they counted against the limit all the same).
    const granted = `the limiter granted ${report.limiterGrantsMs.length} calls, the journals show ${report.grantedMs.length}`;
    if (options.disrupted ? report.limiterGrantsMs.length < report.grantedMs.length : report.limiterGrantsMs.length !== report.grantedMs.length) problems.push(granted);
    // The journals' times are not checked against the window: each is taken when its worker gets
    // to it after the grant, up to a couple of hundred ms late on two busy cores (see limitLines).
    if (report.grantedMs.length === 0) problems.push('no model call was granted');
  }
  if (report.breaker !== undefined) {
    const breaker = breakerFigures(report);
    if (breaker === undefined) problems.push(`${report.failingWorker} never opened the breaker of sim:fast`);
    else if (breaker.shedLagMs === undefined) problems.push('no other worker shed a call to sim:fast after its breaker opened');
    else if (breaker.shedLagMs >= 1_000) problems.push(`another worker shed its first call ${breaker.shedLagMs} ms after the breaker opened (over 1 s)`);
    if (breaker !== undefined && breaker.reachedAfterOneSecond > 0) problems.push(`${breaker.reachedAfterOneSecond} calls of other workers reached sim:fast more than 1 s after its breaker opened`);
  }
  for (const exit of report.workerExits) {
    if (exit.name === report.killed) {
      if (exit.signal !== 'SIGKILL') problems.push(`${exit.name} was to be SIGKILLed, ended with code ${exit.code} signal ${exit.signal}`);
    } else if (exit.code !== 0) {
      problems.push(`${exit.name} ended with code ${exit.code} signal ${exit.signal}: ${exit.stderr.trim().split('\n').slice(0, 12).join(' | ')}`);
    }
  }
  return problems;
}

export function describeFleet(report: FleetReport): string {
  const statuses = Object.entries(report.statuses)
    .sort(([, left], [, right]) => right - left)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  const settled = report.runs - (report.statuses.waiting ?? 0);
  return [
    `fleet: ${report.runs} runs on ${report.workerExits.length} worker processes in ${(report.wallMs / 1000).toFixed(1)} s wall (${(report.drainMs / 1000).toFixed(1)} s draining, ${(report.runs / (report.drainMs / 1000)).toFixed(1)} runs/s)`,
    `  runs: ${statuses} (${settled} ended, ${report.statuses.waiting ?? 0} waiting for a person)`,
    `  spend: ledger ${report.ledgerSpentMicros} of a ${report.budgetMicros} micro-USD tenant-day budget (max day ${report.maxDaySpentMicros}); journals ${report.journalMicros} over ${report.modelCalls.length} model calls`,
    `  ledger − journals: ${report.ledgerSpentMicros - report.journalMicros} (unsettled reservations: ${report.unsettledHolds.count}, ${report.unsettledHolds.micros} micro-USD, ${report.unsettledAgainstJournals.excessMicros} over what the journals billed them, ${report.unsettledAgainstJournals.unnamed} billed by none; model steps begun and never ended: ${report.interruptedModelSteps.count}, ${report.interruptedModelSteps.reservedMicros} reserved; billed by takeovers: ${report.reservationBills.count}, ${report.reservationBills.micros} micro-USD)`,
    ...limitLines(report),
    `  chains verified: ${report.chainsVerified}/${report.runs}; killed: ${report.killed ?? 'none'}; PostgreSQL restarted: ${report.restartedAfterSettled === undefined ? 'no' : `after ${report.restartedAfterSettled} settled`}`,
    `  workers: ${report.workerExits.map((exit) => `${exit.name} ${exit.settled} settled, ${exit.signal ?? `exit ${exit.code}`}`).join('; ')}`,
    `  failed runs' reasons: ${report.failedReasons.length === 0 ? 'none' : [...new Set(report.failedReasons)].slice(0, 3).join(' | ')}`,
    `  given up by a worker for another to take over: ${report.abandoned.length}${report.abandoned.length === 0 ? '' : ` (${report.abandoned.slice(0, 3).join(' | ')})`}`,
    `  reasons: ${Object.entries(report.reasons)
      .map(([reason, count]) => `${count}× ${reason}`)
      .join(' | ')}`,
  ].join('\n');
}

function limitLines(report: FleetReport): string[] {
  const lines: string[] = [];
  if (report.rateLimit !== undefined) {
    const { limit, windowMs } = report.rateLimit;
    const tightest = (apart: number) => Math.min(...report.grantedMs.slice(apart).map((time, index) => time - (report.grantedMs[index] ?? 0)));
    lines.push(
      `  rate limit ${limit} per ${windowMs} ms per tenant, across all workers: by the limiter's clock at most ${mostInWindow(report.limiterGrantsMs, windowMs)} calls in any window; ` +
        `by the journals' times (taken when each worker got to it) ${mostInWindow(report.grantedMs, windowMs)} in ${windowMs} ms, ${mostInWindow(report.grantedMs, windowMs - 100)} in ${windowMs - 100} ms ` +
        `(${report.grantedMs.length} calls granted; tightest span of ${limit + 1} journaled calls ${tightest(limit)} ms)`,
    );
  }
  const breaker = breakerFigures(report);
  if (report.breaker !== undefined) {
    const byWorker = new Map<string, Record<string, number>>();
    for (const attempt of report.attempts) {
      const counts = byWorker.get(attempt.worker) ?? {};
      const kind = `${attempt.modelId} ${attempt.errorCode ?? attempt.outcome}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
      byWorker.set(attempt.worker, counts);
    }
    lines.push(`  model attempts: ${[...byWorker].map(([worker, counts]) => `${worker} ${JSON.stringify(counts)}`).join('; ')}`);
    lines.push(
      breaker === undefined
        ? `  breaker: ${report.failingWorker} never opened it`
        : `  breaker: opened by ${report.failingWorker}'s failures; first call shed by another worker ${breaker.shedLagMs ?? 'never'} ms later; ${breaker.reachedAfterOneSecond} calls of others reached sim:fast 1 s after (${report.breakerOpens.length} openings in all)`,
    );
  }
  return lines;
}
