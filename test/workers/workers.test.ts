/**
 * The multi-worker guarantee: two worker processes against one PostgreSQL database drain a queue
 * of runs with no run executed twice, and a killed worker's runs are taken over once its lease
 * has expired (Engine.work never breaks a lease; only resumeAll breaks leases, of workers that
 * registered on this machine and died, and these workers do not call it).
 *
 * Every execution of step work is recorded in a ledger (ledger-task.ts) in its own schema, with
 * no deduplication, so a double execution is visible as a second row.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { after, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { loadRun, verifyChain } from '../../src/journal/index.ts';
import type { RunRecordV1 } from '../../src/spec/index.ts';
import { PostgresStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';
import type { EffectRow, ExecutionRow, HoldAt, LedgerInput, LedgerStep } from './ledger-task.ts';
import { idempotentSteps, Ledger, ledgerSteps, ledgerTask, ledgerTaskName, stepOfHold } from './ledger-task.ts';

const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
if (skip !== false) process.stderr.write(`multi-worker tests skipped: ${skip}\n`);
const url = 'url' in database ? database.url : '';

const workerPath = join(import.meta.dirname, 'worker-process.ts');
const who = { principal: 'user:ops', tenant: 'acme' };
const leaseMs = 1500;
/** Journal times come from the workers' clock, lease expiries from the database's (same machine here). */
const clockToleranceMs = 100;

// Everything opened by the tests, closed and dropped at the end whatever happened.
const closers: (() => Promise<void>)[] = [];
const schemas: string[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const close of closers) await close().catch(() => undefined);
  for (const schema of schemas) await dropSchema(url, schema);
});

interface Setup {
  schema: string;
  ledgerSchema: string;
  store: PostgresStore;
  ledger: Ledger;
  /** Only enqueues; the test process never executes a run. */
  enqueuer: Engine;
}

