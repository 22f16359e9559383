import type { SimulatedCallIdentity } from './fault-error.ts';
import { abortError, timeoutError } from './fault-error.ts';

/** How long a simulated model takes, in the two numbers providers are judged by. */
export interface SimulatorLatency {
  /** Time to first token, in ms. */
  firstTokenMs: number;
  /** Time per output token after the first, in ms. */
  perOutputTokenMs: number;
  /** Seeded spread applied to both, as a fraction: 0.2 means each call lands within ±20%. */
  jitter: number;
}

/** One call's latency, jitter already drawn. */
export interface CallTiming {
  firstTokenMs: number;
  perOutputTokenMs: number;
}

export function callTiming(latency: SimulatorLatency, random: () => number): CallTiming {
  const spread = () => 1 + latency.jitter * (2 * random() - 1);
  return { firstTokenMs: Math.max(0, latency.firstTokenMs * spread()), perOutputTokenMs: Math.max(0, latency.perOutputTokenMs * spread()) };
}

/**
 * Lets simulated time pass. Zero waits return without a timer, so the `default` profile costs
 * nothing; an abort ends the wait with the error a real adapter would throw: `model-timeout` for a
 * deadline, `model-aborted` for a plain cancellation.
 */
export async function wait(ms: number, signal: AbortSignal | undefined, call: SimulatedCallIdentity): Promise<void> {
  if (signal?.aborted === true) throw abortError(call, 'call aborted by the caller', signal.reason);
  if (ms <= 0) return;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(call, 'call aborted by the caller', signal?.reason));
    };
    // The listener is removed when the wait ends: callers pass long-lived signals (a run's lease).
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A model that never answers: the call ends only when the caller gives up (its abortSignal), or,
 * when nobody is listening, after `hangMs`, which stands for the client's own timeout.
 */
export async function hang(signal: AbortSignal | undefined, hangMs: number | undefined, call: SimulatedCallIdentity): Promise<never> {
  const reason = 'did not answer before the caller gave up (injected timeout)';
  if (signal === undefined) {
    await new Promise((resolve) => setTimeout(resolve, hangMs ?? defaultHangMs));
    throw timeoutError(call, reason);
  }
  if (signal.aborted) throw timeoutError(call, reason, signal.reason);
  return new Promise<never>((_resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(timeoutError(call, reason, signal.reason));
    };
    const timer = hangMs === undefined ? undefined : setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      reject(timeoutError(call, reason));
    }, hangMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long an injected timeout hangs when the caller passed no abortSignal. */
export const defaultHangMs = 30_000;
