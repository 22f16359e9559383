/**
 * Leases under faults, on both stores: a renewal that fails once does not abandon the run;
 * renewals that keep failing give the run up before its lease can lapse; a run that reached an
 * end state or a person's decision keeps no lease, even when its worker never released it; a
 * decision or a stop on a waiting run is not blocked by a lease a dead worker left on it.
 *
 * Faults are injected by a thin wrapper over the real store (`faulty`), which changes only the
 * calls a test names and counts what happened.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { loadRun } from '../journal/index.ts';
import type { LeaseRenewalV1, StoreV1 } from '../spec/index.ts';
import { PostgresStore, SqliteStore } from '../store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../store/testing/index.ts';
import type { RunAbandoned, RunOutcome } from './index.ts';
import { defineTask, Engine } from './index.ts';

const who = { principal: 'user:ada', tenant: 'acme' };
/** A worker id no process has: the owner of a lease left behind by a worker that died. */
const deadWorker = 'gone-host/4242/0123456789abcdef';

interface Faults {
  /** Renewals to fail before letting them through; Infinity fails them all. */
  failRenewals: number;
  /** Drop lease releases on the floor, as a worker killed before its release would. */
  dropReleases: boolean;
}

interface Observed {
  failedRenewals: number;
  renewalsAfterFailure: number;
  /** Resolves at the first renewal that succeeds after a failed one. */
  recovered: Promise<void>;
  /** Lease releases asked for, dropped or not. */
  releases: number;
}

/** The real store, with the named faults injected; everything else passes straight through. */
function faulty(store: StoreV1, faults: Partial<Faults>): { store: StoreV1; observed: Observed } {
  const plan: Faults = { failRenewals: 0, dropReleases: false, ...faults };
  let markRecovered = () => undefined as void;
  const observed: Observed = { failedRenewals: 0, renewalsAfterFailure: 0, recovered: new Promise((resolve) => (markRecovered = resolve)), releases: 0 };
  const renewLease = async (runId: string, owner: string, leaseMs: number): Promise<LeaseRenewalV1> => {
    if (observed.failedRenewals < plan.failRenewals) {
      observed.failedRenewals += 1;
      throw new KeelError('db-unavailable', `injected: connection lost during lease renewal ${observed.failedRenewals}`);
    }
    const renewal = await store.renewLease(runId, owner, leaseMs);
    if (observed.failedRenewals > 0) {
      observed.renewalsAfterFailure += 1;
      markRecovered();
    }
    return renewal;
  };
  const releaseLease = async (runId: string, owner: string): Promise<void> => {
    observed.releases += 1;
    if (!plan.dropReleases) await store.releaseLease(runId, owner);
  };
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'renewLease') return renewLease;
      if (key === 'releaseLease') return releaseLease;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, observed };
}

/** Rejects when the signal aborts; never resolves otherwise. */
function until(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
}

