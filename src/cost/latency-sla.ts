export interface LatencySla {
  task: string;
  /** Target for the 95th percentile of model-call latency, in ms. */
  p95Ms: number;
  /** How many recent calls the percentile is taken over; default 50. */
  window?: number;
}

export interface LatencyAlert {
  scope: string;
  threshold: number;
  value: number;
  message: string;
}

/**
 * Tracks model-call latency per task against its p95 target. Raises one alert when the p95 goes
 * over the target and re-arms when it comes back under, so a slow period is one alert, not many.
 */
export class LatencyTracker {
  readonly #slas = new Map<string, LatencySla>();
  /** Each task's recent latencies in arrival order, and the same sorted (the percentile is read from it). */
  readonly #samples = new Map<string, { recent: number[]; sorted: number[] }>();
  readonly #breached = new Set<string>();

  constructor(slas: LatencySla[]) {
    for (const sla of slas) this.#slas.set(sla.task, sla);
  }

  record(task: string, latencyMs: number): LatencyAlert | undefined {
    const sla = this.#slas.get(task);
    if (sla === undefined) return undefined;
    const window = sla.window ?? 50;
    let samples = this.#samples.get(task);
    if (samples === undefined) {
      samples = { recent: [], sorted: [] };
      this.#samples.set(task, samples);
    }
    const { recent, sorted } = samples;
    recent.push(latencyMs);
    sorted.splice(sortedPosition(sorted, latencyMs), 0, latencyMs);
    if (recent.length > window) sorted.splice(sortedPosition(sorted, recent.shift() as number), 1);
    // A percentile of a handful of calls says little; wait for a fifth of the window.
    if (recent.length < Math.max(5, Math.ceil(window / 5))) return undefined;
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
    if (p95 <= sla.p95Ms) {
      this.#breached.delete(task);
      return undefined;
    }
    if (this.#breached.has(task)) return undefined;
    this.#breached.add(task);
    return { scope: `task:${task}`, threshold: sla.p95Ms, value: p95, message: `p95 model-call latency of task ${task} is ${p95} ms over the last ${recent.length} calls (target ${sla.p95Ms} ms)` };
  }
}

/** The first index of `sorted` holding a value not below `value` (where it is, or would be inserted). */
function sortedPosition(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
