import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { JournalEvent } from '../journal/index.ts';
import { genesisHash, loadRun, sealEvent, toRecord } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import { defineTask, Engine } from './index.ts';
import { workingTimeMs } from './run-deadline.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-deadline-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const who = { principal: 'user:ada', tenant: 'acme' };
const deadlineMs = 2_000;

/** Works a little, waits for a lead's sign-off, then works again: each step checks the deadline. */
const signOff = defineTask({
  name: 'deadline-sign-off',
  version: '1',
  deadlineMs,
  run: async (context) => {
    await context.step('prepare', () => 'prepared', { idempotent: true });
    await context.approval('sign-off', { reason: 'a lead signs off' });
    return context.step('finish', (info) => (info.signal.aborted ? 'cut short' : 'done'), { idempotent: true });
  },
});

const engine = new Engine({ store, tasks: [signOff], leaseMs: 5_000 });

/**
 * A copy of a run's journal, as if it had happened `shiftMs(event)` earlier: how a test says
 * "the person took ten seconds to decide" without waiting ten seconds. The copy is a new run
 * with a valid hash chain, parked where the original was.
 */
async function recordedEarlier(runId: string, shiftMs: (event: JournalEvent) => number): Promise<string> {
  const { events, state } = await loadRun(store, runId);
  const copyId = `${runId}-earlier`;
  let prevHash = genesisHash;
  const copied = events.map((event) => {
    const data = event.type === 'approval-request' ? { ...event.data, id: `${copyId}:${event.data.step}` } : event.data;
    const sealed = sealEvent({ runId: copyId, seq: event.seq, prevHash }, event.type, data as never, new Date(Date.parse(event.time) - shiftMs(event)));
    prevHash = sealed.hash;
    return sealed;
  });
  const [first, ...rest] = copied;
  if (first === undefined) throw new Error(`run ${runId} has no events`);
  await store.createRun({ run: { id: copyId, task: state.task, taskVersion: state.taskVersion, principal: state.principal, tenant: state.tenant, status: 'queued' }, first: toRecord(first) });
  await store.append({ runId: copyId, records: rest.map(toRecord), summary: { status: state.status } });
  return copyId;
}

async function parkedRun(): Promise<string> {
  const parked = await engine.start(signOff.name, null, who);
  assert.equal(parked.status, 'waiting');
  return parked.runId;
}

/** How long the journal says the run waited between the approval request and the decision. */
async function recordedWaitMs(runId: string): Promise<number> {
  const { events } = await loadRun(store, runId);
  const asked = events.find((event) => event.type === 'approval-request');
  const decided = events.find((event) => event.type === 'human-decision');
  return Date.parse(decided?.time ?? '') - Date.parse(asked?.time ?? '');
}

describe('a run deadline counts working time, not time spent waiting for a person', () => {
  test('a decision that arrives long after the deadline lets the run finish ok', async () => {
    // The whole run so far happened ten seconds ago: the lead took ten seconds to decide.
    const runId = await recordedEarlier(await parkedRun(), () => 10_000);
    const outcome = await engine.decide(runId, { decision: 'approve', decider: 'user:lead' });
    assert.ok('status' in outcome);
    assert.equal(outcome.status, 'ok', outcome.reason ?? '');
    assert.equal(outcome.output, 'done');
    assert.ok((await recordedWaitMs(runId)) > deadlineMs * 4, 'the recorded wait is far longer than the deadline');
  });

  test('a run that really overran its working time before the wait still fails deadline-exceeded', async () => {
    // Three seconds of work before the sign-off was asked for (its events 13 s ago, the request 10 s ago).
    const runId = await recordedEarlier(await parkedRun(), (event) => (event.type === 'approval-request' || (event.type === 'step-start' && event.data.kind === 'approval') ? 10_000 : 13_000));
    const outcome = await engine.decide(runId, { decision: 'approve', decider: 'user:lead' });
    assert.ok('status' in outcome);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'deadline-exceeded');
    assert.match(outcome.reason ?? '', /deadline of 2000 ms exceeded/);
  });

  test('a run that overruns while it works fails deadline-exceeded when the limit passes', async () => {
    const slow = defineTask({
      name: 'deadline-overrun',
      version: '1',
      deadlineMs: 100,
      run: (context) =>
        context.step(
          'never-answers',
          // Ends only when the deadline aborts the step's signal.
          (info) => new Promise<string>((_resolve, reject) => info.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
          { idempotent: true },
        ),
    });
    const outcome = await new Engine({ store, tasks: [slow], leaseMs: 5_000 }).start(slow.name, null, who);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'deadline-exceeded');
    assert.match(outcome.reason ?? '', /deadline of 100 ms exceeded/);
  });

  test('a run parked for a person leaves no deadline timer behind', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timeouts();
    await parkedRun();
    assert.equal(timeouts(), before);
  });
});

describe('workingTimeMs', () => {
  function journal(entries: [type: 'run-start' | 'approval-request' | 'human-decision', atMs: number][]): JournalEvent[] {
    let prevHash = genesisHash;
    return entries.map(([type, atMs], index) => {
      const position = { runId: 'run_working_time', seq: index + 1, prevHash };
      const time = new Date(atMs);
      const event =
        type === 'run-start'
          ? sealEvent(position, type, { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: '', config: null }, time)
          : type === 'approval-request'
            ? sealEvent(position, type, { step: index, id: `run_working_time:${index}`, reason: 'sign-off', details: null }, time)
            : sealEvent(position, type, { decision: 'approve', decider: 'user:lead', step: index - 1 }, time);
      prevHash = event.hash;
      return event;
    });
  }

  test('subtracts every wait from request to decision, and a wait still open up to now', () => {
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const decided = journal([
      ['run-start', start],
      ['approval-request', start + 1_000],
      ['human-decision', start + 61_000],
    ]);
    assert.equal(workingTimeMs(decided, start + 62_500), 2_500);
    const open = journal([
      ['run-start', start],
      ['approval-request', start + 1_000],
    ]);
    assert.equal(workingTimeMs(open, start + 90_000), 1_000);
  });
});