function leaseSuite(label: string, open: () => Promise<{ store: StoreV1; close: () => Promise<void> } | { skip: string }>): void {
  describe(`leases under faults: ${label}`, () => {
    let store: StoreV1;
    let close: () => Promise<void> = () => Promise.resolve();
    let skip: string | undefined;
    before(async () => {
      const opened = await open();
      if ('skip' in opened) skip = opened.skip;
      else ({ store, close } = opened);
    });
    after(() => close());

    test('a renewal that fails once is retried within the lease, and the run finishes where it started', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const { store: flaky, observed } = faulty(store, { failRenewals: 1 });
      // Renewals every 300 ms: the step waits until one failed and a later one went through.
      const task = defineTask({
        name: `renewal-retry-${label}`,
        version: '1',
        run: async (context) => context.step('outlive a failed renewal', async (info) => Promise.race([observed.recovered.then(() => 'recovered'), until(info.signal)]), { idempotent: true }),
      });
      const engine = new Engine({ store: flaky, tasks: [task], leaseMs: 900, workerRegistry: false });
      const outcome = await engine.start(task.name, null, who);
      assert.equal(outcome.status, 'ok', outcome.reason ?? '');
      assert.equal(outcome.output, 'recovered');
      assert.equal(observed.failedRenewals, 1);
      assert.ok(observed.renewalsAfterFailure >= 1);
      const { events } = await loadRun(store, outcome.runId);
      assert.deepEqual(
        events.filter((event) => event.type === 'run-resume').map((event) => event.data.worker),
        [engine.workerId],
        'one execution, by the worker that started it',
      );
      t.diagnostic(`failed renewals ${observed.failedRenewals}, renewals after the failure before the step ended ${observed.renewalsAfterFailure}`);
    });

    test('renewals that keep failing give the run up before its lease can lapse, and another worker finishes it', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const { store: cutOff, observed } = faulty(store, { failRenewals: Number.POSITIVE_INFINITY });
      const leaseMs = 1_500;
      // Monotonic time: the wall clock of a loaded VM can step by seconds mid-test (a CI run saw
      // the step end "2,948 ms past" an expiry while the whole test took 1,355 ms).
      let stepAbortedAt = Number.NaN;
      let runId = '';
      let gaveUp = false;
      let leaseRead = false;
      const task = defineTask({
        name: `renewal-give-up-${label}`,
        version: '1',
        run: async (context) => {
          runId = context.runId;
          return context.step(
            'outlast the lease',
            async (info) => {
              if (gaveUp) return 'finished';
              leaseRead = Number.isFinite(Date.parse((await store.getRun(context.runId))?.leaseExpiresAt ?? 'NaN'));
              try {
                return await until(info.signal);
              } finally {
                stepAbortedAt = performance.now();
              }
            },
            { idempotent: true },
          );
        },
      });
      const engine = new Engine({ store: cutOff, tasks: [task], leaseMs, workerRegistry: false });
      // The lease is taken after this instant and every renewal fails, so it expires no earlier
      // than startedAt + leaseMs.
      const startedAt = performance.now();
      await assert.rejects(engine.start(task.name, null, who), (error: unknown) => {
        assert.equal((error as KeelError).code, 'lease-lost');
        assert.match((error as Error).message, /lease renewal failed \d+ times in a row \(injected: connection lost/);
        return true;
      });
      gaveUp = true;
      assert.ok(observed.failedRenewals >= 2, `only ${observed.failedRenewals} renewals were tried`);
      assert.ok(stepAbortedAt - startedAt >= leaseMs / 2, `the step was aborted after ${stepAbortedAt - startedAt} ms: too early for a ${leaseMs} ms lease`);
      assert.ok(leaseRead, 'the run was leased while its step ran');
      assert.ok(stepAbortedAt - startedAt < leaseMs, `the step was aborted ${Math.round(stepAbortedAt - startedAt)} ms after the start: past a ${leaseMs} ms lease`);
      assert.equal((await store.getRun(runId))?.leaseOwner, null, 'the worker released what it gave up');
      // Nothing was lost: another worker resumes the run and finishes it.
      const other = new Engine({ store, tasks: [task], leaseMs, workerRegistry: false });
      const [settled] = await other.resumeAll({ pollMs: 20 });
      assert.ok(settled !== undefined && 'status' in settled, JSON.stringify(settled));
      t.diagnostic(`renewals failed ${observed.failedRenewals}; step aborted ${Math.round(stepAbortedAt - startedAt)} ms after the start of a ${leaseMs} ms lease`);
    });

    test('a run that ends, fails or waits for a person keeps no lease, even when its worker never released it', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const { store: forgetful } = faulty(store, { dropReleases: true });
      const task = defineTask({
        name: `no-stale-lease-${label}`,
        version: '1',
        run: async (context, input: { end: 'ok' | 'fail' | 'escalate' | 'wait' }) => {
          await context.step('work', () => 'done', { idempotent: true });
          if (input.end === 'fail') throw new Error('the task failed');
          if (input.end === 'escalate') context.escalate('a person must look');
          if (input.end === 'wait') await context.approval('sign-off', { reason: 'a lead signs off' });
          return 'done';
        },
      });
      const engine = new Engine({ store: forgetful, tasks: [task], leaseMs: 60_000, workerRegistry: false });
      for (const end of ['ok', 'fail', 'escalate', 'wait'] as const) {
        const outcome = await engine.start(task.name, { end }, who);
        const run = await store.getRun(outcome.runId);
        assert.deepEqual({ status: run?.status, owner: run?.leaseOwner, expires: run?.leaseExpiresAt }, { status: outcome.status, owner: null, expires: null }, end);
      }
      // A stop decided here, on a run this process never released either.
      const parked = await engine.start(task.name, { end: 'wait' }, who);
      const stopped = await engine.stop(parked.runId, { by: 'user:ops', reason: 'not needed' });
      assert.deepEqual({ status: stopped.status, owner: stopped.leaseOwner }, { status: 'failed', owner: null });
    });

    test('a run that ends here is not released after its end: the append of its end handed its lease back', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const { store: counted, observed } = faulty(store, {});
      const task = defineTask({
        name: `ended-not-released-${label}`,
        version: '1',
        run: async (context, input: { end: 'ok' | 'fail' | 'escalate' }) => {
          await context.step('work', () => 'done', { idempotent: true });
          if (input.end === 'fail') throw new Error('the task failed');
          if (input.end === 'escalate') context.escalate('a person must look');
          return 'done';
        },
      });
      const engine = new Engine({ store: counted, tasks: [task], leaseMs: 60_000, workerRegistry: false });
      for (const end of ['ok', 'fail', 'escalate'] as const) {
        const outcome = await engine.start(task.name, { end }, who);
        const run = await store.getRun(outcome.runId);
        assert.deepEqual({ status: run?.status, owner: run?.leaseOwner, releases: observed.releases }, { status: outcome.status, owner: null, releases: 0 }, end);
      }
    });

    test("approve works on a waiting run whose lease a dead worker still holds, and two deciders record one decision", async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const task = defineTask({
        name: `approve-over-stale-lease-${label}`,
        version: '1',
        run: async (context) => {
          const approval = await context.approval('publish', { reason: 'an editor approves' });
          return { approvedBy: approval.decider };
        },
      });
      const worker = new Engine({ store, tasks: [task], leaseMs: 60_000, workerRegistry: false });
      const parked = await worker.start(task.name, null, who);
      assert.equal(parked.status, 'waiting');
      // The lease a worker killed while parking the run would have left (taken as the old code did).
      const stale = await store.claimRun(parked.runId, { owner: deadWorker, leaseMs: 60_000, statuses: ['waiting'] });
      assert.equal(stale?.leaseOwner, deadWorker, 'the stale lease is in place');

      const deciders = [1, 2].map(() => new Engine({ store, tasks: [task], leaseMs: 60_000, workerRegistry: false }));
      const results = await Promise.allSettled(deciders.map((decider, index) => decider.decide(parked.runId, { decision: 'approve', decider: `user:editor-${index + 1}` })));
      const finished = results.filter((result): result is PromiseFulfilledResult<RunOutcome | RunAbandoned> => result.status === 'fulfilled');
      const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      assert.equal(finished.length, 1, `decisions recorded: ${JSON.stringify(results)}`);
      assert.deepEqual(refused.map((result) => (result.reason as KeelError).code), ['run-not-waiting']);
      const outcome = finished[0]?.value;
      assert.ok(outcome !== undefined && 'status' in outcome, JSON.stringify(outcome));
      assert.equal(outcome.status, 'ok', outcome.reason ?? '');
      const { events } = await loadRun(store, parked.runId);
      const decisions = events.filter((event) => event.type === 'human-decision');
      assert.equal(decisions.length, 1);
      assert.deepEqual(outcome.output, { approvedBy: decisions[0]?.type === 'human-decision' ? decisions[0].data.decider : undefined });
      assert.equal((await store.getRun(parked.runId))?.leaseOwner, null);
    });

    test('stop ends a waiting run at once even when a dead worker left its lease on it', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const task = defineTask({
        name: `stop-over-stale-lease-${label}`,
        version: '1',
        run: async (context) => context.approval('publish', { reason: 'an editor approves' }),
      });
      const worker = new Engine({ store, tasks: [task], leaseMs: 60_000, workerRegistry: false });
      const parked = await worker.start(task.name, null, who);
      await store.claimRun(parked.runId, { owner: deadWorker, leaseMs: 60_000, statuses: ['waiting'] });
      const started = performance.now();
      const stopped = await new Engine({ store, tasks: [], workerRegistry: false }).stop(parked.runId, { by: 'user:ops', reason: 'withdrawn' });
      const took = performance.now() - started;
      assert.deepEqual({ status: stopped.status, reason: stopped.reason, owner: stopped.leaseOwner }, { status: 'failed', reason: 'stopped by user:ops: withdrawn', owner: null });
      assert.ok(took < 1_000, `stop took ${Math.round(took)} ms`);
    });
  });
}

leaseSuite('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-leases-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

leaseSuite('postgres', async () => {
  const database = await openTestPostgres();
  if ('skipReason' in database) return { skip: database.skipReason };
  const schema = uniqueSchemaName('keel_leases');
  const store = await PostgresStore.open({ url: database.url, schema });
  return {
    store,
    close: async () => {
      await store.close();
      await dropSchema(database.url, schema);
    },
  };
});
