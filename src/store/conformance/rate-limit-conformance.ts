/**
 * The conformance suite of a shared rate limiter (src/spec/rate-limiter-v1.ts). `first` and
 * `second` are two handles on one set of windows (two connections, as two processes would hold),
 * so the suite can race them against each other.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RateLimiterV1 } from '../../spec/index.ts';

export interface RateLimitersUnderTest {
  first: RateLimiterV1;
  second: RateLimiterV1;
  dispose: () => Promise<void>;
}

export type RateLimitersFactory = () => Promise<RateLimitersUnderTest>;

const minute = 60_000;
const start = Date.UTC(2030, 0, 15, 12, 0, 0);

async function withLimiters(factory: RateLimitersFactory, work: (limiters: RateLimitersUnderTest) => Promise<void>): Promise<void> {
  const limiters = await factory();
  try {
    await work(limiters);
  } finally {
    await limiters.dispose();
  }
}

export function runRateLimitConformance(label: string, factory: RateLimitersFactory | { skip: string }): void {
  describe(`rate limiter conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('concurrent acquisitions through two handles grant exactly the limit, and refusals say when to retry', async () => {
      await withLimiters(factory, async ({ first, second }) => {
        const key = `model:route:tenant:${randomUUID()}`;
        const decisions = await Promise.all(Array.from({ length: 40 }, async (_, index) => (index % 2 === 0 ? first : second).acquire([{ key, limit: 10, windowMs: minute }])));
        assert.equal(decisions.filter((decision) => decision.allowed).length, 10, 'exactly the limit is granted, whichever handle asked');
        for (const decision of decisions) {
          if (decision.allowed) continue;
          assert.equal(decision.key, key);
          assert.ok(decision.retryAfterMs > 0 && decision.retryAfterMs <= minute, `retry after ${decision.retryAfterMs} ms`);
        }
      });
    });

    void test('all or nothing: a call refused by one window uses up no other', async () => {
      await withLimiters(factory, async ({ first, second }) => {
        const roomy = { key: `roomy:${randomUUID()}`, limit: 3, windowMs: minute };
        const tight = { key: `tight:${randomUUID()}`, limit: 1, windowMs: minute };
        assert.deepEqual(await first.acquire([roomy, tight], { nowMs: start }), { allowed: true });
        const refused = await second.acquire([roomy, tight], { nowMs: start + 1 });
        assert.equal(refused.allowed, false);
        assert.equal(refused.allowed ? '' : refused.key, tight.key);
        // roomy counted one call, not two: two more fit, the third does not.
        assert.equal((await second.acquire([roomy], { nowMs: start + 2 })).allowed, true);
        assert.equal((await first.acquire([roomy], { nowMs: start + 3 })).allowed, true);
        assert.equal((await first.acquire([roomy], { nowMs: start + 4 })).allowed, false);
        assert.deepEqual(await first.acquire([], { nowMs: start }), { allowed: true });
      });
    });

    void test('the window slides: a slot frees exactly when the call holding it leaves the window', async () => {
      await withLimiters(factory, async ({ first, second }) => {
        const limit = { key: `sliding:${randomUUID()}`, limit: 2, windowMs: 1_000 };
        assert.equal((await first.acquire([limit], { nowMs: start })).allowed, true);
        assert.equal((await second.acquire([limit], { nowMs: start + 400 })).allowed, true);
        // Full: the call at `start` frees its slot at start + 1000.
        assert.deepEqual(await first.acquire([limit], { nowMs: start + 500 }), { allowed: false, key: limit.key, retryAfterMs: 500 });
        assert.deepEqual(await second.acquire([limit], { nowMs: start + 1_000 }), { allowed: true });
        // Now the call at start + 400 is the oldest inside: it frees its slot at start + 1400.
        assert.deepEqual(await first.acquire([limit], { nowMs: start + 1_100 }), { allowed: false, key: limit.key, retryAfterMs: 300 });
        assert.deepEqual(await first.acquire([limit], { nowMs: start + 1_400 }), { allowed: true });
      });
    });

    void test('a limit lowered under the calls already in its window waits for enough of them to leave', async () => {
      await withLimiters(factory, async ({ first, second }) => {
        const key = `lowered:${randomUUID()}`;
        for (const offset of [0, 100, 200, 300]) assert.equal((await first.acquire([{ key, limit: 4, windowMs: 1_000 }], { nowMs: start + offset })).allowed, true);
        // Two slots now, four calls inside: a slot frees only when the second newest (at start + 200) leaves.
        assert.deepEqual(await second.acquire([{ key, limit: 2, windowMs: 1_000 }], { nowMs: start + 350 }), { allowed: false, key, retryAfterMs: 850 });
        assert.deepEqual(await second.acquire([{ key, limit: 2, windowMs: 1_000 }], { nowMs: start + 1_100 }), { allowed: false, key, retryAfterMs: 100 });
        assert.deepEqual(await second.acquire([{ key, limit: 2, windowMs: 1_000 }], { nowMs: start + 1_200 }), { allowed: true });
        // Those that left are forgotten: the window holds start + 300 and + 1200, so two more fit under four.
        assert.deepEqual(await first.acquire([{ key, limit: 4, windowMs: 1_000 }], { nowMs: start + 1_250 }), { allowed: true });
        assert.deepEqual(await first.acquire([{ key, limit: 4, windowMs: 1_000 }], { nowMs: start + 1_260 }), { allowed: true });
        assert.deepEqual(await first.acquire([{ key, limit: 4, windowMs: 1_000 }], { nowMs: start + 1_270 }), { allowed: false, key, retryAfterMs: 30 });
      });
    });

    void test('without a clock the store times the window, and a fresh key is allowed', async () => {
      await withLimiters(factory, async ({ first, second }) => {
        const key = `own-clock:${randomUUID()}`;
        assert.deepEqual(await first.acquire([{ key, limit: 1, windowMs: minute }]), { allowed: true });
        const refused = await second.acquire([{ key, limit: 1, windowMs: minute }]);
        assert.equal(refused.allowed, false);
        assert.ok(!refused.allowed && refused.retryAfterMs > minute - 10_000 && refused.retryAfterMs <= minute, JSON.stringify(refused));
      });
    });
  });
}
