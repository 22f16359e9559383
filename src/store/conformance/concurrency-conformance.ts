/**
 * The conformance suite of shared concurrency slots (src/spec/concurrency-store-v1.ts). `first`
 * and `second` are two handles on one store (two connections, as two processes would hold). Time
 * is driven through the durations the spec takes (a lease of 0 has already run out, as a dead
 * holder's would), so no test waits on the clock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ConcurrencyStoreV1 } from '../../spec/index.ts';

export interface ConcurrencyStoresUnderTest {
  first: ConcurrencyStoreV1;
  second: ConcurrencyStoreV1;
  dispose: () => Promise<void>;
}

export type ConcurrencyStoresFactory = () => Promise<ConcurrencyStoresUnderTest>;

const minute = 60_000;

async function withStores(factory: ConcurrencyStoresFactory, work: (stores: ConcurrencyStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runConcurrencyConformance(label: string, factory: ConcurrencyStoresFactory | { skip: string }): void {
  describe(`concurrency slot conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('concurrent acquires from two handles: exactly the limit is granted', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `route→sim:a:${randomUUID()}`;
        const grants = await Promise.all(Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? first : second).acquireSlot({ key, holder: `holder-${index}`, limit: 3, leaseMs: minute })));
        assert.equal(grants.filter((grant) => grant.granted).length, 3);
        for (const refused of grants.filter((grant) => !grant.granted)) {
          assert.equal(refused.held, 3);
          assert.ok(refused.retryAfterMs !== undefined && refused.retryAfterMs > minute - 10_000 && refused.retryAfterMs <= minute, `retry after ${refused.retryAfterMs} ms`);
        }
        const heldCounts = grants.filter((grant) => grant.granted).map((grant) => grant.held);
        assert.deepEqual([...heldCounts].sort(), [1, 2, 3]);
      });
    });

    void test('a holder asking again keeps its one slot; a release frees it for another', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `route→sim:b:${randomUUID()}`;
        assert.deepEqual(await first.acquireSlot({ key, holder: 'one', limit: 1, leaseMs: minute }), { granted: true, held: 1 });
        assert.deepEqual(await first.acquireSlot({ key, holder: 'one', limit: 1, leaseMs: minute }), { granted: true, held: 1 });
        assert.equal((await second.acquireSlot({ key, holder: 'two', limit: 1, leaseMs: minute })).granted, false);
        await first.releaseSlot(key, 'one');
        await first.releaseSlot(key, 'one'); // releasing one not held does nothing
        assert.deepEqual(await second.acquireSlot({ key, holder: 'two', limit: 1, leaseMs: minute }), { granted: true, held: 1 });
        assert.equal(await first.renewSlot(key, 'one', minute), false, 'a released slot is not renewed');
      });
    });

    void test("an expired lease (its holder died) frees its slot and is not renewed", async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `route→sim:c:${randomUUID()}`;
        assert.equal((await first.acquireSlot({ key, holder: 'dead', limit: 2, leaseMs: 0 })).granted, true);
        assert.equal((await first.acquireSlot({ key, holder: 'alive', limit: 2, leaseMs: minute })).granted, true);
        const taken = await second.acquireSlot({ key, holder: 'next', limit: 2, leaseMs: minute });
        assert.deepEqual(taken, { granted: true, held: 2 }, 'the lapsed slot does not count');
        assert.equal(await first.renewSlot(key, 'dead', minute), false);
        assert.equal((await second.acquireSlot({ key, holder: 'late', limit: 2, leaseMs: minute })).granted, false);
      });
    });

    void test('renewing extends a lease past the time it would have lapsed', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `route→sim:d:${randomUUID()}`;
        // Held for a minute, then renewed to an hour: a refusal now hints at the hour, not the minute.
        assert.equal((await first.acquireSlot({ key, holder: 'long', limit: 1, leaseMs: minute })).granted, true);
        assert.equal(await second.renewSlot(key, 'long', 60 * minute), true);
        const refused = await second.acquireSlot({ key, holder: 'other', limit: 1, leaseMs: minute });
        assert.equal(refused.granted, false);
        assert.ok(refused.retryAfterMs !== undefined && refused.retryAfterMs > 59 * minute, `retry after ${refused.retryAfterMs} ms`);
        // Renewed to 0 it lapses at once, as if its holder had died after renewing.
        assert.equal(await first.renewSlot(key, 'long', 0), true);
        assert.equal((await second.acquireSlot({ key, holder: 'other', limit: 1, leaseMs: minute })).granted, true);
      });
    });
  });
}
