/** Latency and naming of a simulated model. Later versions add prices and fault schedules. */
export interface SimulatorProfile {
  name: string;
  /** Added to every call before it answers, in ms (0 for tests and benchmarks). */
  latencyMs: number;
  /** Largest prompt the profile accepts, in (estimated) tokens. */
  contextWindow: number;
}

export const simulatorProfiles: Record<string, SimulatorProfile> = {
  default: { name: 'default', latencyMs: 0, contextWindow: 128_000 },
  fast: { name: 'fast', latencyMs: 0, contextWindow: 32_000 },
  realistic: { name: 'realistic', latencyMs: 40, contextWindow: 128_000 },
};
