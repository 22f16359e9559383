/**
 * The conformance suite of a store's response cache (src/spec/response-cache-store-v1.ts). `first`
 * and `second` are two handles on one store (two connections, as two gateway processes would
 * hold), each new, so neither has deleted expired entries yet. Time is the entries' storedMs and
 * the nowMs a read is given: no test waits for a clock. Whether an expired entry is still held is
 * seen by reading it with an earlier nowMs.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CachedResponseV1, ResponseCacheStoreV1 } from '../../spec/index.ts';

export interface ResponseCacheStoresUnderTest {
  first: ResponseCacheStoreV1;
  second: ResponseCacheStoreV1;
  dispose: () => Promise<void>;
}

export type ResponseCacheStoresFactory = () => Promise<ResponseCacheStoresUnderTest>;

// Past 2^31 seconds' worth of milliseconds, so a 32-bit column would not hold it.
const start = Date.UTC(2030, 0, 15, 12, 0, 0);
const minute = 60_000;

/** A key as the gateway makes one: a SHA-256 digest, hex. */
function cacheKey(): string {
  return createHash('sha256').update(randomUUID()).digest('hex');
}

function entry(storedMs: number, ttlMs: number, overrides: Partial<CachedResponseV1> = {}): CachedResponseV1 {
  const text = JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, message: { role: 'assistant', content: 'Refunds take 5 days. é ✓ 𝄞' }, finish_reason: 'stop' }] });
  return { text, runId: `run_${randomUUID()}`, storedMs, expiresMs: storedMs + ttlMs, ...overrides };
}

async function withStores(factory: ResponseCacheStoresFactory, work: (stores: ResponseCacheStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runResponseCacheConformance(label: string, factory: ResponseCacheStoresFactory | { skip: string }): void {
  describe(`response cache store conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('an entry written is read back exactly; a key never written is undefined', async () => {
      await withStores(factory, async ({ first }) => {
        assert.equal(first.responseCacheSpecificationVersion, 'v1');
        const key = cacheKey();
        const written = entry(start, 5 * minute);
        await first.writeCachedResponse(key, written);
        assert.deepEqual(await first.readCachedResponse(key, start + 1), written);
        assert.equal(await first.readCachedResponse(cacheKey(), start + 1), undefined);
      });
    });

    void test('an entry is returned until the millisecond before its expiry, and undefined from its expiry on', async () => {
      await withStores(factory, async ({ first }) => {
        const key = cacheKey();
        const written = entry(start, 30_000);
        await first.writeCachedResponse(key, written);
        assert.deepEqual(await first.readCachedResponse(key, written.expiresMs - 1), written);
        assert.equal(await first.readCachedResponse(key, written.expiresMs), undefined);
        assert.equal(await first.readCachedResponse(key, written.expiresMs + minute), undefined);
      });
    });

    void test('a second write under a key replaces the first, whole', async () => {
      await withStores(factory, async ({ first }) => {
        const key = cacheKey();
        await first.writeCachedResponse(key, entry(start, 5 * minute));
        const replacement = entry(start + 1_000, 2 * minute, { text: '{"answer":"second"}' });
        await first.writeCachedResponse(key, replacement);
        assert.deepEqual(await first.readCachedResponse(key, start + 2_000), replacement);
        // The replacement's shorter life holds: the first entry's expiry is not kept.
        assert.equal(await first.readCachedResponse(key, replacement.expiresMs), undefined);
      });
    });

    void test('two handles on one store see each other\'s entries and replacements', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = cacheKey();
        const fromFirst = entry(start, 5 * minute);
        await first.writeCachedResponse(key, fromFirst);
        assert.deepEqual(await second.readCachedResponse(key, start + 1), fromFirst);
        const fromSecond = entry(start + 10, 5 * minute, { text: '{"answer":"from the second process"}' });
        await second.writeCachedResponse(key, fromSecond);
        assert.deepEqual(await first.readCachedResponse(key, start + 20), fromSecond);
        const otherKey = cacheKey();
        const other = entry(start + 30, minute);
        await second.writeCachedResponse(otherKey, other);
        assert.deepEqual(await first.readCachedResponse(otherKey, start + 40), other);
      });
    });

    void test('expired entries are deleted by the first write a minute after the last deletion, and not before; live ones stay', async () => {
      await withStores(factory, async ({ first, second }) => {
        const shortLived = cacheKey();
        const longLived = cacheKey();
        const early = entry(start, 1_000);
        const late = entry(start, 10 * minute);
        // The first write of a new handle deletes what has expired by then; nothing has.
        await first.writeCachedResponse(shortLived, early);
        await first.writeCachedResponse(longLived, late);
        // Half a minute on, the short-lived entry has expired, but the handle deleted within the minute.
        await first.writeCachedResponse(cacheKey(), entry(start + minute / 2, 10 * minute));
        assert.deepEqual(await first.readCachedResponse(shortLived, start), early, 'a write within a minute of the last deletion deletes nothing');
        // A minute after the last deletion (by the writes' own storedMs), the next write deletes it.
        await first.writeCachedResponse(cacheKey(), entry(start + minute, 10 * minute));
        assert.equal(await first.readCachedResponse(shortLived, start), undefined, 'the expired entry is gone even for a reader whose clock is earlier');
        assert.equal(await second.readCachedResponse(shortLived, start), undefined, 'and for the other handle');
        assert.deepEqual(await second.readCachedResponse(longLived, start + minute), late, 'a live entry is kept');
      });
    });

    void test('an entry is deleted once expired at the deleting write\'s storedMs, at the millisecond, and not a millisecond before', async () => {
      await withStores(factory, async ({ first }) => {
        const atExpiry = cacheKey();
        const afterExpiry = cacheKey();
        const expiring = entry(start, 2 * minute);
        const expiringLater = entry(start, 2 * minute + 1);
        await first.writeCachedResponse(atExpiry, expiring);
        await first.writeCachedResponse(afterExpiry, expiringLater);
        await first.writeCachedResponse(cacheKey(), entry(start + 2 * minute, minute));
        assert.equal(await first.readCachedResponse(atExpiry, start), undefined);
        assert.deepEqual(await first.readCachedResponse(afterExpiry, start), expiringLater);
      });
    });

    void test('a large answer (200 KB, multi-byte text) round-trips exactly', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = cacheKey();
        const content = 'Ünïcödé ✓ 𝄞 "quoted" \\ back\nslash\t'.repeat(6_000);
        const text = JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });
        assert.ok(Buffer.byteLength(text) > 200_000, `the text is ${Buffer.byteLength(text)} bytes`);
        const written = entry(start, 5 * minute, { text });
        await first.writeCachedResponse(key, written);
        const read = await second.readCachedResponse(key, start + 1);
        assert.equal(read?.text.length, text.length);
        assert.ok(read?.text === text, 'the text is the same, character for character');
        assert.deepEqual(read, written);
      });
    });
  });
}
