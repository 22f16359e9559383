import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlidingWindowRateLimiter } from './index.ts';

test('the window slides: a slot frees exactly when its call is windowMs old', () => {
  let now = 0;
  const limiter = new SlidingWindowRateLimiter({ now: () => now });
  const request = [{ key: 'k', limit: 2, windowMs: 1_000 }];
  assert.deepEqual(limiter.acquire(request), { allowed: true });
  now = 400;
  assert.deepEqual(limiter.acquire(request), { allowed: true });
  now = 999;
  assert.deepEqual(limiter.acquire(request), { allowed: false, key: 'k', retryAfterMs: 1 });
  now = 1_000;
  assert.deepEqual(limiter.acquire(request), { allowed: true }, 'the call at 0 has left the window');
  assert.deepEqual(limiter.acquire(request), { allowed: false, key: 'k', retryAfterMs: 400 });
});

test('all or nothing: a call refused by one window does not count against the others', () => {
  const limiter = new SlidingWindowRateLimiter({ now: () => 0 });
  const tenant = { key: 'tenant', limit: 5, windowMs: 1_000 };
  const global = { key: 'global', limit: 1, windowMs: 1_000 };
  assert.equal(limiter.acquire([tenant, global]).allowed, true);
  for (let index = 0; index < 3; index += 1) assert.equal(limiter.acquire([tenant, global]).allowed, false);
  for (let index = 0; index < 4; index += 1) assert.equal(limiter.acquire([tenant]).allowed, true, `tenant slot ${index + 2} is still free`);
  assert.equal(limiter.acquire([tenant]).allowed, false);
});
