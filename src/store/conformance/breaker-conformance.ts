/**
 * The conformance suite of shared circuit-breaker state (src/spec/breaker-store-v1.ts). `first`
 * and `second` are two handles on one store (two connections, as two processes would hold).
 * Time is driven through the durations the spec takes (an `openForMs` or lease of 0 has already
 * run out), so no test waits on the clock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { BreakerStoreV1 } from '../../spec/index.ts';

export interface BreakerStoresUnderTest {
  first: BreakerStoreV1;
  second: BreakerStoreV1;
  dispose: () => Promise<void>;
}

export type BreakerStoresFactory = () => Promise<BreakerStoresUnderTest>;

const minute = 60_000;

async function withStores(factory: BreakerStoresFactory, work: (stores: BreakerStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runBreakerConformance(label: string, factory: BreakerStoresFactory | { skip: string }): void {
  describe(`breaker state conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('failures from two handles add up, and the threshold opens the breaker for both', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `sim:flaky:${randomUUID()}`;
        assert.deepEqual(await first.readBreaker(key), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
        assert.deepEqual(await first.recordFailure({ key, threshold: 3, openForMs: minute }), { state: 'closed', consecutiveFailures: 1, remainingMs: 0 });
        assert.deepEqual(await second.recordFailure({ key, threshold: 3, openForMs: minute }), { state: 'closed', consecutiveFailures: 2, remainingMs: 0 });
        const opened = await first.recordFailure({ key, threshold: 3, openForMs: minute });
        assert.equal(opened.state, 'open');
        assert.equal(opened.consecutiveFailures, 3);
        assert.ok(opened.remainingMs > minute - 10_000 && opened.remainingMs <= minute, `open for ${opened.remainingMs} ms`);
        const seen = await second.readBreaker(key);
        assert.equal(seen.state, 'open');
        assert.ok(seen.remainingMs > 0 && seen.remainingMs <= opened.remainingMs);
        // A late failure while open counts, but does not extend the time left.
        const later = await second.recordFailure({ key, threshold: 3, openForMs: 10 * minute });
        assert.equal(later.consecutiveFailures, 4);
        assert.ok(later.remainingMs <= minute);
        assert.deepEqual(await second.tryProbe(key, minute).then((probe) => probe.granted), false, 'no probe before its time');
      });
    });

    void test('concurrent failures are all counted; a success closes and clears the count', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `sim:burst:${randomUUID()}`;
        await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? first : second).recordFailure({ key, threshold: 100, openForMs: minute })));
        assert.deepEqual(await first.readBreaker(key), { state: 'closed', consecutiveFailures: 10, remainingMs: 0 });
        assert.deepEqual(await second.recordSuccess(key), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
        assert.deepEqual(await first.readBreaker(key), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
        assert.equal((await first.tryProbe(key, minute)).granted, false, 'a closed breaker has no probe to take');
      });
    });

    void test('a success while open (a call let through before its process knew) leaves the breaker open', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `sim:straggler:${randomUUID()}`;
        await first.recordFailure({ key, threshold: 2, openForMs: minute });
        const opened = await first.recordFailure({ key, threshold: 2, openForMs: minute });
        assert.equal(opened.state, 'open');
        const after = await second.recordSuccess(key);
        assert.equal(after.state, 'open', 'the success says the breaker is open, so its process learns it');
        assert.equal(after.consecutiveFailures, 2);
        assert.ok(after.remainingMs > 0 && after.remainingMs <= opened.remainingMs);
        assert.equal((await first.readBreaker(key)).state, 'open');
      });
    });

    void test('once its time is up exactly one caller of many takes the probe, and its outcome decides', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `sim:recovering:${randomUUID()}`;
        assert.equal((await first.recordFailure({ key, threshold: 1, openForMs: 0 })).state, 'open');
        const probes = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? first : second).tryProbe(key, minute)));
        assert.equal(probes.filter((probe) => probe.granted).length, 1, 'one probe, whichever handle asked');
        const granted = probes.find((probe) => probe.granted);
        assert.equal(granted?.state.state, 'half-open');
        assert.equal((await second.readBreaker(key)).state, 'half-open');
        // The probe failed: open again, whatever the threshold.
        const reopened = await second.recordFailure({ key, threshold: 50, openForMs: minute });
        assert.equal(reopened.state, 'open');
        assert.ok(reopened.remainingMs > 0);
        assert.equal((await first.tryProbe(key, minute)).granted, false);
      });
    });

    void test('a probe whose holder vanished lapses and another caller takes it; a good probe closes the breaker', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = `sim:abandoned:${randomUUID()}`;
        await first.recordFailure({ key, threshold: 1, openForMs: 0 });
        assert.equal((await first.tryProbe(key, 0)).granted, true);
        const retaken = await second.tryProbe(key, minute);
        assert.equal(retaken.granted, true, 'the lapsed lease is taken over');
        assert.equal((await first.tryProbe(key, minute)).granted, false, 'the live lease is not');
        assert.deepEqual(await second.recordSuccess(key), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
        assert.deepEqual(await first.readBreaker(key), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
      });
    });
  });
}
