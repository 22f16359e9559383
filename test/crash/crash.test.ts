/**
 * The crash test: a child process executes payout runs with real side effects on a separate
 * "bank" database, is killed with SIGKILL at random points many times and restarted each time.
 * Afterwards every run must be terminal, its hash chain must verify, and the bank must hold
 * exactly the effects the journal says were committed: none doubled, none lost.
 *
 * Reproduce a failure with the seed it prints: CRASH_SEED=<seed> node --test test/crash/crash.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import type { StepRecord } from '../../src/journal/index.ts';
import { loadRun, verifyChain } from '../../src/journal/index.ts';
import type { SqliteDurability } from '../../src/store/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import type { Effect, PayoutInput } from './payout-task.ts';
import { Bank, payoutStepNames, payoutTask } from './payout-task.ts';

const workerPath = join(import.meta.dirname, 'crash-worker.ts');
const who = { principal: 'user:finance-bot', tenant: 'acme' };

/** mulberry32: a small seeded PRNG, so a failing schedule of kills can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFor(offset: number): number {
  const fromEnvironment = process.env.CRASH_SEED;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return (Number(fromEnvironment) + offset) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether the child had printed `ready` (its stores were open) when it was killed or exited. */
  ready: boolean;
  stderr: string;
}

interface Kill {
  afterMs: number;
  /** Count from the spawn (the kill may land while Node loads and the stores open) or from `ready`. */
  from: 'spawn' | 'ready';
}

/** Runs the worker; kills it with SIGKILL as `kill` says, or lets it finish when `kill` is undefined. */
function runChild(journal: string, bank: string, durability: SqliteDurability, kill?: Kill): Promise<ChildResult> {
  const environment = { ...process.env };
  // The worker is not a test file; keep it out of this runner's reporting channel.
  delete environment.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [workerPath, journal, bank, durability], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let ready = false;
  let readyWhenKilled = false;
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (kill === undefined) return;
    timer = setTimeout(() => {
      readyWhenKilled = ready;
      child.kill('SIGKILL');
    }, kill.afterMs);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (ready || !chunk.includes('ready')) return;
    ready = true;
    if (kill?.from === 'ready') arm();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (kill?.from === 'spawn') arm();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close' rather than 'exit': the pipes are drained, so `ready` and stderr are complete.
    child.once('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, signal, ready: signal === 'SIGKILL' ? readyWhenKilled : ready, stderr });
    });
  });
}

function invoice(index: number): PayoutInput {
  return { invoiceId: `inv-${String(index).padStart(5, '0')}`, customer: `cust-${index % 13}`, amountCents: 1_000 + ((index * 7_919) % 90_000) };
}

interface CrashOptions {
  durability: SqliteDurability;
  seed: number;
  /** Runs enqueued before the first child; the queue is topped up again whenever it runs low. */
  initialRuns: number;
  lowWater: number;
  topUp: number;
  minKills: number;
  /** Kills that must land after the child opened its stores, i.e. while it was executing runs. */
  minWorkKills: number;
  /** Share of kills timed from the spawn rather than from `ready` (Node's start-up takes 150–450 ms here). */
  fromSpawn: number;
  maxChildren: number;
}

