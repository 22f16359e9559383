/**
 * Breakers and rate limits shared through a store: two SQLite handles on one file stand for two
 * processes, each with its own SharedGuards, as two `keel worker`s on one store would have.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultPriceTable } from '../../cost/index.ts';
import { defineTask, Engine } from '../../engine/index.ts';
import type { EventOf, JournalEvent } from '../../journal/index.ts';
import { loadRun } from '../../journal/index.ts';
import type { GenerateOptionsV1, RateLimiterV1 } from '../../spec/index.ts';
import { SqliteStore } from '../../store/index.ts';
import type { FaultPlan } from '../simulator/index.ts';
import { resolveModel } from '../resolve-model.ts';
import type { RouteConfig } from './index.ts';
import { GovernedModel, SharedGuards } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-shared-limits-'));
const path = join(folder, 'keel.db');
const processA = SqliteStore.open({ path, durability: 'normal' });
const processB = SqliteStore.open({ path, durability: 'normal' });
after(async () => {
  await Promise.all([processA.close(), processB.close()]);
  rmSync(folder, { recursive: true, force: true });
});

const request: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is my order A-1001?' }] }] };

function eventsOf<T extends JournalEvent['type']>(journal: JournalEvent[], type: T): EventOf<T>[] {
  return journal.filter((event): event is EventOf<T> => event.type === type);
}

let taskCounter = 0;

/** One run on `store` making `calls` calls through `model`; returns its outcome and journal. */
async function runOn(store: SqliteStore, model: GovernedModel, options: { calls: number; deadlineMs?: number; tenant?: string }) {
  taskCounter += 1;
  const task = defineTask({
    name: `shared-${taskCounter}`,
    version: '1',
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    run: async (context) => {
      for (let call = 1; call <= options.calls; call += 1) await context.model(`call-${call}`, model, request);
      return 'done';
    },
  });
  const engine = new Engine({ store, tasks: [task] });
  const outcome = await engine.start(task.name, null, { principal: 'user:test', tenant: options.tenant ?? 'acme' });
  return { outcome, journal: (await loadRun(store, outcome.runId)).events };
}

function governedOn(route: RouteConfig, guards: SharedGuards, faults: Record<string, FaultPlan> = {}, rateLimiter?: RateLimiterV1): GovernedModel {
  return new GovernedModel(route, {
    prices: defaultPriceTable,
    guards,
    resolveModel: (name) => resolveModel(name, { simulator: { faults: faults[name] ?? [] } }),
    ...(rateLimiter === undefined ? {} : { rateLimiter }),
  });
}

