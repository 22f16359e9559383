import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRun, verifyChain } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { RunContext, TaskDefinition } from './index.ts';
import { defineTask, Engine } from './index.ts';
import { taskConfigHash } from './task-config-hash.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-engine-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const who = { principal: 'user:ada', tenant: 'acme' };

function engineWith(...tasks: TaskDefinition[]): Engine {
  return new Engine({ store, tasks, leaseMs: 5_000 });
}

/** Simulates a process dying inside a step: the step never returns and the engine is torn down. */
async function interrupt(engine: Engine, taskName: string, input: JsonValue, gate: Promise<void>): Promise<string> {
  const started = engine.start(taskName, input, who).catch((error: unknown) => error);
  await gate;
  engine.shutdown();
  const error = await started;
  assert.equal((error as { code?: string }).code, 'lease-lost');
  const runs = await store.listRuns({ task: taskName, limit: 1 });
  const runId = runs[0]?.id ?? '';
  await store.breakLease(runId, engine.workerId);
  return runId;
}

function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
}

test('a run journals its steps, ends ok, and its chain verifies', async () => {
  const task = defineTask({
    name: 'add',
    version: '1',
    run: async (context, input: { a: number; b: number }) => {
      const sum = await context.step('sum', () => input.a + input.b, { idempotent: true });
      const doubled = await context.tool('double', { value: sum }, (args) => args.value * 2, { idempotent: true });
      return { sum, doubled };
    },
  });
  const outcome = await engineWith(task).start('add', { a: 2, b: 3 }, who);
  assert.equal(outcome.status, 'ok');
  assert.deepEqual(outcome.output, { sum: 5, doubled: 10 });
  const { events, state } = await loadRun(store, outcome.runId);
  assert.deepEqual(events.map((event) => event.type), ['run-start', 'run-resume', 'step-start', 'step-end', 'step-start', 'step-end', 'run-end']);
  assert.equal(state.stepsCompleted, 2);
  assert.ok(verifyChain(await store.readJournal(outcome.runId)).ok);
  const run = await store.getRun(outcome.runId);
  assert.equal(run?.status, 'ok');
  assert.equal(run?.stepCount, 2);
  assert.equal(run?.leaseOwner, null, 'the lease is released at the end');
});

test("a run's tags are in its run-start and its index, for start and enqueue alike; a run without has neither", async () => {
  const task = defineTask({ name: 'tagged', version: '1', run: () => Promise.resolve('done') });
  const engine = engineWith(task);
  const tags = { project: 'search', team: 'core' };
  const started = await engine.start('tagged', null, { ...who, tags });
  const queued = await engine.enqueue('tagged', null, { ...who, tags: { project: 'ads' } });
  const plain = await engine.start('tagged', null, who);
  const startOf = async (runId: string) => (await loadRun(store, runId)).events[0];
  const first = await startOf(started.runId);
  assert.deepEqual(first?.type === 'run-start' ? first.data.tags : 'not a run-start', tags);
  assert.deepEqual((await store.getRun(started.runId))?.tags, tags);
  assert.deepEqual((await store.getRun(queued))?.tags, { project: 'ads' });
  const plainStart = await startOf(plain.runId);
  assert.equal(plainStart?.type === 'run-start' && 'tags' in plainStart.data, false, 'no tags field: its hash is as before');
  assert.equal((await store.getRun(plain.runId))?.tags, undefined);
  // Refused by the store: the run is not created.
  await assert.rejects(engine.enqueue('tagged', null, { ...who, tags: { 'bad name': 'x' } }), { code: 'usage-invalid', message: /tag name "bad name"/ });
});

