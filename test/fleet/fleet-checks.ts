/**
 * What the fleet drill must show, as a list of broken promises (empty when every one holds), and
 * its figures as text. Shared by the test (a reduced fleet) and `npm run fleet` (the full drill).
 */
import type { FleetReport } from './fleet-harness.ts';

const settledStatuses = new Set(['ok', 'degraded', 'escalated', 'failed', 'waiting']);

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
    // The ledger never books less than the journals show. It may book more, and only this much:
    // reservations nobody settled (a dead process, a settle the database lost) at their full
    // amount; and one call per interrupted execution (killed, or given up when the database went
    // away) that was paid and settled but whose step never reached the journal, so its run's
    // next execution called again.
    const interruptedExecutions = report.abandoned.length + report.killedConcurrency;
    const allowance = report.unsettledHolds.micros + report.interruptedModelSteps.reservedMicros + interruptedExecutions * report.maxReservedMicros;
    if (report.ledgerSpentMicros < report.journalMicros) problems.push(`the ledger (${report.ledgerSpentMicros}) is below the journals (${report.journalMicros})`);
    if (report.ledgerSpentMicros > report.journalMicros + allowance) {
      problems.push(`the ledger (${report.ledgerSpentMicros}) exceeds the journals (${report.journalMicros}) by more than interrupted work explains (${allowance})`);
    }
  } else {
    if (report.ledgerSpentMicros !== report.journalMicros) problems.push(`the ledger (${report.ledgerSpentMicros}) and the journals (${report.journalMicros}) disagree`);
    if (report.abandoned.length > 0) problems.push(`${report.abandoned.length} runs given up with nothing disrupted: ${report.abandoned.slice(0, 3).join(' | ')}`);
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
    `  ledger − journals: ${report.ledgerSpentMicros - report.journalMicros} (unsettled reservations: ${report.unsettledHolds.count}, ${report.unsettledHolds.micros} micro-USD; model steps begun and never ended: ${report.interruptedModelSteps.count}, ${report.interruptedModelSteps.reservedMicros} reserved)`,
    `  chains verified: ${report.chainsVerified}/${report.runs}; killed: ${report.killed ?? 'none'}; PostgreSQL restarted: ${report.restartedAfterSettled === undefined ? 'no' : `after ${report.restartedAfterSettled} settled`}`,
    `  workers: ${report.workerExits.map((exit) => `${exit.name} ${exit.settled} settled, ${exit.signal ?? `exit ${exit.code}`}`).join('; ')}`,
    `  given up by a worker for another to take over: ${report.abandoned.length}${report.abandoned.length === 0 ? '' : ` (${report.abandoned.slice(0, 3).join(' | ')})`}`,
    `  reasons: ${Object.entries(report.reasons)
      .map(([reason, count]) => `${count}× ${reason}`)
      .join(' | ')}`,
  ].join('\n');
}
