import { KeelError } from '../errors/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { jsonResponse } from './json-response.ts';

/** How long readiness waits for the store's answer by default, in ms. */
export const defaultReadinessTimeoutMs = 2_000;

/** A run id no run has (ids are `run_` + a UUID): reading it costs the store one indexed lookup. */
const probeRunId = 'run_readiness-probe';

// A probe's answer is about this instant: no proxy may keep it.
const uncached = { 'cache-control': 'no-store' };

/**
 * Liveness (`GET /healthz`): the process answers HTTP. It stays 200 while a shutdown finishes the
 * runs in flight, so an orchestrator does not kill a gateway that is draining.
 */
export function liveness(): Response {
  return jsonResponse({ status: 'ok' }, 200, uncached);
}

export interface ReadinessOptions {
  store: StoreV1;
  isClosing: () => boolean;
  timeoutMs: number;
  /** Told when readiness changes, with the store's own error (the probe's answer names only its code). */
  log?: ((line: string) => void) | undefined;
}

/**
 * Readiness (`GET /readyz`): 200 while the gateway takes new requests and its store answers a read
 * within the timeout; otherwise 503 with the reason. Probes come without a key, so the answer names
 * an error's code, not its text (a database error can name hosts and paths): the text goes to the log.
 */
export class Readiness {
  readonly #options: ReadinessOptions;
  #lastReason: string | undefined;

  constructor(options: ReadinessOptions) {
    this.#options = options;
  }

  async respond(): Promise<Response> {
    const reason = this.#options.isClosing() ? 'the gateway is shutting down' : await this.#storeProblem();
    if (reason !== this.#lastReason) {
      this.#options.log?.(reason === undefined ? 'keel gateway: ready again' : `keel gateway: not ready: ${reason}`);
      this.#lastReason = reason;
    }
    if (reason === undefined) return jsonResponse({ status: 'ready' }, 200, uncached);
    return jsonResponse({ status: 'unavailable', reason: reason.split(': ')[0] }, 503, uncached);
  }

  /** Why the store is not usable, with its error's text after a ': ', or undefined when it answered in time. */
  async #storeProblem(): Promise<string | undefined> {
    const { store, timeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the store did not answer a read within ${timeoutMs} ms`), timeoutMs);
    });
    const read = store.getRun(probeRunId).then(
      () => undefined,
      (error: unknown) => {
        const code = error instanceof KeelError ? error.code : 'db-unavailable';
        return `the store cannot be read (${code}): ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`;
      },
    );
    try {
      return await Promise.race([read, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