async function crashAndVerify(t: TestContext, options: CrashOptions): Promise<void> {
  const started = performance.now();
  const random = prng(options.seed);
  t.diagnostic(`seed ${options.seed} (durability ${options.durability}); replay with CRASH_SEED=${options.seed}`);
  const folder = mkdtempSync(join(tmpdir(), 'keel-crash-'));
  const journalPath = join(folder, 'keel.db');
  const bankPath = join(folder, 'bank.db');
  const store = SqliteStore.open({ path: journalPath, durability: options.durability });
  const bank = Bank.open(bankPath);
  t.after(async () => {
    await store.close();
    bank.close();
    rmSync(folder, { recursive: true, force: true });
  });
  // The test process only enqueues; it never executes a run (the child does).
  const enqueuer = new Engine({ store, tasks: [payoutTask(bank)] });
  let enqueued = 0;
  const enqueue = async (count: number) => {
    const batch = Array.from({ length: count }, () => invoice((enqueued += 1)));
    await Promise.all(batch.map((input) => enqueuer.enqueue('payout', input, who)));
  };
  const pending = async () => (await store.listRuns({ statuses: ['queued', 'running'], limit: 100_000 })).length;
  await enqueue(options.initialRuns);

  const kills = { total: 0, duringStartup: 0, duringWork: 0, exitedFirst: 0, children: 0 };
  while (kills.total < options.minKills || kills.duringWork < options.minWorkKills) {
    assert.ok(
      kills.children < options.maxChildren,
      `gave up after ${kills.children} children with ${kills.total} kills (${kills.duringWork} during work); seed ${options.seed}`,
    );
    if ((await pending()) < options.lowWater) await enqueue(options.topUp);
    const kill: Kill = { afterMs: 40 + Math.floor(random() * 361), from: random() < options.fromSpawn ? 'spawn' : 'ready' };
    const child = await runChild(journalPath, bankPath, options.durability, kill);
    kills.children += 1;
    if (child.signal === 'SIGKILL') {
      kills.total += 1;
      if (child.ready) kills.duringWork += 1;
      else kills.duringStartup += 1;
    } else {
      // It finished before the kill: fine, as long as it finished cleanly.
      assert.equal(child.code, 0, `worker exited by itself with code ${child.code} signal ${child.signal}; seed ${options.seed}\n${child.stderr}`);
      kills.exitedFirst += 1;
    }
  }

  // Recovery: let a child run to completion, until nothing is left to do.
  let recoveries = 0;
  while ((await pending()) > 0) {
    assert.ok(recoveries < 5, `runs still pending after ${recoveries} uninterrupted workers; seed ${options.seed}`);
    const child = await runChild(journalPath, bankPath, options.durability);
    recoveries += 1;
    assert.equal(child.code, 0, `recovery worker failed with code ${child.code} signal ${child.signal}; seed ${options.seed}\n${child.stderr}`);
  }

  const counts = await verify(store, bank, enqueued, options.seed);
  const retried = { reserve: bank.deduplicated('reserve'), transfer: bank.deduplicated('transfer') };
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `kills ${kills.total} (${kills.duringWork} while executing runs, ${kills.duringStartup} during start-up), ` +
      `${kills.exitedFirst} children finished before their kill, ${recoveries} recovery run(s), ${seconds} s`,
  );
  t.diagnostic(
    `runs ${counts.runs}: ok ${counts.ok}, escalated ${counts.escalated} (step-outcome-unknown at notify-customer; ` +
      `${counts.escalatedNotified} of them had notified, ${counts.escalated - counts.escalatedNotified} had not)`,
  );
  t.diagnostic(
    `effects: reserve ${counts.effects.reserve}, transfer ${counts.effects.transfer}, notify ${counts.effects.notify}; ` +
      `retries after a crash that the bank deduplicated: reserve ${retried.reserve}, transfer ${retried.transfer}`,
  );
  assert.ok(kills.total >= options.minKills, `only ${kills.total} kills landed; seed ${options.seed}`);
}

interface Counts {
  runs: number;
  ok: number;
  escalated: number;
  escalatedNotified: number;
  effects: Record<Effect['kind'], number>;
}

