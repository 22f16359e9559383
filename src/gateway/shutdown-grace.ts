import type { GatewayRuns } from './gateway-runs.ts';

/**
 * A gateway's shutdown: the runs in flight get `graceMs` to end as they would (without it, as long
 * as they take); past it, each is stopped: it ends `failed` (run-stopped), journaled with its
 * spending, and its client is told, rather than being left open with nobody to finish it.
 */
export async function endRunsInFlight(runs: GatewayRuns, graceMs: number | undefined): Promise<void> {
  if (graceMs !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), graceMs)));
    const ended = await Promise.race([runs.settled(), graceOver]);
    clearTimeout(timer);
    if (ended === 'grace-over') await runs.stopInFlight(`the gateway shut down before the answer was finished (its grace for requests in flight is ${graceMs} ms)`);
  }
  await runs.settled();
}
