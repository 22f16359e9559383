import { KeelError } from '../errors/index.ts';
import type { JournalRecordV1, StoreV1 } from '../spec/index.ts';

/** The store as a `store-outage` drill gives it to the task, and the switch of its outage. */
export interface StoreOutage {
  /** The store the drilled runs use: the real one, refusing every call while the outage is on. */
  store: StoreV1;
  /** Starts the outage with the append of `runId` carrying a record `startsAfter` matches (the hook: no clock); that append lands, nothing after it. */
  arm(runId: string, startsAfter: (record: JournalRecordV1) => boolean): void;
  /** Ends the outage: the store answers again. */
  end(): void;
  /** Calls refused since the last `arm`, by operation (`append`, `renewLease`, `budgets.reserve`, …). */
  readonly refused: ReadonlyMap<string, number>;
  readonly on: boolean;
}

// The parts of a store that share its database: when the database is down, they are down too.
const subStores = ['budgets', 'auditLog', 'keys', 'rateLimits', 'breakers', 'concurrency', 'datasets', 'telemetryCursors', 'responseCache'] as const;

/**
 * Wraps a store so that, from an explicit point of a run (a record landing in its journal), every
 * read and write fails as a database that went away fails (`db-unavailable`), until `end()`. The
 * real store underneath is untouched: what landed before the outage is all there is after it.
 */
export function storeOutage(store: StoreV1): StoreOutage {
  let on = false;
  let armed: { runId: string; startsAfter: (record: JournalRecordV1) => boolean } | undefined;
  const refused = new Map<string, number>();
  const refuse = (operation: string) => {
    refused.set(operation, (refused.get(operation) ?? 0) + 1);
    return Promise.reject(new KeelError('db-unavailable', `the database at ${store.location} is unavailable (drill: store-outage, ${operation} refused)`));
  };
  const guard = <Target extends object>(target: Target, prefix: string): Target =>
    new Proxy(target, {
      get(object, property) {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof property !== 'string' || typeof value !== 'function' || property === 'close') return value;
        const operation = `${prefix}${property}`;
        return (...values: unknown[]) => (on ? refuse(operation) : (value as (...values: unknown[]) => unknown).apply(object, values));
      },
    });
  const wrapped = guard(store, '');
  const append: StoreV1['append'] = async (batch) => {
    if (on) return refuse('append');
    // On from the moment the matching append is sent, not once it has landed: the engine pipelines
    // its appends, and a loaded machine let the run's end through while the effect's end was still
    // being committed (the outage then missed the run it was for).
    if (armed !== undefined && batch.runId === armed.runId && batch.records.some(armed.startsAfter)) {
      armed = undefined;
      on = true;
    }
    await store.append(batch);
  };
  const parts = Object.fromEntries(subStores.flatMap((name) => (store[name] === undefined ? [] : [[name, guard(store[name], `${name}.`)]])));
  const outage: StoreV1 = new Proxy(wrapped, {
    get(object, property, receiver) {
      if (property === 'append') return append;
      if (typeof property === 'string' && property in parts) return parts[property];
      return Reflect.get(object, property, receiver) as unknown;
    },
  });
  return {
    store: outage,
    arm(runId, startsAfter) {
      refused.clear();
      armed = { runId, startsAfter };
    },
    end() {
      on = false;
      armed = undefined;
    },
    refused,
    get on() {
      return on;
    },
  };
}