function attemptsOf(journal: JournalEvent[]): string[] {
  return eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.modelId}:${event.data.error?.code ?? 'ok'}`);
}

describe('a breaker shared through the store', () => {
  test('failures in one process open it, and another process that never saw a failure sheds its calls', async () => {
    const key = `smart-${Date.now()}`;
    const route: RouteConfig = { name: key, models: ['sim:smart', 'sim:fast'], resilience: { maxAttempts: 1, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } } };
    const inA = governedOn(route, new SharedGuards({ breakers: processA.breakers }), { 'sim:smart': [{ on: { every: 1 }, fault: { type: 'server-error' } }] });
    // Process B's smart is healthy: only the shared state can keep B away from it.
    const inB = governedOn(route, new SharedGuards({ breakers: processB.breakers }));

    const failing = await runOn(processA, inA, { calls: 4 });
    assert.equal(failing.outcome.status, 'ok');
    assert.deepEqual(attemptsOf(failing.journal), ['smart:model-server-error', 'fast:ok', 'smart:model-server-error', 'fast:ok', 'smart:model-server-error', 'fast:ok', 'smart:breaker-open', 'fast:ok']);
    assert.deepEqual(eventsOf(failing.journal, 'breaker-transition').map((event) => `${event.data.breaker}:${event.data.from}->${event.data.to}`), ['sim:smart:closed->open']);
    const shared = await processB.breakers.readBreaker('model:sim:smart');
    assert.equal(shared.state, 'open');

    const shed = await runOn(processB, inB, { calls: 1 });
    assert.equal(shed.outcome.status, 'ok');
    assert.deepEqual(attemptsOf(shed.journal), ['smart:breaker-open', 'fast:ok']);
    assert.deepEqual(eventsOf(shed.journal, 'breaker-transition').map((event) => `${event.data.from}->${event.data.to}`), ['closed->open'], 'B journals the state it learnt');
  });

  test("another process's successes do not reset this process's count of consecutive failures", async () => {
    const route: RouteConfig = { name: 'interleaved', models: ['sim:realistic', 'sim:fast'], resilience: { maxAttempts: 1, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } } };
    const inA = governedOn(route, new SharedGuards({ breakers: processA.breakers }), { 'sim:realistic': [{ on: { every: 1 }, fault: { type: 'server-error' } }] });
    const inB = governedOn(route, new SharedGuards({ breakers: processB.breakers }));
    await runOn(processA, inA, { calls: 2 });
    const healthy = await runOn(processB, inB, { calls: 1 });
    assert.deepEqual(attemptsOf(healthy.journal), ['realistic:ok']);
    const third = await runOn(processA, inA, { calls: 1 });
    assert.deepEqual(attemptsOf(third.journal), ['realistic:model-server-error', 'fast:ok']);
    assert.equal((await processB.breakers.readBreaker('model:sim:realistic')).state, 'open', "A's third failure in a row opened it for both");
  });

  test('once its time is up one process probes, and its success closes the breaker for all', async () => {
    const route: RouteConfig = { name: 'probe', models: ['sim:default', 'sim:fast'], resilience: { maxAttempts: 1, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 0 } } };
    const inA = governedOn(route, new SharedGuards({ breakers: processA.breakers }), { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'server-error' } }] });
    const inB = governedOn(route, new SharedGuards({ breakers: processB.breakers }));
    const failing = await runOn(processA, inA, { calls: 1 });
    assert.deepEqual(attemptsOf(failing.journal), ['default:model-server-error', 'fast:ok']);
    assert.equal((await processB.breakers.readBreaker('model:sim:default')).state, 'open');
    const probing = await runOn(processB, inB, { calls: 1 });
    assert.deepEqual(attemptsOf(probing.journal), ['default:ok'], 'B took the probe and the provider answered');
    assert.deepEqual(await processA.breakers.readBreaker('model:sim:default'), { state: 'closed', consecutiveFailures: 0, remainingMs: 0 });
  });

  test('a store that cannot be reached does not stop calls', async () => {
    const gone = SqliteStore.open({ path: join(folder, 'gone.db'), durability: 'normal' });
    await gone.close();
    const model = governedOn({ name: 'unreachable', models: ['sim:fast'] }, new SharedGuards({ breakers: gone.breakers }));
    const { outcome, journal } = await runOn(processA, model, { calls: 2 });
    assert.equal(outcome.status, 'ok');
    assert.deepEqual(attemptsOf(journal), ['fast:ok', 'fast:ok']);
  });
});

describe('a per-tenant rate limit on a route', () => {
  test('a call over the limit waits for a slot (journaled), and another tenant does not wait', async () => {
    const route: RouteConfig = { name: 'limited', models: ['sim:fast'], rateLimit: { perTenant: { limit: 2, windowMs: 300 } } };
    const model = governedOn(route, new SharedGuards(), {}, processA.rateLimits);
    const tenant = `tenant-${Date.now()}`;
    const limited = await runOn(processA, model, { calls: 3, tenant });
    assert.equal(limited.outcome.status, 'ok');
    const waits = eventsOf(limited.journal, 'retry-wait');
    assert.ok(waits.length >= 1, 'the third call waited');
    for (const wait of waits) {
      assert.equal(wait.data.reason, 'rate-limit');
      assert.equal(wait.data.step, 3);
      assert.ok(wait.data.waitMs > 0 && wait.data.waitMs <= 300, `waited ${wait.data.waitMs} ms`);
    }
    const other = await runOn(processB, model, { calls: 2, tenant: `${tenant}-other` });
    assert.deepEqual(eventsOf(other.journal, 'retry-wait'), []);
  });

  test('a wait its deadline cuts short fails the run with deadline-exceeded, naming the limit', async () => {
    const route: RouteConfig = { name: 'scarce', models: ['sim:fast'], rateLimit: { perTenant: { limit: 1, windowMs: 3_600_000 } } };
    const model = governedOn(route, new SharedGuards(), {}, processA.rateLimits);
    const { outcome, journal } = await runOn(processA, model, { calls: 2, deadlineMs: 300, tenant: `deadline-${Date.now()}` });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'deadline-exceeded');
    assert.equal(eventsOf(journal, 'retry-wait')[0]?.data.reason, 'rate-limit');
  });

  test('a route with a rate limit and no limiter to count it is refused when it is built', () => {
    assert.throws(() => governedOn({ name: 'uncounted', models: ['sim:fast'], rateLimit: { perTenant: { limit: 1, windowMs: 1_000 } } }, new SharedGuards()), {
      code: 'config-invalid',
      message: 'route uncounted has a rateLimit, but no rate limiter was given to count it',
    });
  });
});
