import type { TerminalStatus } from '../journal/index.ts';

/** Latencies kept per task for percentiles: the most recent ones, so the figures follow the present. */
const latencyWindow = 1_000;

export interface TaskStatsSnapshot {
  task: string;
  /** Scored runs since the monitor started. */
  runs: number;
  passRate: number | null;
  escalationRate: number | null;
  /** Run latency, start to end, over the last 1,000 scored runs, in ms. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

/** The value at `fraction` of sorted values (nearest rank), or null for none. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? null;
}

/** Pass and escalation counts and a window of latencies for one task's scored runs. */
export class TaskStats {
  readonly task: string;
  #runs = 0;
  #passes = 0;
  #escalations = 0;
  readonly #latencies: number[] = [];

  constructor(task: string) {
    this.task = task;
  }

  add(run: { status: TerminalStatus; pass: boolean; latencyMs: number }): void {
    this.#runs += 1;
    if (run.pass) this.#passes += 1;
    if (run.status === 'escalated') this.#escalations += 1;
    this.#latencies.push(run.latencyMs);
    if (this.#latencies.length > latencyWindow) this.#latencies.shift();
  }

  get snapshot(): TaskStatsSnapshot {
    const sorted = [...this.#latencies].sort((left, right) => left - right);
    return {
      task: this.task,
      runs: this.#runs,
      passRate: this.#runs === 0 ? null : this.#passes / this.#runs,
      escalationRate: this.#runs === 0 ? null : this.#escalations / this.#runs,
      latencyMs: { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) },
    };
  }
}
