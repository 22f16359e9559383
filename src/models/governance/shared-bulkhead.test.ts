import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import type { ConcurrencyStoreV1, SlotGrantV1, SlotRequestV1 } from '../../spec/index.ts';
import { SqliteStore } from '../../store/index.ts';
import { resiliencePolicy } from './resilience-policy.ts';
import { SharedBulkhead } from './shared-bulkhead.ts';
import { SharedGuards } from './shared-guards.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-shared-bulkhead-'));
const path = join(folder, 'keel.db');
// Two handles on one file, as two processes would hold.
const first = SqliteStore.open({ path });
const second = SqliteStore.open({ path });
after(async () => {
  await Promise.all([first.close(), second.close()]);
  rmSync(folder, { recursive: true, force: true });
});

/** The store's slots, with every renewal announced, so a test can wait for renewals instead of the clock. */
class WatchedSlots implements ConcurrencyStoreV1 {
  readonly concurrencySpecificationVersion = 'v1';
  renewals = 0;
  readonly #store: ConcurrencyStoreV1;
  readonly #watchers = new Set<() => void>();
  constructor(store: ConcurrencyStoreV1) {
    this.#store = store;
  }
  acquireSlot(request: SlotRequestV1): Promise<SlotGrantV1> {
    return this.#store.acquireSlot(request);
  }
  async renewSlot(key: string, holder: string, leaseMs: number): Promise<boolean> {
    const renewed = await this.#store.renewSlot(key, holder, leaseMs);
    this.renewals += 1;
    for (const watcher of [...this.#watchers]) watcher();
    return renewed;
  }
  releaseSlot(key: string, holder: string): Promise<void> {
    return this.#store.releaseSlot(key, holder);
  }
  untilRenewals(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.renewals < count) return;
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
      check();
    });
  }
}

function held(): { promise: Promise<void>; release: () => void } {
  let release = () => {};
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

test('slots are counted across handles; a full bulkhead queues up to maxQueued, refuses the next, and lets a waiter in on release', async () => {
  const key = `bulkhead:queue:${Date.now()}`;
  const here = new SharedBulkhead({ key, store: first.concurrency, maxConcurrent: 2, maxQueued: 1, leaseMs: 60_000 });
  const there = new SharedBulkhead({ key, store: second.concurrency, maxConcurrent: 2, maxQueued: 1, leaseMs: 60_000 });
  const [one, two] = [held(), held()];
  const started: string[] = [];
  const hold = (name: string, until: Promise<void>) => async () => {
    started.push(name);
    await until;
  };
  const running = [here.execute(hold('one', one.promise)), there.execute(hold('two', two.promise))];
  while (started.length < 2) await new Promise((resolve) => setImmediate(resolve));
  const waiting = here.execute(async () => 'waited');
  await assert.rejects(here.execute(async () => 'refused'), BulkheadRejectedError);
  one.release();
  assert.equal(await waiting, 'waited');
  two.release();
  await Promise.all(running);
  assert.equal((await first.concurrency.acquireSlot({ key, holder: 'check', limit: 1, leaseMs: 60_000 })).held, 1, 'every slot was released');
});

test('a waiting call gives up when its signal aborts', async () => {
  const key = `bulkhead:abort:${Date.now()}`;
  const bulkhead = new SharedBulkhead({ key, store: first.concurrency, maxConcurrent: 1, maxQueued: 5, leaseMs: 60_000 });
  const holding = held();
  let entered = false;
  const running = bulkhead.execute(async () => {
    entered = true;
    await holding.promise;
  });
  while (!entered) await new Promise((resolve) => setImmediate(resolve));
  const controller = new AbortController();
  const waiting = bulkhead.execute(async () => 'never', controller.signal);
  controller.abort();
  await assert.rejects(waiting, TaskCancelledError);
  holding.release();
  await running;
});

test('a long call renews its lease, so its slot is still held after the first lease would have run out', async () => {
  const key = `bulkhead:renew:${Date.now()}`;
  const slots = new WatchedSlots(first.concurrency);
  const leaseMs = 400;
  const bulkhead = new SharedBulkhead({ key, store: slots, maxConcurrent: 1, maxQueued: 0, leaseMs });
  const holding = held();
  const running = bulkhead.execute(() => holding.promise);
  // Three renewals, one every half lease: the first lease ran out a half lease ago.
  await slots.untilRenewals(3);
  const other = await second.concurrency.acquireSlot({ key, holder: 'other', limit: 1, leaseMs });
  assert.equal(other.granted, false, 'the renewed slot is still held');
  holding.release();
  await running;
  assert.equal((await second.concurrency.acquireSlot({ key, holder: 'other', limit: 1, leaseMs })).granted, true, 'released at the end');
});

test('only a declared bulkhead is held in the store: the default per-route cap stays in the process and writes nothing', () => {
  const guards = new SharedGuards({ concurrency: first.concurrency });
  assert.ok(!(guards.bulkheadFor('plain', 'sim:default', resiliencePolicy()) instanceof SharedBulkhead), 'the default cap is per process');
  assert.ok(guards.bulkheadFor('declared', 'sim:default', resiliencePolicy({ bulkhead: { maxConcurrent: 2, maxQueued: 0 } })) instanceof SharedBulkhead, 'a declared bulkhead is shared');
  assert.ok(!(guards.bulkheadFor('opted-out', 'sim:default', resiliencePolicy({ bulkhead: { maxConcurrent: 2, maxQueued: 0, shared: false } })) instanceof SharedBulkhead), 'shared: false keeps it per process');
});
