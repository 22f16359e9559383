import { KeelError } from '../errors/index.ts';
import type { JournalRecordV1, StoreV1 } from '../spec/index.ts';

/** The store as a `store-outage` drill gives it to the task, and the switch of its outage. */
export interface StoreOutage {
  /** The store the drilled runs use: the real one, refusing every call while the outage is on. */
  store: StoreV1;
  /** Starts the outage at the record of `runId` that `startsAfter` matches (the hook: no clock): it lands, nothing after it does. */
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
    const at = armed !== undefined && batch.runId === armed.runId ? batch.records.findIndex(armed.startsAfter) : -1;
    if (at === -1) return store.append(batch);
    // On from the moment the matching append is sent: calls made while it commits are refused.
    armed = undefined;
    on = true;
    if (at === batch.records.length - 1) return store.append(batch);
    // The writer pipelines an idempotent step's end, so on a loaded machine it can send the effect's
    // end together with what followed, up to the run's end. The store goes down between them: the
    // effect's end lands (the run's status and totals as they were), and the rest is refused.
    await store.append({ ...batch, records: batch.records.slice(0, at + 1), summary: {} });
    return refuse('append');
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
