/**
 * Taking over from dead workers on one machine, with real processes killed with SIGKILL, on
 * SQLite and PostgreSQL:
 * - a dead worker's runs are taken over by the next process here at once (what `keel resume`
 *   relies on), long before its 60 s lease expires, because it registered on this machine;
 * - a live worker's lease is never broken;
 * - a lease whose owner is not registered here (another machine, even one whose id names this
 *   host and a pid that no longer exists, as two containers could) is left to expire;
 * - a worker killed after its run ended leaves no lease on it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import { Engine, LocalWorkerRegistry } from '../../src/engine/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';
import { heldRunTask, heldRunTaskName, leaseHolderLeaseMs } from './held-run-task.ts';

const holderPath = join(import.meta.dirname, 'lease-holder-process.ts');
const children = new Set<() => void>();
after(() => {
  for (const kill of children) kill();
});

interface Holder {
  workerId: Promise<string>;
  /** The run id printed with `holding` or `ended`. */
  runId: Promise<string>;
  kill: () => Promise<void>;
  stderr: () => string;
}

/** Starts lease-holder-process.ts; its promises settle on the lines it prints. */
function startHolder(database: string, mode: 'hold' | 'end'): Holder {
  const environment = { ...process.env };
  delete environment.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [holderPath, database, mode], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  children.add(kill);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const match = pattern.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      };
      child.stdout.on('data', look);
      void exited.then(() => reject(new Error(`lease holder exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`)));
    });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return {
    workerId: line(/^ready (\S+)$/m),
    runId: line(mode === 'hold' ? /^holding (\S+)$/m : /^ended (\S+)$/m),
    kill: async () => {
      kill();
      await exited;
      children.delete(kill);
    },
    stderr: () => stderr,
  };
}

/** A pid that existed on this machine a moment ago and exists no more. */
async function deadPid(): Promise<number> {
  const gone = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => gone.once('exit', resolve));
  assert.ok(gone.pid !== undefined);
  return gone.pid;
}

function takeoverSuite(label: string, open: () => Promise<{ database: string; store: StoreV1; close: () => Promise<void> } | { skip: string }>): void {
  describe(`local takeover: ${label}`, () => {
    let database = '';
    let store: StoreV1;
    let close: () => Promise<void> = () => Promise.resolve();
    let skip: string | undefined;
    before(async () => {
      const opened = await open();
      if ('skip' in opened) skip = opened.skip;
      else ({ database, store, close } = opened);
    });
    after(() => close());
    const resumer = () => new Engine({ store, tasks: [heldRunTask({ hold: false })], leaseMs: leaseHolderLeaseMs });

    test("a SIGKILLed worker's run is taken over at once by the next process here, long before its lease expires", async (t: TestContext) => {
      if (skip !== undefined) return t.skip(skip);
      const holder = startHolder(database, 'hold');
      const [victim, runId] = await Promise.all([holder.workerId, holder.runId]);
      const held = await store.getRun(runId);
      assert.equal(held?.leaseOwner, victim);
      await holder.kill();
      const killedAt = Date.now();
      assert.equal(await new LocalWorkerRegistry().isDead(victim), true, `the killed worker is known dead on this machine\n${holder.stderr()}`);
      const engine = resumer();
      const settled = await engine.resumeAll();
      assert.deepEqual(
        settled.map((result) => ('status' in result ? { runId: result.runId, status: result.status, output: result.output } : result)),
        [{ runId, status: 'ok', output: `finished by ${process.pid}` }],
      );
      const { events } = await loadRun(store, runId);
      const resumes = events.flatMap((event) => (event.type === 'run-resume' ? [{ worker: event.data.worker, attempt: event.data.attempt, found: event.data.found, at: Date.parse(event.time) }] : []));
      assert.deepEqual(
        resumes.map(({ worker, attempt, found }) => ({ worker, attempt, found })),
        [
          { worker: victim, attempt: 1, found: 'new' },
          { worker: engine.workerId, attempt: 2, found: 'interrupted' },
        ],
      );
      const expiry = Date.parse(held?.leaseExpiresAt ?? 'NaN');
      const takenOver = resumes[1]?.at ?? Number.NaN;
      assert.ok(expiry - takenOver > leaseHolderLeaseMs / 2, `taken over only ${expiry - takenOver} ms before the dead worker's lease expired`);
      assert.equal((await store.getRun(runId))?.leaseOwner, null);
      t.diagnostic(`taken over ${takenOver - killedAt} ms after the kill, ${Math.round((expiry - takenOver) / 1000)} s before the lease would have expired`);
    });

    test("a live worker's lease is never broken by another process here", async (t: TestContext) => {
      if (skip !== undefined) return t.skip(skip);
      const holder = startHolder(database, 'hold');
      const [owner, runId] = await Promise.all([holder.workerId, holder.runId]);
      try {
        const engine = resumer();
        assert.equal(await engine.reclaimFromDeadLocalWorkers(), 0);
        const settled = await engine.resumeAll();
        assert.ok(!settled.some((result) => result.runId === runId), JSON.stringify(settled));
        const run = await store.getRun(runId);
        assert.deepEqual({ status: run?.status, owner: run?.leaseOwner }, { status: 'running', owner });
      } finally {
        await holder.kill();
      }
      // Now it is dead: its run is taken over, and nothing is left open for the next test.
      const [settled] = await resumer().resumeAll();
      assert.ok(settled !== undefined && 'status' in settled && settled.runId === runId, JSON.stringify(settled));
    });

    test('a lease whose owner is not registered here is left to expire, even one naming this host and a dead pid', async (t: TestContext) => {
      if (skip !== undefined) return t.skip(skip);
      const engine = resumer();
      const runId = await engine.enqueue(heldRunTaskName, null, { principal: 'user:ops', tenant: 'acme' });
      // What a live worker in another container with this hostname could be called.
      const foreign = `${hostname()}/${await deadPid()}/feedfacefeedface`;
      assert.equal((await store.claimRun(runId, { owner: foreign, leaseMs: leaseHolderLeaseMs, statuses: ['queued'] }))?.leaseOwner, foreign);
      await engine.reclaimFromDeadLocalWorkers();
      const settled = await engine.resumeAll();
      assert.ok(!settled.some((result) => result.runId === runId), JSON.stringify(settled));
      const run = await store.getRun(runId);
      assert.deepEqual({ status: run?.status, owner: run?.leaseOwner }, { status: 'queued', owner: foreign });
      await store.breakLease(runId, foreign);
      await engine.resume(runId);
    });

    test('a worker killed after its run ended, before releasing anything, leaves no lease on the run', async (t: TestContext) => {
      if (skip !== undefined) return t.skip(skip);
      const holder = startHolder(database, 'end');
      const runId = await holder.runId;
      await holder.kill();
      const run = await store.getRun(runId);
      assert.deepEqual({ status: run?.status, owner: run?.leaseOwner, expires: run?.leaseExpiresAt }, { status: 'ok', owner: null, expires: null });
    });
  });
}

takeoverSuite('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-takeover-'));
  const database = join(folder, 'keel.db');
  const store = SqliteStore.open({ path: database, durability: 'normal' });
  return {
    database,
    store,
    close: async () => {
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

takeoverSuite('postgres', async () => {
  const found = await openTestPostgres();
  if ('skipReason' in found) return { skip: found.skipReason };
  const schema = uniqueSchemaName('keel_takeover');
  const store = await PostgresStore.open({ url: found.url, schema });
  return {
    database: `${found.url}#${schema}`,
    store,
    close: async () => {
      await store.close();
      await dropSchema(found.url, schema);
    },
  };
});