test('resume replays completed steps and re-runs only the interrupted idempotent one', async () => {
  const executed: string[] = [];
  let release!: () => void;
  const reachedThird = new Promise<void>((resolve) => (release = resolve));
  let crash = true;
  const task = defineTask({
    name: 'three-steps',
    version: '1',
    run: async (context: RunContext) => {
      const a = await context.step('one', () => (executed.push('one'), 1), { idempotent: true });
      const b = await context.step('two', () => (executed.push('two'), 2), { idempotent: true });
      const c = await context.step('three', async (info) => {
        executed.push('three');
        if (crash) {
          release();
          return hang(info.signal);
        }
        return 3;
      }, { idempotent: true });
      return a + b + c;
    },
  });
  const runId = await interrupt(engineWith(task), 'three-steps', null, reachedThird);
  crash = false;
  const resumed = await engineWith(task).resumeAll();
  const outcome = resumed.find((result) => result.runId === runId);
  assert.ok(outcome !== undefined && 'status' in outcome);
  assert.equal(outcome.status, 'ok');
  assert.equal(outcome.output, 6);
  assert.deepEqual(executed, ['one', 'two', 'three', 'three']);
  const { state } = await loadRun(store, runId);
  assert.equal(state.attempts, 2);
});

test('a non-idempotent step interrupted mid-flight escalates instead of running twice', async () => {
  let effects = 0;
  let release!: () => void;
  const inside = new Promise<void>((resolve) => (release = resolve));
  let crash = true;
  const task = defineTask({
    name: 'charge',
    version: '1',
    run: async (context: RunContext) => {
      await context.tool('charge-card', { cents: 500 }, async (_args, info) => {
        effects += 1;
        if (crash) {
          release();
          return hang(info.signal);
        }
        return 'charged';
      });
      return 'done';
    },
  });
  const runId = await interrupt(engineWith(task), 'charge', null, inside);
  crash = false;
  await engineWith(task).resumeAll();
  const run = await store.getRun(runId);
  assert.equal(run?.status, 'escalated');
  assert.match(run?.reason ?? '', /charge-card.*outcome was never recorded.*not idempotent/);
  assert.equal(effects, 1);
  const { state } = await loadRun(store, runId);
  assert.equal(state.end?.error?.code, 'step-outcome-unknown');
});

test('replay that meets a different step than the journal fails with replay-divergence', async () => {
  let release!: () => void;
  const inside = new Promise<void>((resolve) => (release = resolve));
  const original = defineTask({
    name: 'diverge',
    version: '1',
    run: async (context: RunContext) => {
      await context.step('fetch-order', () => 'order', { idempotent: true });
      await context.step('wait', (info) => (release(), hang(info.signal)), { idempotent: true });
      return 'never';
    },
  });
  const runId = await interrupt(engineWith(original), 'diverge', null, inside);
  const changed = defineTask({
    name: 'diverge',
    version: '1',
    run: async (context: RunContext) => {
      await context.step('fetch-customer', () => 'customer', { idempotent: true });
      return 'changed';
    },
  });
  await engineWith(changed).resumeAll();
  const { state } = await loadRun(store, runId);
  assert.equal(state.status, 'failed');
  assert.equal(state.end?.error?.code, 'replay-divergence');
  assert.match(state.end?.reason ?? '', /step 1.*'fetch-customer'.*journal recorded step 'fetch-order'.*version/);
});

test('rollback returns to the last verified checkpoint and continues from there', async () => {
  const executed: string[] = [];
  const task = defineTask({
    name: 'rollback',
    version: '1',
    run: async (context: RunContext) => {
      const order = await context.step('load', () => (executed.push('load'), { total: 40 }), { idempotent: true });
      await context.checkpoint('loaded', order, (state) => ((state as { total: number }).total > 0 ? true : 'empty order'));
      const draft = await context.step('draft', () => (executed.push(`draft@${context.epoch}`), context.epoch === 0 ? -5 : 40), { idempotent: true });
      if (draft < 0) context.rollback(`draft amount ${draft} is negative`);
      return draft;
    },
  });
  const outcome = await engineWith(task).start('rollback', null, who);
  assert.equal(outcome.status, 'ok');
  assert.equal(outcome.output, 40);
  assert.deepEqual(executed, ['load', 'draft@0', 'draft@1']);
  const { events } = await loadRun(store, outcome.runId);
  const rollback = events.find((event) => event.type === 'rollback');
  assert.ok(rollback?.type === 'rollback');
  assert.equal(rollback.data.label, 'loaded');
  assert.equal(rollback.data.afterStep, 1);
  assert.match(rollback.data.reason, /negative/);
});