async function setUp(prefix: string): Promise<Setup> {
  const schema = uniqueSchemaName(`keel_workers_${prefix}`);
  const ledgerSchema = uniqueSchemaName(`keel_ledger_${prefix}`);
  schemas.push(schema, ledgerSchema);
  const store = await PostgresStore.open({ url, schema });
  closers.push(() => store.close());
  const ledger = Ledger.open(url, ledgerSchema, 2);
  closers.push(() => ledger.close());
  await ledger.create();
  const enqueuer = new Engine({ store, tasks: [ledgerTask(ledger, { worker: 'enqueuer', holdMs: 0 })] });
  return { schema, ledgerSchema, store, ledger, enqueuer };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface WorkerChild {
  name: string;
  /** The worker id it printed with `ready`. */
  ready: Promise<string>;
  go(): void;
  kill(): void;
  exited: Promise<Exit>;
}

function startWorker(setup: Setup, name: string, holdMs = 0): WorkerChild {
  const environment = { ...process.env };
  // The worker is not a test file; keep it out of this runner's reporting channel.
  delete environment.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [workerPath, url, setup.schema, setup.ledgerSchema, String(leaseMs), name, String(holdMs)], {
    env: environment,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    // 'close' rather than 'exit': the pipes are drained, so stdout and stderr are complete.
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^ready (\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then((exit) => reject(new Error(`worker ${name} exited (code ${exit.code}, signal ${exit.signal}) before ready\n${exit.stderr}`)));
  });
  // Nobody may await `ready` when a test fails early; that rejection is not news then.
  ready.catch(() => undefined);
  return {
    name,
    ready,
    exited,
    go: () => child.stdin.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}

function describeExit(name: string, exit: Exit): string {
  return `worker ${name} ended with code ${exit.code} signal ${exit.signal}\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`;
}

/** "abandoned <n>" from the worker's last line: runs it gave up (e.g. lease-lost). */
function abandonedCount(exit: Exit): number {
  const match = /settled (\d+) abandoned (\d+)/.exec(exit.stdout);
  assert.ok(match !== null, `worker printed no settled line:\n${exit.stdout}\n${exit.stderr}`);
  return Number(match[2]);
}

interface Resume {
  worker: string;
  attempt: number;
  found: 'new' | 'interrupted';
  time: number;
}

/** One run as its journal tells it. */
interface RunHistory {
  runId: string;
  input: LedgerInput;
  status: string;
  endCode: string | undefined;
  endReason: string | undefined;
  resumes: Resume[];
  /** Step name → the worker that committed its step-end (the worker of the run-resume before it). */
  completedBy: Map<string, string>;
  /** Step name → the idempotency key journaled with its step-start. */
  keys: Map<string, string>;
  /** The journaled result of the `effect` step: the id of the effects row it made. */
  effectId: number | undefined;
}

async function readHistory(store: PostgresStore, runId: string): Promise<RunHistory> {
  const verdict = verifyChain(await store.readJournal(runId));
  assert.ok(verdict.ok, `run ${runId}: hash chain does not verify: ${JSON.stringify(verdict)}`);
  const { events, state } = await loadRun(store, runId);
  const history: RunHistory = {
    runId,
    input: state.input as LedgerInput,
    status: state.status,
    endCode: state.end?.error?.code,
    endReason: state.end?.reason,
    resumes: [],
    completedBy: new Map(),
    keys: new Map(),
    effectId: undefined,
  };
  let worker: string | undefined;
  for (const event of events) {
    if (event.type === 'run-resume') {
      worker = event.data.worker;
      history.resumes.push({ worker, attempt: event.data.attempt, found: event.data.found, time: Date.parse(event.time) });
    } else if (event.type === 'step-start') {
      if (event.data.idempotencyKey !== undefined) history.keys.set(event.data.name, event.data.idempotencyKey);
    } else if (event.type === 'step-end') {
      assert.ok(worker !== undefined, `run ${runId}: step-end before any run-resume`);
      assert.ok(!history.completedBy.has(event.data.name), `run ${runId}: step ${event.data.name} ended twice in the journal`);
      history.completedBy.set(event.data.name, worker);
      if (event.data.name === 'effect' && event.data.outcome.ok) history.effectId = event.data.outcome.value as number;
    }
  }
  return history;
}

/** step → worker → executions, for one run. */
type ExecutionCounts = Record<string, Record<string, number>>;

function countExecutions(rows: readonly ExecutionRow[]): Map<string, ExecutionCounts> {
  const byRun = new Map<string, ExecutionCounts>();
  for (const row of rows) {
    const counts = byRun.get(row.runId) ?? {};
    byRun.set(row.runId, counts);
    const perWorker = (counts[row.step] ??= {});
    perWorker[row.worker] = (perWorker[row.worker] ?? 0) + 1;
  }
  return byRun;
}

function effectsByRun(rows: readonly EffectRow[]): Map<string, EffectRow[]> {
  const byRun = new Map<string, EffectRow[]>();
  for (const row of rows) byRun.set(row.runId, [...(byRun.get(row.runId) ?? []), row]);
  return byRun;
}

/** Every execution row must carry the key the journal gave that step (no strays from other runs or epochs). */
function checkExecutionKeys(rows: readonly ExecutionRow[], histories: ReadonlyMap<string, RunHistory>): void {
  for (const row of rows) {
    const history = histories.get(row.runId);
    assert.ok(history !== undefined, `execution row ${row.id} names unknown run ${row.runId}`);
    const key = history.keys.get(row.step);
    // A step in flight at a kill may have no journaled start (idempotent steps journal start and end together).
    if (key !== undefined) assert.equal(row.idempotencyKey, key, `run ${row.runId} step ${row.step}: executed under key ${row.idempotencyKey}, journal says ${key}`);
    else assert.ok(row.idempotencyKey.startsWith(`${row.runId}:`), `run ${row.runId} step ${row.step}: key ${row.idempotencyKey}`);
  }
}

function pad(index: number): string {
  return String(index).padStart(4, '0');
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

test('two workers drain one queue: every run executed exactly once, chains verify, both did a share', { skip, timeout: 60_000 }, async (t: TestContext) => {
  const started = performance.now();
  const setup = await setUp('a');
  const { store, ledger, enqueuer } = setup;
  const total = 120;
  const runIds = await Promise.all(
    Array.from({ length: total }, (_, index) => enqueuer.enqueue(ledgerTaskName, { index, hold: null }, { ...who, runId: `run_a_${pad(index)}` })),
  );

  const workers = [startWorker(setup, 'alpha'), startWorker(setup, 'beta')];
  const ids = await Promise.all(workers.map((worker) => worker.ready));
  // Both are loaded and connected; start them on the same tick.
  for (const worker of workers) worker.go();
  const exits = await Promise.all(workers.map((worker) => worker.exited));
  exits.forEach((exit, index) => assert.equal(exit.code, 0, describeExit(workers[index]?.name ?? '?', exit)));
  const drainedIn = seconds(started);

  const histories = new Map<string, RunHistory>();
  for (const runId of await store.listRunIds()) histories.set(runId, await readHistory(store, runId));
  assert.deepEqual([...histories.keys()].sort(), [...runIds].sort(), 'the store holds exactly the runs enqueued');

  const executions = await ledger.executions();
  const effects = await ledger.effects();
  const executed = countExecutions(executions);
  const effectsOf = effectsByRun(effects);
  const share = new Map<string, number>(ids.map((id) => [id, 0]));

  for (const history of histories.values()) {
    const where = `run ${history.runId}`;
    assert.equal(history.status, 'ok', `${where} ended ${history.status}: ${history.endReason}`);
    assert.equal(history.resumes.length, 1, `${where} was picked up ${history.resumes.length} times: ${JSON.stringify(history.resumes)}`);
    const resume = history.resumes[0];
    assert.ok(resume !== undefined && share.has(resume.worker), `${where} was executed by ${resume?.worker}, not one of ${ids.join(', ')}`);
    assert.equal(resume.found, 'new');
    share.set(resume.worker, (share.get(resume.worker) ?? 0) + 1);

    // Every step exactly once, by the worker that holds the run's only run-resume.
    const expected: ExecutionCounts = Object.fromEntries(ledgerSteps.map((step) => [step, { [resume.worker]: 1 }]));
    assert.deepEqual(executed.get(history.runId), expected, `${where}: executions per step and worker`);
    for (const step of ledgerSteps) assert.equal(history.completedBy.get(step), resume.worker, `${where}: ${step} committed by another worker`);

    // The non-idempotent effect: exactly one row, the one the journal recorded.
    const rows = effectsOf.get(history.runId) ?? [];
    assert.equal(rows.length, 1, `${where} has ${rows.length} effects rows`);
    assert.equal(rows[0]?.id, history.effectId, `${where}: journaled effect ${history.effectId}, ledger row ${rows[0]?.id}`);
    assert.equal(rows[0]?.worker, resume.worker);
    assert.equal(rows[0]?.idempotencyKey, history.keys.get('effect'));
  }
  checkExecutionKeys(executions, histories);
  assert.equal(executions.length, total * ledgerSteps.length, 'executions in all');
  assert.equal(effects.length, total, 'effects in all');

  // Leases were released as runs ended; nothing is left claimed.
  const leased = (await store.listRuns({ limit: 1000 })).filter((run) => run.leaseOwner !== null);
  assert.deepEqual(
    leased.map((run) => `${run.id} ${run.leaseOwner}`),
    [],
    'no run keeps a lease after the workers exit',
  );
  exits.forEach((exit, index) => assert.equal(abandonedCount(exit), 0, `worker ${workers[index]?.name} abandoned runs:\n${exit.stderr}`));

  const counts = ids.map((id) => share.get(id) ?? 0);
  t.diagnostic(`runs ${total}: ${ids.map((id, index) => `${id} ${counts[index]}`).join(', ')}; drained in ${drainedIn} s`);
  t.diagnostic(`executions ${executions.length} (${total} runs × ${ledgerSteps.length} steps), effects ${effects.length}, run-resume events ${total}`);
  for (const [index, id] of ids.entries()) {
    assert.ok((counts[index] ?? 0) >= total * 0.1, `worker ${id} executed only ${counts[index]} of ${total} runs`);
  }
});

test("a SIGKILLed worker's runs are taken over by the other only after its lease expires", { skip, timeout: 60_000 }, async (t: TestContext) => {
  const started = performance.now();
  const setup = await setUp('b');
  const { store, ledger, enqueuer } = setup;
  const total = 40;
  const holdKinds: HoldAt[] = ['prepare', 'effect-before', 'effect-after', 'finish'];
  // Every fifth run pauses at a hold point in the killed worker (which pauses for a minute); the
  // survivor passes through. With concurrency 4 the killed worker ends up sitting in four of them.
  const inputs: LedgerInput[] = Array.from({ length: total }, (_, index) => ({
    index,
    hold: index % 5 === 2 ? (holdKinds[Math.floor(index / 5) % holdKinds.length] ?? null) : null,
  }));
  // One by one, so creation order (the claim order) is the index order.
  const runIds: string[] = [];
  for (const input of inputs) runIds.push(await enqueuer.enqueue(ledgerTaskName, input, { ...who, runId: `run_b_${pad(input.index)}` }));

  const victim = startWorker(setup, 'victim', 60_000);
  const survivor = startWorker(setup, 'survivor');
  const [victimId, survivorId] = await Promise.all([victim.ready, survivor.ready]);
  victim.go();

  // Wait until the victim sits inside four held steps: all its slots are taken, mid-run.
  const deadline = Date.now() + 20_000;
  let holds = await ledger.holds();
  while (holds.length < 4) {
    assert.ok(Date.now() < deadline, `the victim reached only ${holds.length} hold points in 20 s`);
    await sleep(25);
    holds = await ledger.holds();
  }
  const leasedByVictim = async (): Promise<RunRecordV1[]> => (await store.listRuns({ limit: 1000 })).filter((run) => run.leaseOwner === victimId);
  const beforeKill = await leasedByVictim();
  victim.kill();
  const killTime = Date.now();
  // The survivor starts polling at once: it must wait out the victim's leases, not take them early.
  survivor.go();
  const victimExit = await victim.exited;
  assert.equal(victimExit.signal, 'SIGKILL', describeExit('victim', victimExit));
  // The victim can no longer renew: these are its last lease expiries.
  const afterKill = await leasedByVictim();

  const heldIds = holds.map((hold) => hold.runId).sort();
  assert.deepEqual(beforeKill.map((run) => run.id).sort(), heldIds, 'at the kill the victim held exactly the runs it was paused in');
  assert.deepEqual(afterKill.map((run) => run.id).sort(), heldIds, 'after the kill its leases still stand until they expire');
  for (const hold of holds) assert.equal(hold.worker, victimId);
  const expiryBefore = new Map(beforeKill.map((run) => [run.id, Date.parse(run.leaseExpiresAt ?? '')]));
  const expiryFinal = new Map(afterKill.map((run) => [run.id, Date.parse(run.leaseExpiresAt ?? '')]));
  for (const [runId, expiry] of expiryFinal) {
    assert.ok(expiry > killTime - clockToleranceMs, `run ${runId}: the victim's lease had already expired at the kill (${expiry - killTime} ms)`);
    assert.ok(expiry >= (expiryBefore.get(runId) ?? Number.NaN), `run ${runId}: a lease expiry moved backwards`);
  }

  const survivorExit = await survivor.exited;
  assert.equal(survivorExit.code, 0, describeExit('survivor', survivorExit));
  assert.equal(abandonedCount(survivorExit), 0, `the survivor abandoned runs:\n${survivorExit.stderr}`);
  const elapsed = seconds(started);

  const histories = new Map<string, RunHistory>();
  for (const runId of await store.listRunIds()) histories.set(runId, await readHistory(store, runId));
  assert.deepEqual([...histories.keys()].sort(), [...runIds].sort(), 'the store holds exactly the runs enqueued');
  const executions = await ledger.executions();
  const effects = await ledger.effects();
  const executed = countExecutions(executions);
  const effectsOf = effectsByRun(effects);
  checkExecutionKeys(executions, histories);

  const held = new Set(heldIds);
  const tally = { victimDone: 0, survivorDone: 0, ok: 0, escalated: 0, reExecuted: 0 };
  const takeovers: string[] = [];
  let survivorFirstResume = Number.POSITIVE_INFINITY;
  for (const history of histories.values()) {
    const where = `run ${history.runId} (hold ${history.input.hold})`;
    const rows = effectsOf.get(history.runId) ?? [];
    for (const resume of history.resumes) if (resume.worker === survivorId) survivorFirstResume = Math.min(survivorFirstResume, resume.time);

    // Terminal: ok, or escalated because the non-idempotent step's outcome is unknown.
    if (history.status === 'ok') {
      tally.ok += 1;
      assert.equal(rows.length, 1, `${where} ended ok with ${rows.length} effects rows`);
      assert.equal(rows[0]?.id, history.effectId, `${where}: journaled effect ${history.effectId}, ledger row ${rows[0]?.id}`);
      assert.equal(rows[0]?.idempotencyKey, history.keys.get('effect'));
      assert.equal(rows[0]?.worker, history.completedBy.get('effect'), `${where}: the effect row was made by another worker than the one that journaled it`);
    } else {
      tally.escalated += 1;
      assert.equal(history.status, 'escalated', `${where} ended ${history.status}: ${history.endReason}`);
      assert.equal(history.endCode, 'step-outcome-unknown', `${where} escalated for another reason: ${history.endReason}`);
      assert.ok(history.endReason?.includes("'effect'"), `${where} escalated naming another step: ${history.endReason}`);
      assert.ok(held.has(history.runId), `${where} escalated but was never interrupted`);
      assert.ok(rows.length <= 1, `${where}: the non-idempotent effect ran ${rows.length} times`);
    }

    if (!held.has(history.runId)) {
      // Finished by one worker, without interruption: everything exactly once.
      assert.equal(history.resumes.length, 1, `${where} was picked up ${history.resumes.length} times: ${JSON.stringify(history.resumes)}`);
      const worker = history.resumes[0]?.worker ?? '';
      assert.ok(worker === victimId || worker === survivorId, `${where} executed by ${worker}`);
      if (worker === victimId) tally.victimDone += 1;
      else tally.survivorDone += 1;
      assert.equal(history.status, 'ok', `${where} ended ${history.status}`);
      const expected: ExecutionCounts = Object.fromEntries(ledgerSteps.map((step) => [step, { [worker]: 1 }]));
      assert.deepEqual(executed.get(history.runId), expected, `${where}: executions per step and worker`);
      continue;
    }

    // Taken over: the victim's run-resume, then the survivor's, after the victim's lease expired.
    const hold = history.input.hold;
    assert.ok(hold !== null, `${where}: held without a hold point`);
    assert.equal(history.resumes.length, 2, `${where}: ${JSON.stringify(history.resumes)}`);
    const [first, second] = history.resumes;
    assert.deepEqual(first && { worker: first.worker, attempt: first.attempt, found: first.found }, { worker: victimId, attempt: 1, found: 'new' }, where);
    assert.deepEqual(second && { worker: second.worker, attempt: second.attempt, found: second.found }, { worker: survivorId, attempt: 2, found: 'interrupted' }, where);
    const takeover = second?.time ?? Number.NaN;
    const before = expiryBefore.get(history.runId) ?? Number.NaN;
    const final = expiryFinal.get(history.runId) ?? Number.NaN;
    assert.ok(takeover >= killTime, `${where}: taken over ${killTime - takeover} ms before the kill`);
    assert.ok(takeover >= before - clockToleranceMs, `${where}: taken over ${before - takeover} ms before the lease read just before the kill expired`);
    assert.ok(takeover >= final - clockToleranceMs, `${where}: taken over ${final - takeover} ms before the victim's last lease expired`);
    takeovers.push(`${hold}: lease left at kill ${final - killTime} ms, taken over ${takeover - final} ms after expiry (${takeover - killTime} ms after the kill), ${history.status}`);

    // Executions, precisely: steps before the hold by the victim once; the held step by the victim
    // once and, only if idempotent, once more by the survivor; later steps by the survivor once.
    const heldStep: LedgerStep = stepOfHold(hold);
    const heldIndex = ledgerSteps.indexOf(heldStep);
    const expected: ExecutionCounts = {};
    ledgerSteps.forEach((step, index) => {
      if (index < heldIndex) expected[step] = { [victimId]: 1 };
      else if (index === heldIndex) expected[step] = idempotentSteps.has(step) ? { [victimId]: 1, [survivorId]: 1 } : { [victimId]: 1 };
      else if (history.status === 'ok') expected[step] = { [survivorId]: 1 };
    });
    assert.deepEqual(executed.get(history.runId), expected, `${where}: executions per step and worker`);
    if (idempotentSteps.has(heldStep)) tally.reExecuted += 1;
    ledgerSteps.forEach((step, index) => {
      const by = index < heldIndex ? victimId : history.status === 'ok' ? survivorId : undefined;
      assert.equal(history.completedBy.get(step), by, `${where}: step ${step} committed by ${history.completedBy.get(step)}`);
    });

    // What each hold point must lead to.
    const expectedOutcome: Record<HoldAt, { status: string; effects: string[] }> = {
      prepare: { status: 'ok', effects: [survivorId] },
      'effect-before': { status: 'escalated', effects: [] },
      'effect-after': { status: 'escalated', effects: [victimId] },
      finish: { status: 'ok', effects: [victimId] },
    };
    assert.deepEqual({ status: history.status, effects: rows.map((row) => row.worker) }, expectedOutcome[hold], where);
    if (hold === 'effect-after') assert.equal(rows[0]?.idempotencyKey, history.keys.get('effect'), `${where}: effect row key`);
  }

  // The non-idempotent step ran at most once per run, in all.
  for (const [runId, counts] of executed) {
    const times = Object.values(counts.effect ?? {}).reduce((sum, n) => sum + n, 0);
    assert.ok(times <= 1, `run ${runId}: the non-idempotent effect step executed ${times} times`);
  }
  assert.equal(held.size, 4, 'the victim was killed holding four runs');
  assert.equal(takeovers.length, held.size, 'every held run was taken over');
  assert.equal(tally.victimDone + tally.survivorDone + held.size, total);
  assert.ok(tally.victimDone > 0, 'the victim finished some runs before it was killed');
  // The survivor was working while the victim's leases were still live, and left them alone.
  const firstExpiry = Math.min(...expiryFinal.values());
  assert.ok(survivorFirstResume < firstExpiry, `the survivor's first run started ${survivorFirstResume - firstExpiry} ms after the first lease expiry`);

  t.diagnostic(
    `runs ${total}: victim finished ${tally.victimDone} before the kill, survivor ${tally.survivorDone} + ${held.size} taken over; ` +
      `ok ${tally.ok}, escalated ${tally.escalated} (step-outcome-unknown); idempotent steps re-run after takeover ${tally.reExecuted}`,
  );
  t.diagnostic(`survivor's first run started ${survivorFirstResume - killTime} ms after the kill, ${firstExpiry - survivorFirstResume} ms before the first lease expiry`);
  for (const line of takeovers.sort()) t.diagnostic(`takeover ${line}`);
  t.diagnostic(`executions ${executions.length}, effects ${effects.length}; ${elapsed} s`);
});
