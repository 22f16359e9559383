/**
 * The local-takeover tests' task: one idempotent step. In the worker the test kills, the step
 * holds (announces itself, then waits until aborted); anywhere else it finishes at once.
 */
import { defineTask } from '../../src/engine/index.ts';
import type { TaskDefinition } from '../../src/engine/index.ts';

export const heldRunTaskName = 'held-run';
/** Long enough that a takeover seen within the test can only come from the registry, not from expiry. */
export const leaseHolderLeaseMs = 60_000;

export function heldRunTask(options: { hold: boolean; onHold?: (runId: string) => void }): TaskDefinition<null, string> {
  return defineTask({
    name: heldRunTaskName,
    version: '1',
    run: async (context) =>
      context.step(
        'work',
        async (info) => {
          if (!options.hold) return `finished by ${process.pid}`;
          options.onHold?.(context.runId);
          return new Promise<string>((_, reject) => info.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        },
        { idempotent: true },
      ),
  });
}
