import type { RunStatusV1 } from '../spec/index.ts';

/**
 * A lease belongs to an execution. An append that leaves its run in a state nobody executes —
 * queued (handed back to the pool), waiting for a person, or an end state — clears the lease in
 * the same transaction, so no worker, alive or killed a moment later, can hold a run that is not
 * running. Both adapters apply this one rule.
 */
export function appendEndsLease(status: RunStatusV1 | undefined): boolean {
  return status !== undefined && status !== 'running';
}
