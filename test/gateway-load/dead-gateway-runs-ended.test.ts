/**
 * With no gateway running any more, `keel worker` and `keel resume` end the runs of a `keel serve`
 * SIGKILLed mid-stream, as the next `keel serve` would (gateway-process-died.test.ts): `failed`,
 * gateway-process-died, its call in flight billed its reservation, and the budget book settled at
 * that amount at once, so the journal's cost equals the scope's spend with nothing left reserved.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';
import { keel } from '../cli-hygiene/keel-process.ts';
import type { KeelChild } from './keel-child.ts';
import { journalOnceItHolds, listeningURL, readUntil, startKeel, startStreamedChat } from './keel-child.ts';
import { UsageUpstream } from './usage-upstream.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-dead-gateway-runs-'));
const configPath = join(folder, 'keel.config.json');
const price = { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 };
writeFileSync(
  configPath,
  JSON.stringify({ version: 1, routes: [], prices: { version: 'dead-gateway-test', models: { 'openai-compatible:gpt-4o-mini': price } }, budgets: [{ scope: 'tenant', micros: 1_000_000_000 }] }),
);
let upstream: UsageUpstream;
before(async () => {
  upstream = await UsageUpstream.start();
  // Every stream holds after its first words, as a model thinking would, until the test ends.
  upstream.holdAfterChunks = 1;
});
after(async () => {
  await upstream.close();
  rmSync(folder, { recursive: true, force: true });
});

function start(args: string[]): KeelChild {
  return startKeel(args, { OPENAI_API_KEY: 'upstream-key', OPENAI_BASE_URL: upstream.baseURL });
}

/**
 * Starts `keel serve` on `database`, streams a request until its first words arrive and its
 * reservation is journaled, then SIGKILLs the process; returns the run it left `running`.
 */
async function runLeftByKilledGateway(database: string): Promise<{ runId: string; reservedMicros: number; reservedTokens: number }> {
  const served = start(['serve', '--port', '0', '--db', database, '--config', configPath]);
  try {
    const url = await listeningURL(served);
    const { response, runId } = await startStreamedChat(url, 'case 3');
    const reader = await readUntil(response, 'w0');
    const decision = await reservationOnceJournaled(database, runId);
    served.child.kill('SIGKILL');
    assert.equal((await served.exited).signal, 'SIGKILL');
    await reader.cancel().catch(() => undefined);
    const store = await openStore({ database, create: false, readOnly: true, environment: {} });
    try {
      assert.equal((await store.getRun(runId))?.status, 'running', 'the dead process left its run running');
    } finally {
      await store.close();
    }
    return { runId, ...decision };
  } finally {
    if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill('SIGKILL');
  }
}

/** The run's reservation, once its budget decision is in the journal. */
async function reservationOnceJournaled(database: string, runId: string): Promise<{ reservedMicros: number; reservedTokens: number }> {
  const events = await journalOnceItHolds(database, runId, (journal) => journal.some((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved'));
  const decision = events.find((event) => event.type === 'budget-decision');
  assert.ok(decision?.type === 'budget-decision');
  return { reservedMicros: decision.data.reservedMicros, reservedTokens: decision.data.reservedTokens };
}

/** The run ended by a dead gateway's ending: failed, billed its reservation, the book settled at that amount with nothing reserved. */
async function assertEndedAndSettled(database: string, left: { runId: string; reservedMicros: number; reservedTokens: number }): Promise<void> {
  const store = await openStore({ database, create: false, readOnly: true, environment: {} });
  try {
    const run = await store.getRun(left.runId);
    assert.equal(run?.status, 'failed');
    assert.match(run.reason ?? '', /^gateway-process-died: its gateway process \(worker \S+\) is gone, .*; its call in flight is billed its reservation \(\d+ micro-USD\)$/);
    const { events } = await loadRun(store, left.runId);
    const stepEnd = events.find((event) => event.type === 'step-end');
    assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
    assert.deepEqual(stepEnd.data.cost, { micros: left.reservedMicros, priceVersion: 'dead-gateway-test' });
    assert.equal(events.at(-1)?.type, 'run-end');
    const account = await store.budgets?.readBudget(`tenant:${run.tenant}`);
    assert.deepEqual(
      account && { journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros, spentTokens: account.spent.tokens, reservedTokens: account.reserved.tokens },
      { journal: left.reservedMicros, spent: left.reservedMicros, reserved: 0, spentTokens: left.reservedTokens, reservedTokens: 0 },
    );
  } finally {
    await store.close();
  }
}

test('keel worker ends the run of a SIGKILLed keel serve before it starts serving, and settles its reservation in the book', { timeout: 120_000 }, async () => {
  const database = join(folder, 'worker.db');
  const left = await runLeftByKilledGateway(database);
  const worker = start(['worker', '--db', database, '--config', configPath]);
  try {
    // Ended at start, before it says it serves: nothing is left for the lease's expiry.
    await worker.said(/serving tasks/);
    assert.match(worker.output(), new RegExp(`failed\\s+${left.runId}\\s+gateway:openai:gpt-4o-mini\\s+gateway-process-died: `));
    await assertEndedAndSettled(database, left);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());
  } finally {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  }
});

test('keel resume ends the run of a SIGKILLed keel serve, says so, and settles its reservation in the book', { timeout: 120_000 }, async () => {
  const database = join(folder, 'resume.db');
  const left = await runLeftByKilledGateway(database);
  const resumed = await keel(['resume', '--db', database, '--config', configPath], { cwd: folder, env: { OPENAI_API_KEY: 'upstream-key', OPENAI_BASE_URL: upstream.baseURL } });
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stdout, new RegExp(`failed\\s+${left.runId}\\s+gateway-process-died: `));
  await assertEndedAndSettled(database, left);
});

test('keel stop of the run of a SIGKILLed keel serve ends its call in flight billed its reservation, and the book agrees', { timeout: 120_000 }, async () => {
  const database = join(folder, 'stop.db');
  const left = await runLeftByKilledGateway(database);
  const stopped = await keel(['stop', left.runId, '--db', database, '--reason', 'its gateway is gone'], { cwd: folder });
  assert.equal(stopped.code, 0, `${stopped.stdout}\n${stopped.stderr}`);
  const store = await openStore({ database, create: false, readOnly: true, environment: {} });
  try {
    const run = await store.getRun(left.runId);
    assert.equal(run?.status, 'failed');
    assert.match(run.reason ?? '', /^stopped by .*: its gateway is gone$/);
    const { events } = await loadRun(store, left.runId);
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ['step-end', 'human-decision', 'run-end'],
      'the call in flight ends before the stop',
    );
    const stepEnd = events.at(-3);
    assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
    // keel stop reads no price table: the cost is labelled as the book's figure.
    assert.equal(stepEnd.data.cost?.micros, left.reservedMicros);
    const account = await store.budgets?.readBudget(`tenant:${run.tenant}`);
    assert.deepEqual(
      account && { journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros },
      { journal: left.reservedMicros, spent: left.reservedMicros, reserved: 0 },
    );
  } finally {
    await store.close();
  }
});
