import type { FaultPlan } from './simulator-faults.ts';
import type { SimulatorLatency } from './simulator-latency.ts';

/**
 * A named simulated model, selected as `sim:NAME`. Prices are not here: the cost table prices
 * `sim:*` models beside the real ones, so a budget drill reads the same table production does.
 */
export interface SimulatorProfile {
  name: string;
  /** What the profile stands for and how it behaves: shown to whoever picks a model. */
  description: string;
  latency: SimulatorLatency;
  /** Largest prompt the profile accepts, in (estimated) tokens. */
  contextWindow: number;
  /** Faults every call is exposed to, after any the caller passes. */
  faults?: FaultPlan;
  /** Obeys instructions injected into tool results and documents (see injected-instructions.ts). */
  compromised?: boolean;
}

const instant: SimulatorLatency = { firstTokenMs: 0, perOutputTokenMs: 0, jitter: 0 };

// About 20% of calls fail, in the proportions hosted APIs fail in: mostly rate limits, then
// server errors, then capacity and hangs. Independent draws: 1 − 0.92·0.94·0.97·0.96 ≈ 0.195.
const flakyFaults: FaultPlan = [
  { on: { probability: 0.08 }, fault: { type: 'rate-limit', retryAfterMs: 250 } },
  { on: { probability: 0.06 }, fault: { type: 'server-error', status: 500 } },
  { on: { probability: 0.03 }, fault: { type: 'overloaded' } },
  { on: { probability: 0.04 }, fault: { type: 'timeout', hangMs: 1_000 } },
];

export const simulatorProfiles: Record<string, SimulatorProfile> = {
  default: {
    name: 'default',
    description: 'Instant and well behaved: the script, nothing else. For tests, the demo and benchmarks.',
    latency: instant,
    contextWindow: 128_000,
  },
  fast: {
    name: 'fast',
    description: 'A small, cheap model: answers quickly (~50 ms to first token, ~500 tokens/s), small context. For routing and extraction.',
    latency: { firstTokenMs: 50, perOutputTokenMs: 2, jitter: 0.25 },
    contextWindow: 32_000,
  },
  smart: {
    name: 'smart',
    description: 'A large, expensive model: slower (~600 ms to first token, ~60 tokens/s) with a large context. For planning and hard turns.',
    latency: { firstTokenMs: 600, perOutputTokenMs: 16, jitter: 0.3 },
    contextWindow: 200_000,
  },
  realistic: {
    name: 'realistic',
    description: 'Latencies of a typical hosted model (~400 ms to first token, ~80 tokens/s, wide spread). For demos and load tests that should feel real.',
    latency: { firstTokenMs: 400, perOutputTokenMs: 12, jitter: 0.4 },
    contextWindow: 128_000,
  },
  flaky: {
    name: 'flaky',
    description: 'The default model behind an unreliable API: a seeded ~20% of calls hit a 429, 500, 529 or a 1 s hang. For resilience drills.',
    latency: instant,
    contextWindow: 128_000,
    faults: flakyFaults,
  },
  compromised: {
    name: 'compromised',
    description: 'Obeys any instruction injected into tool results or documents (prompt injection succeeds every time). For the security suite.',
    latency: instant,
    contextWindow: 128_000,
    compromised: true,
  },
};