/** Reads the journal back and holds the bank to it. */
async function verify(store: SqliteStore, bank: Bank, enqueued: number, seed: number): Promise<Counts> {
  const where = (runId: string) => `run ${runId} (seed ${seed})`;
  const runIds = await store.listRunIds();
  assert.equal(runIds.length, enqueued, `the journal holds ${runIds.length} runs but ${enqueued} were enqueued; seed ${seed}`);

  const effects = bank.effects();
  const rowsByKey = new Map<string, Effect[]>();
  for (const effect of effects) {
    const key = `${effect.kind} ${effect.idempotencyKey}`;
    rowsByKey.set(key, [...(rowsByKey.get(key) ?? []), effect]);
  }
  const rowsOf = (kind: Effect['kind'], idempotencyKey: string) => rowsByKey.get(`${kind} ${idempotencyKey}`) ?? [];

  const counts: Counts = { runs: runIds.length, ok: 0, escalated: 0, escalatedNotified: 0, effects: { reserve: 0, transfer: 0, notify: 0 } };
  /** Keys of steps the journal recorded as completed, per effect kind. */
  const committed: Record<Effect['kind'], Set<string>> = { reserve: new Set(), transfer: new Set(), notify: new Set() };
  /** Keys of notify steps that started but whose outcome is unknown (their runs escalated). */
  const unknownNotify = new Set<string>();

  for (const runId of runIds) {
    const verdict = verifyChain(await store.readJournal(runId));
    assert.ok(verdict.ok, `${where(runId)}: hash chain does not verify: ${JSON.stringify(verdict)}`);
    const { state } = await loadRun(store, runId);
    assert.ok(state.status === 'ok' || state.status === 'escalated', `${where(runId)} ended ${state.status}: ${state.end?.reason ?? 'no run-end'}`);
    const steps = [...state.steps.values()];
    const stepNamed = (name: string): StepRecord | undefined => steps.find((step) => step.name === name);

    for (const kind of ['reserve', 'transfer', 'notify'] as const) {
      const step = stepNamed(payoutStepNames[kind]);
      if (step?.end?.outcome.ok !== true) continue;
      const key = step.idempotencyKey;
      assert.ok(key !== undefined && key.startsWith(`${runId}:`), `${where(runId)}: ${step.name} has idempotency key ${key}`);
      committed[kind].add(key);
      // The journaled result is the bank's record id: the effect the run believes in must exist.
      const rows = rowsOf(kind, key);
      assert.equal(rows.length, 1, `${where(runId)}: ${step.name} committed under ${key} but the bank has ${rows.length} ${kind} rows for it`);
      assert.equal(rows[0]?.id, step.end.outcome.value, `${where(runId)}: ${step.name} journaled record ${JSON.stringify(step.end.outcome.value)}, bank has ${rows[0]?.id}`);
      assert.equal(rows[0]?.runId, runId, `${where(runId)}: ${kind} row ${rows[0]?.id} names run ${rows[0]?.runId}`);
    }

    if (state.status === 'ok') {
      counts.ok += 1;
      for (const kind of ['reserve', 'transfer', 'notify'] as const) {
        assert.equal(stepNamed(payoutStepNames[kind])?.end?.outcome.ok, true, `${where(runId)} ended ok without a completed ${payoutStepNames[kind]}`);
      }
    } else {
      counts.escalated += 1;
      // Only notify-customer is not idempotent, so it is the only step whose outcome can be unknown.
      const notify = stepNamed(payoutStepNames.notify);
      assert.equal(state.end?.error?.code, 'step-outcome-unknown', `${where(runId)} escalated for another reason: ${state.end?.reason}`);
      assert.ok(state.end?.reason?.includes(`'${payoutStepNames.notify}'`), `${where(runId)} escalated naming another step: ${state.end?.reason}`);
      assert.ok(notify !== undefined && notify.end === undefined && notify.idempotencyKey !== undefined, `${where(runId)} escalated but notify-customer is ${JSON.stringify(notify)}`);
      assert.equal(stepNamed(payoutStepNames.transfer)?.end?.outcome.ok, true, `${where(runId)} reached notify-customer without a completed transfer`);
      unknownNotify.add(notify.idempotencyKey);
      const rows = rowsOf('notify', notify.idempotencyKey);
      assert.ok(rows.length <= 1, `${where(runId)}: notified ${rows.length} times under ${notify.idempotencyKey}`);
      if (rows.length === 1) counts.escalatedNotified += 1;
    }
  }

  // Idempotent effects: exactly one row per committed step, and nothing else.
  for (const kind of ['reserve', 'transfer'] as const) {
    const rows = effects.filter((effect) => effect.kind === kind);
    counts.effects[kind] = rows.length;
    assert.equal(rows.length, committed[kind].size, `${kind}: ${rows.length} rows in the bank, ${committed[kind].size} runs committed one; seed ${seed}`);
    const keys = new Set<string>();
    for (const row of rows) {
      assert.ok(!keys.has(row.idempotencyKey), `${kind} under ${row.idempotencyKey} was executed twice; seed ${seed}`);
      keys.add(row.idempotencyKey);
      assert.ok(committed[kind].has(row.idempotencyKey), `${kind} row ${row.id} (${row.idempotencyKey}) belongs to no run that committed it; seed ${seed}`);
    }
  }

  // The non-idempotent effect: once per ok run, at most once per run whose outcome is unknown.
  const notifications = effects.filter((effect) => effect.kind === 'notify');
  counts.effects.notify = notifications.length;
  const perRun = new Map<string, number>();
  for (const row of notifications) {
    perRun.set(row.runId, (perRun.get(row.runId) ?? 0) + 1);
    assert.ok(
      committed.notify.has(row.idempotencyKey) || unknownNotify.has(row.idempotencyKey),
      `notify row ${row.id} (${row.idempotencyKey}) belongs to no run that committed or escalated it; seed ${seed}`,
    );
    assert.ok(row.idempotencyKey.startsWith(`${row.runId}:`), `notify row ${row.id} mixes run ${row.runId} with key ${row.idempotencyKey}`);
  }
  for (const [runId, times] of perRun) assert.ok(times <= 1, `${where(runId)} notified the customer ${times} times`);
  assert.equal(committed.notify.size, counts.ok, `every ok run committed exactly one notification; seed ${seed}`);
  assert.ok(
    notifications.length <= committed.notify.size + unknownNotify.size,
    `${notifications.length} notifications for ${committed.notify.size} committed + ${unknownNotify.size} unknown; seed ${seed}`,
  );
  assert.equal(notifications.length, counts.ok + counts.escalatedNotified, `notify rows match ok runs plus escalated runs that had notified; seed ${seed}`);
  return counts;
}

test('SIGKILLed workers resume every run: all terminal, chains verify, no effect doubled or lost', { timeout: 90_000 }, async (t) => {
  await crashAndVerify(t, {
    durability: 'full',
    seed: seedFor(0),
    initialRuns: 40,
    lowWater: 30,
    topUp: 30,
    minKills: 60,
    minWorkKills: 40,
    fromSpawn: 0.2,
    maxChildren: 150,
  });
});

test('the same holds with the journal at durability normal', { timeout: 60_000 }, async (t) => {
  await crashAndVerify(t, {
    durability: 'normal',
    seed: seedFor(1),
    initialRuns: 30,
    lowWater: 30,
    topUp: 30,
    minKills: 12,
    minWorkKills: 8,
    fromSpawn: 0.2,
    maxChildren: 60,
  });
});
