/**
 * A worker process for the local-takeover tests: it starts one run and is then killed by the test.
 *
 * Usage: node test/workers/lease-holder-process.ts <database> <mode>
 *   <database>  a SQLite file, or `postgres://…#schema`
 *   <mode>      `hold`: sits inside the run's step, holding its lease, until killed;
 *               `end`: finishes the run, then blocks before releasing anything, until killed.
 *
 * Prints `ready <worker-id>` once its store is open, then `holding <run-id>` (hold) or
 * `ended <run-id>` (end, once the run's end is durable).
 */
import { Engine } from '../../src/engine/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { heldRunTask, heldRunTaskName, leaseHolderLeaseMs } from './held-run-task.ts';

const [database, mode] = process.argv.slice(2);
if (database === undefined || (mode !== 'hold' && mode !== 'end')) {
  // A bare `node --test` runs every file under test/ as a test; this one is not, so step aside.
  if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);
  process.stderr.write('usage: lease-holder-process.ts <sqlite-file | postgres-url#schema> <hold | end>\n');
  process.exit(2);
}

// The run's step (or the blocked store) waits on nothing that keeps Node's event loop alive; this
// does, so the process lives until the test kills it.
setInterval(() => undefined, 60_000);
const store = await openStore(database);
const engine = new Engine({ store: mode === 'end' ? diesAfterTheEnd(store) : store, tasks: [heldRunTask({ hold: mode === 'hold', onHold: (runId) => process.stdout.write(`holding ${runId}\n`) })], leaseMs: leaseHolderLeaseMs });
process.stdout.write(`ready ${engine.workerId}\n`);
await engine.start(heldRunTaskName, null, { principal: 'user:ops', tenant: 'acme' });
// Not reached: in both modes the test kills this process first.
process.exit(3);

async function openStore(target: string): Promise<StoreV1> {
  const hash = target.lastIndexOf('#');
  if (!target.startsWith('postgres://')) return SqliteStore.open({ path: target, durability: 'normal' });
  return PostgresStore.open({ url: target.slice(0, hash), schema: target.slice(hash + 1) });
}

/**
 * The store, except that once the run's end is appended the process says so and never does
 * anything again: it is as if it were killed between ending the run and releasing its lease.
 */
function diesAfterTheEnd(inner: StoreV1): StoreV1 {
  let ended = false;
  const never = new Promise<never>(() => undefined);
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'append') {
        return async (batch: Parameters<StoreV1['append']>[0]) => {
          if (ended) return never;
          await target.append(batch);
          if (batch.records.some((record) => record.type === 'run-end')) {
            ended = true;
            process.stdout.write(`ended ${batch.runId}\n`);
            return never;
          }
        };
      }
      if (key === 'releaseLease' || key === 'renewLease') {
        const call = (Reflect.get(target, key, target) as (...values: unknown[]) => Promise<unknown>).bind(target);
        return (...values: unknown[]) => (ended ? never : call(...values));
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
}
