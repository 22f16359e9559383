import type { JournalEvent } from '../journal/index.ts';

/**
 * How long a run has worked: wall-clock time since its start minus the time it spent waiting for
 * a person, from each approval request to the decision on it (or to `now`, while still waiting).
 * Read from the journal's event times, so it holds across processes and restarts.
 */
export function workingTimeMs(events: readonly JournalEvent[], now: number): number {
  const first = events[0];
  if (first === undefined) return 0;
  const askedAt = new Map<number, number>();
  let waitedMs = 0;
  for (const event of events) {
    if (event.type === 'approval-request') askedAt.set(event.data.step, Date.parse(event.time));
    if (event.type === 'human-decision' && event.data.step !== undefined) {
      const asked = askedAt.get(event.data.step);
      if (asked === undefined) continue;
      waitedMs += Math.max(0, Date.parse(event.time) - asked);
      askedAt.delete(event.data.step);
    }
  }
  for (const asked of askedAt.values()) waitedMs += Math.max(0, now - asked);
  return Math.max(0, now - Date.parse(first.time) - waitedMs);
}

/**
 * The deadline of one execution of a run: fires when the run's working time reaches its limit.
 * Its timer is cleared when the execution ends (finished, parked for a person, or abandoned), so
 * nothing of the run stays referenced by a pending timer.
 */
export class RunDeadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(limitMs: number, workedMs: number) {
    // Aborted with a TimeoutError, as AbortSignal.timeout does: adapters classify it as a timeout.
    const expire = () => this.#controller.abort(new DOMException(`the run's deadline of ${limitMs} ms of working time passed`, 'TimeoutError'));
    // A run resumed already past its limit must not get to start another step.
    if (workedMs >= limitMs) expire();
    else this.#timer = setTimeout(expire, limitMs - workedMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
