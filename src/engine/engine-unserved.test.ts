import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { verifyChain } from '../journal/index.ts';
import type { ClaimRequestV1, StoreV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import { defineTask, Engine } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-unserved-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const who = { principal: 'user:ada', tenant: 'acme' };
const served = defineTask({ name: 'served', version: '1', run: (context, input: { n: number }) => context.step('double', () => input.n * 2) });
const elsewhere = defineTask({ name: 'elsewhere', version: '1', run: (context) => context.step('work', () => 'done') });

/** An adapter written before claims could be filtered by task: it hands out runs of any task. */
function ignoringTaskFilter(inner: StoreV1): { store: StoreV1; claims: () => number } {
  let claims = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'claimRuns') {
        return ({ tasks: _tasks, ...request }: ClaimRequestV1) => {
          claims += 1;
          // A loop that keeps claiming what it cannot run would never drain: fail instead of hanging.
          if (claims > 50) throw new Error('the work loop keeps claiming runs it cannot execute');
          return target.claimRuns(request);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, claims: () => claims };
}

test('resumeAll claims only runs of served tasks and leaves the others untouched', async () => {
  const other = await new Engine({ store, tasks: [elsewhere] }).enqueue('elsewhere', null, who);
  const mine = await new Engine({ store, tasks: [served] }).enqueue('served', { n: 4 }, who);
  const settled = await new Engine({ store, tasks: [served] }).resumeAll();
  assert.deepEqual(
    settled.map((result) => ('status' in result ? [result.runId, result.status] : [result.runId, result.abandoned])),
    [[mine, 'ok']],
  );
  const left = await store.getRun(other);
  assert.equal(left?.status, 'queued');
  assert.equal(left?.leaseOwner, null);
  assert.equal((await store.readJournal(other)).length, 1);
});

test('a work loop does not claim again a run it gave up on, even from a store that ignores the task filter', async () => {
  const other = await new Engine({ store, tasks: [elsewhere] }).enqueue('elsewhere', null, who);
  const wrapped = ignoringTaskFilter(store);
  const settled = await new Engine({ store: wrapped.store, tasks: [served] }).resumeAll({ pollMs: 1 });
  const mentions = settled.filter((result) => result.runId === other);
  assert.equal(mentions.length, 1);
  assert.ok('abandoned' in mentions[0]! && mentions[0].abandoned === 'task-unknown');
  // One claim that found it, one that found only it again (released at once), then drained.
  assert.ok(wrapped.claims() <= 3, `claimed ${wrapped.claims()} times`);
  assert.equal((await store.getRun(other))?.leaseOwner, null);
  // Leave the store as the other tests expect it: nothing of this test left open.
  await new Engine({ store, tasks: [elsewhere] }).resumeAll();
});

test('a work loop gives up once on a run that started under another configuration of its task, and does not claim it again', async () => {
  const before = defineTask({ name: 'configured', version: '1', config: { prompt: 'before' }, run: (context) => context.step('work', () => 'done') });
  const after = defineTask({ name: 'configured', version: '1', config: { prompt: 'after' }, run: (context) => context.step('work', () => 'done') });
  const queued = await new Engine({ store, tasks: [before] }).enqueue('configured', null, who);
  const wrapped = ignoringTaskFilter(store);
  const settled = await new Engine({ store: wrapped.store, tasks: [after] }).resumeAll({ pollMs: 1 });
  const mentions = settled.filter((result) => result.runId === queued);
  assert.equal(mentions.length, 1, 'given up once');
  assert.ok('abandoned' in mentions[0]! && mentions[0].abandoned === 'config-changed');
  assert.ok(wrapped.claims() <= 3, `claimed ${wrapped.claims()} times`);
  const left = await store.getRun(queued);
  assert.equal(left?.status, 'queued', 'left as it was, for a process with the configuration it started with');
  assert.equal(left?.leaseOwner, null);
  // Leave the store as the other tests expect it: the process with the first configuration finishes it.
  await new Engine({ store, tasks: [before] }).resumeAll();
  assert.equal((await store.getRun(queued))?.status, 'ok');
});

test('stop ends a run of a task this process does not serve, journaled, without its code', async () => {
  const other = await new Engine({ store, tasks: [elsewhere] }).enqueue('elsewhere', null, who);
  const stopped = await new Engine({ store, tasks: [] }).stop(other, { by: 'user:ops', reason: 'decommissioned' });
  assert.equal(stopped.status, 'failed');
  assert.equal(stopped.reason, 'stopped by user:ops: decommissioned');
  const journal = await store.readJournal(other);
  assert.deepEqual(
    journal.map((record) => record.type),
    ['run-start', 'human-decision', 'run-end'],
  );
  assert.ok(verifyChain(journal).ok);
  assert.equal((await store.getRun(other))?.leaseOwner, null);
});

test('stop on a run that has already ended changes nothing and records no request', async () => {
  const engine = new Engine({ store, tasks: [served] });
  const outcome = await engine.start('served', { n: 1 }, who);
  const before = await store.readJournal(outcome.runId);
  const result = await engine.stop(outcome.runId, { by: 'user:ops', reason: 'too late' });
  assert.equal(result.status, 'ok');
  assert.equal(result.stopRequested, null);
  assert.equal((await store.readJournal(outcome.runId)).length, before.length);
});