test('rollback with no verified checkpoint fails the run with a reason', async () => {
  const task = defineTask({
    name: 'rollback-unverified',
    version: '1',
    run: async (context: RunContext) => {
      await context.checkpoint('bad', { total: 0 }, () => 'empty order');
      context.rollback('wanted to');
    },
  });
  const outcome = await engineWith(task).start('rollback-unverified', null, who);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.error?.code, 'checkpoint-missing');
});

test('every ending is explicit: degraded with markers, escalated, failed with the step error', async () => {
  const degraded = defineTask({
    name: 'degraded',
    version: '1',
    run: async (context: RunContext) => {
      context.markConfidence({ subject: 'answer', confidence: 0.4, reason: 'policy section missing' });
      return 'partial';
    },
  });
  const escalated = defineTask({ name: 'escalated', version: '1', run: async (context: RunContext) => context.escalate('refund above limit') });
  const failing = defineTask({
    name: 'failing',
    version: '1',
    run: async (context: RunContext) => {
      await context.step('explode', () => {
        throw new Error('upstream said no');
      });
      return 'unreachable';
    },
  });
  const engine = engineWith(degraded, escalated, failing);
  const first = await engine.start('degraded', null, who);
  assert.equal(first.status, 'degraded');
  assert.deepEqual(first.confidence, [{ subject: 'answer', confidence: 0.4, reason: 'policy section missing' }]);
  const second = await engine.start('escalated', null, who);
  assert.equal(second.status, 'escalated');
  assert.equal(second.reason, 'refund above limit');
  const third = await engine.start('failing', null, who);
  assert.equal(third.status, 'failed');
  assert.equal(third.error?.code, 'step-threw');
  assert.equal(third.reason, 'upstream said no');
});

test('a run recorded by another task version is not resumed by this one', async () => {
  const v1 = defineTask({ name: 'versioned', version: '1', run: async () => 'v1' });
  const runId = await engineWith(v1).enqueue('versioned', null, who);
  const v2 = defineTask({ name: 'versioned', version: '2', run: async () => 'v2' });
  await engineWith(v2).resumeAll();
  const run = await store.getRun(runId);
  assert.equal(run?.status, 'failed');
  assert.match(run?.reason ?? '', /version 1.*version 2/);
});

test('an unknown task is refused with task-unknown', async () => {
  await assert.rejects(engineWith().start('nope', null, who), { code: 'task-unknown' });
});

test('a run started here is created and resumed in one transaction; a taken run id fails the start with run-exists and leaves that run as it was', async () => {
  const engine = engineWith(defineTask({ name: 'noop', version: '1', run: async () => 'done' }));
  const before = store.stats.transactions;
  const outcome = await engine.start('noop', null, who);
  assert.equal(outcome.status, 'ok');
  // run-start and run-resume in one group, run-end in the next.
  assert.equal(store.stats.transactions - before, 2);
  assert.deepEqual(
    (await store.readJournal(outcome.runId)).map((record) => record.type),
    ['run-start', 'run-resume', 'run-end'],
  );
  await assert.rejects(engine.start('noop', null, { ...who, runId: outcome.runId }), { code: 'run-exists' });
  const journal = await store.readJournal(outcome.runId);
  assert.deepEqual(journal.map((record) => record.type), ['run-start', 'run-resume', 'run-end']);
  assert.equal((await store.getRun(outcome.runId))?.status, 'ok');
});

test("a run started here reads and hashes its task's configuration once; a resumed run is checked against it", async () => {
  let reads = 0;
  const task = defineTask({ name: 'configured', version: '1', run: async () => 'done' });
  const counted: TaskDefinition = Object.defineProperty({ ...task }, 'config', {
    get: () => {
      reads += 1;
      return { prompt: 'p' };
    },
    enumerable: true,
  });
  const engine = engineWith(counted);
  const outcome = await engine.start('configured', null, who);
  assert.equal(outcome.status, 'ok');
  assert.equal(reads, 1);
  const { state } = await loadRun(store, outcome.runId);
  assert.equal(state.configHash, taskConfigHash({ name: 'configured', version: '1', config: { prompt: 'p' } }));
});
