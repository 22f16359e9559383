import { KeelError } from '../errors/index.ts';

/**
 * The store's outage behind an error (`db-unavailable`: a database that went away, a connection
 * cut by a restart), however deep a caller wrapped it; undefined when the error is anything else.
 * An outage is the infrastructure's, not the run's: the engine gives the run up without ending it.
 */
export function storeOutageOf(error: unknown): KeelError | undefined {
  let cause: unknown = error;
  for (let depth = 0; depth < 8 && cause instanceof Error; depth += 1) {
    if (cause instanceof KeelError && cause.code === 'db-unavailable') return cause;
    cause = cause.cause;
  }
  return undefined;
}
