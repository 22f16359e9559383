/** The deployment of the shared-bulkhead test: one route whose bulkhead allows 2 calls at a time. */
import type { KeelConfig } from 'keel';

export const heldRoute = 'held';
export const heldModel = 'openai:gpt-5-nano';
/** The route's attempt timeout, and so the lease of its shared bulkhead slots. */
export const attemptTimeoutMs = 3_000;
/** The slots' key in the store, as SharedGuards names it. */
export const slotKey = `bulkhead:${heldRoute}→${heldModel}`;

export function bulkheadConfig(maxQueued: number): KeelConfig {
  return { version: 1, routes: [{ name: heldRoute, models: [heldModel], resilience: { maxAttempts: 1, attemptTimeoutMs, bulkhead: { maxConcurrent: 2, maxQueued } } }] };
}
