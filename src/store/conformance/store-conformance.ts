/**
 * The conformance suite every StoreV1 adapter passes. It checks the contract in
 * src/spec/store-v1.ts: atomic, contiguous, durable appends; lease fencing; exclusive claims.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JournalWriter, genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import type { JournalRecordV1, JsonValue, MemoryScopeV1, NewMemoryEntryV1, NewRunV1, RunQueryV1, RunRecordV1, SpendQueryV1, SpendRowV1, StoreV1 } from '../../spec/index.ts';

export interface StoreUnderTest {
  store: StoreV1;
  /** Closes the store and opens the same database again. */
  reopen: () => Promise<StoreV1>;
  /** Closes the store and removes its data. */
  dispose: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

const zeroHash = '0'.repeat(64);

// Stores never interpret hashes; any stable 64-hex string stands in for the journal's.
function fakeHash(runId: string, seq: number): string {
  return createHash('sha256').update(`${runId}:${seq}`).digest('hex');
}

// A strictly increasing clock, so creation order is unambiguous even within one millisecond.
let clock = Date.now();

function record(runId: string, seq: number, type: string, data: JsonValue = {}): JournalRecordV1 {
  clock += 1;
  return {
    runId,
    seq,
    time: new Date(clock).toISOString(),
    type,
    schemaVersion: 1,
    prevHash: seq === 1 ? zeroHash : fakeHash(runId, seq - 1),
    hash: fakeHash(runId, seq),
    data,
  };
}

function newRun(overrides: Partial<NewRunV1['run']> = {}, lease?: NewRunV1['lease']): NewRunV1 {
  const id = overrides.id ?? `run-${randomUUID()}`;
  const value: NewRunV1 = {
    run: { id, task: 'conformance', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: 'queued', ...overrides },
    first: record(id, 1, 'run-start', { task: 'conformance' }),
  };
  if (lease !== undefined) value.lease = lease;
  return value;
}

function memoryEntry(scope: MemoryScopeV1, text: string, overrides: Partial<NewMemoryEntryV1> = {}): NewMemoryEntryV1 {
  clock += 1;
  return {
    scope,
    role: 'user',
    text,
    labels: { classification: 'internal' },
    createdAt: new Date(clock).toISOString(),
    source: { runId: 'run-memory', step: 3 },
    contentHash: createHash('sha256').update(text).digest('hex'),
    ...overrides,
  };
}

function sessionScope(tenant = 'acme'): MemoryScopeV1 {
  return { kind: 'session', tenant, sessionId: `session-${randomUUID()}` };
}

/** A run for the spend summary, created at `createdAt` (its run-start's time, which becomes the run's created_at). */
interface SpendRun {
  tenant: string;
  principal: string;
  task: string;
  createdAt: string;
  tags?: Record<string, string>;
  /** What its model calls spent; absent: the run is still running and has appended nothing. */
  spent?: { costMicros: number; inputTokens: number; outputTokens: number };
}

/**
 * Creates the run, then appends as an executing run does, through the journal writer: a model
 * step whose summary carries the run's totals, then its end. The run ends so its totals are in
 * its row in full: a running run's totals may lag its journal (StoreV1.summarizeSpend).
 */
async function createSpendRun(store: StoreV1, run: SpendRun): Promise<void> {
  const runId = `run-${randomUUID()}`;
  const tags = run.tags === undefined ? {} : { tags: run.tags };
  const start = { task: run.task, taskVersion: '1', input: null, principal: run.principal, tenant: run.tenant, configHash: 'c', config: null, ...tags };
  const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', start, new Date(run.createdAt));
  await store.createRun({ run: { id: runId, task: run.task, taskVersion: '1', principal: run.principal, tenant: run.tenant, status: 'running', ...tags }, first: toRecord(first) });
  if (run.spent === undefined) return;
  const { costMicros, inputTokens, outputTokens } = run.spent;
  const writer = new JournalWriter({ store, runId, lastSeq: 1, lastHash: first.hash });
  await writer.commit(
    [
      writer.build('step-start', { step: 1, name: 'turn-1', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }),
      writer.build('step-end', { step: 1, name: 'turn-1', kind: 'model-call', epoch: 0, durationMs: 5, outcome: { ok: true, value: 'done' }, usage: { inputTokens, outputTokens }, cost: { micros: costMicros, priceVersion: 'v1' } }),
    ],
    { status: 'running', stepCount: 1, costMicros, inputTokens, outputTokens },
  );
  await writer.commit([writer.build('run-end', { status: 'ok' })], { status: 'ok' });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

export function runStoreConformance(label: string, factory: StoreFactory | { skip: string }): void {
  describe(`store conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;
    let subject: StoreUnderTest;
    let store: StoreV1;
    before(async () => {
      subject = await factory();
      store = subject.store;
    });
    after(async () => {
      await subject.dispose();
    });

    test('creates a run with its first record and reads both back', async () => {
      const created = newRun({ principal: 'service:billing', tenant: 'globex' });
      await store.createRun(created);
      const run = await store.getRun(created.run.id);
      assert.ok(run);
      assert.equal(run.task, 'conformance');
      assert.equal(run.principal, 'service:billing');
      assert.equal(run.tenant, 'globex');
      assert.equal(run.status, 'queued');
      assert.equal(run.lastSeq, 1);
      assert.equal(run.lastHash, created.first.hash);
      assert.equal(run.stepCount, 0);
      assert.equal(run.leaseOwner, null);
      assert.deepEqual(await store.readJournal(created.run.id), [created.first]);
    });

    test('refuses a duplicate run id with run-exists', async () => {
      const created = newRun();
      await store.createRun(created);
      await expectCode(store.createRun(created), 'run-exists');
      assert.equal((await store.readJournal(created.run.id)).length, 1);
    });

    test('appends contiguous records atomically and applies the summary', async () => {
      const created = newRun();
      const id = created.run.id;
      await store.createRun(created);
      const data: JsonValue = { text: 'héllo ✓', nested: { list: [1, 2.5, -3, null, true], empty: {} }, big: 9007199254740991 };
      await store.append({
        runId: id,
        records: [record(id, 2, 'step-start', data), record(id, 3, 'step-end', { value: 42 })],
        summary: { status: 'running', stepCount: 1, inputTokens: 120, outputTokens: 30 },
      });
      const journal = await store.readJournal(id);
      assert.deepEqual(journal.map((entry) => entry.seq), [1, 2, 3]);
      assert.deepEqual(journal[1]?.data, data);
      assert.deepEqual(await store.readJournal(id, 2), [journal[2]]);
      const run = await store.getRun(id);
      assert.equal(run?.status, 'running');
      assert.equal(run?.stepCount, 1);
      assert.equal(run?.inputTokens, 120);
      assert.equal(run?.outputTokens, 30);
      assert.equal(run?.lastSeq, 3);
      assert.equal(run?.lastHash, fakeHash(id, 3));
      await store.append({ runId: id, records: [record(id, 4, 'run-end')], summary: { status: 'failed', reason: 'boom' } });
      const ended = await store.getRun(id);
      assert.equal(ended?.status, 'failed');
      assert.equal(ended?.reason, 'boom');
      assert.equal(ended?.stepCount, 1, 'fields absent from the summary are unchanged');
    });

    test('rejects a gap or a repeated seq with journal-conflict and writes nothing', async () => {
      const created = newRun();
      const id = created.run.id;
      await store.createRun(created);
      await expectCode(store.append({ runId: id, records: [record(id, 3, 'gap')], summary: {} }), 'journal-conflict');
      await expectCode(store.append({ runId: id, records: [record(id, 1, 'repeat')], summary: {} }), 'journal-conflict');
      await expectCode(
        store.append({ runId: id, records: [record(id, 2, 'ok'), record(id, 4, 'non-contiguous')], summary: { status: 'ok' } }),
        'journal-conflict',
      );
      assert.equal((await store.readJournal(id)).length, 1);
      assert.equal((await store.getRun(id))?.status, 'queued');
    });

    test('rejects an append to an unknown run with run-not-found', async () => {
      await expectCode(store.append({ runId: 'no-such-run', records: [record('no-such-run', 2, 'x')], summary: {} }), 'run-not-found');
    });

    test('group commit: concurrent appends to many runs all land, one failure does not sink the rest', async () => {
      const runs = Array.from({ length: 50 }, () => newRun());
      await Promise.all(runs.map((created) => store.createRun(created)));
      const results = await Promise.allSettled(
        runs.flatMap((created, index) => {
          const id = created.run.id;
          const good = store.append({ runId: id, records: [record(id, 2, 'step-end', { index })], summary: { stepCount: 1 } });
          // Every fifth run also gets a conflicting batch in the same tick.
          return index % 5 === 0 ? [good, store.append({ runId: id, records: [record(id, 9, 'bad')], summary: {} })] : [good];
        }),
      );
      const rejected = results.filter((result) => result.status === 'rejected');
      assert.equal(rejected.length, 10);
      for (const created of runs) {
        const journal = await store.readJournal(created.run.id);
        assert.deepEqual(journal.map((entry) => entry.type), ['run-start', 'step-end']);
      }
    });

    test('successive appends to one run in the same tick apply in order', async () => {
      const created = newRun();
      const id = created.run.id;
      await store.createRun(created);
      await Promise.all([2, 3, 4, 5].map((seq) => store.append({ runId: id, records: [record(id, seq, `e${seq}`)], summary: { stepCount: seq } })));
      assert.deepEqual((await store.readJournal(id)).map((entry) => entry.type), ['run-start', 'e2', 'e3', 'e4', 'e5']);
      assert.equal((await store.getRun(id))?.stepCount, 5);
    });

    test('claims are exclusive, oldest first, and skip leased and terminal runs', async () => {
      const statuses = ['queued', 'running', 'ok', 'waiting'] as const;
      const task = `claim-${randomUUID()}`;
      const ids: string[] = [];
      for (const status of statuses) {
        const created = newRun({ status, task });
        ids.push(created.run.id);
        await store.createRun(created);
      }
      const leased = newRun({ status: 'running', task }, { owner: 'worker-z', leaseMs: 60_000 });
      await store.createRun(leased);
      const claimedByA = await store.claimRuns({ owner: 'worker-a', leaseMs: 60_000, limit: 100 });
      const mine = claimedByA.filter((run) => run.task === task);
      assert.deepEqual(mine.map((run) => run.id), [ids[0], ids[1]]);
      assert.ok(mine.every((run) => run.leaseOwner === 'worker-a' && run.leaseExpiresAt !== null));
      const claimedByB = await store.claimRuns({ owner: 'worker-b', leaseMs: 60_000, limit: 100 });
      assert.equal(claimedByB.filter((run) => run.task === task).length, 0);
      const waiting = await store.claimRuns({ owner: 'worker-b', leaseMs: 60_000, limit: 100, statuses: ['waiting'] });
      assert.deepEqual(waiting.filter((run) => run.task === task).map((run) => run.id), [ids[3]]);
    });

    test('claims only runs of the tasks asked for', async () => {
      const served = `served-${randomUUID()}`;
      const other = `other-${randomUUID()}`;
      const otherRun = newRun({ task: other });
      const servedRun = newRun({ task: served, status: 'running' });
      await store.createRun(otherRun);
      await store.createRun(servedRun);
      const claimed = await store.claimRuns({ owner: 'worker-a', leaseMs: 60_000, limit: 100, tasks: [served] });
      assert.deepEqual(claimed.map((run) => run.id), [servedRun.run.id]);
      assert.equal((await store.getRun(otherRun.run.id))?.leaseOwner, null);
      assert.deepEqual(await store.claimRuns({ owner: 'worker-a', leaseMs: 60_000, limit: 100, tasks: [] }), []);
      const any = await store.claimRuns({ owner: 'worker-b', leaseMs: 60_000, limit: 1000 });
      assert.ok(any.some((run) => run.id === otherRun.run.id));
    });

    test('parallel claimers never receive the same run', async () => {
      const task = `race-${randomUUID()}`;
      for (let index = 0; index < 60; index += 1) await store.createRun(newRun({ task }));
      const seen = new Map<string, string>();
      await Promise.all(
        ['w1', 'w2', 'w3'].map(async (owner) => {
          for (;;) {
            const claimed = (await store.claimRuns({ owner, leaseMs: 60_000, limit: 4 })).filter((run) => run.task === task);
            if (claimed.length === 0) return;
            for (const run of claimed) {
              assert.equal(seen.get(run.id), undefined, `run ${run.id} claimed twice`);
              seen.set(run.id, owner);
            }
          }
        }),
      );
      assert.equal(seen.size, 60);
    });

    test('an expired lease is taken over, and the old holder is fenced out', async () => {
      const created = newRun({ status: 'running' }, { owner: 'worker-old', leaseMs: 1 });
      const id = created.run.id;
      await store.createRun(created);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const claimed = await store.claimRuns({ owner: 'worker-new', leaseMs: 60_000, limit: 1000 });
      assert.ok(claimed.some((run) => run.id === id));
      await expectCode(
        store.append({ runId: id, records: [record(id, 2, 'late')], summary: { status: 'ok' }, fence: { leaseOwner: 'worker-old' } }),
        'lease-lost',
      );
      assert.equal((await store.renewLease(id, 'worker-old', 60_000)).held, false);
      await store.append({ runId: id, records: [record(id, 2, 'on-time')], summary: {}, fence: { leaseOwner: 'worker-new' } });
      assert.deepEqual((await store.readJournal(id)).map((entry) => entry.type), ['run-start', 'on-time']);
    });

    test('renew, release and break leases', async () => {
      const created = newRun({ status: 'running' }, { owner: 'worker-a', leaseMs: 60_000 });
      const id = created.run.id;
      await store.createRun(created);
      assert.deepEqual(await store.renewLease(id, 'worker-a', 60_000), { held: true, stopRequested: null });
      assert.equal((await store.renewLease(id, 'worker-b', 60_000)).held, false);
      await store.releaseLease(id, 'worker-b');
      assert.equal((await store.getRun(id))?.leaseOwner, 'worker-a');
      assert.equal(await store.breakLease(id, 'worker-b'), false);
      assert.equal(await store.breakLease(id, 'worker-a'), true);
      assert.equal((await store.getRun(id))?.leaseOwner, null);
      const claimed = await store.claimRuns({ owner: 'worker-c', leaseMs: 60_000, limit: 1000 });
      assert.ok(claimed.some((run) => run.id === id));
      await store.releaseLease(id, 'worker-c');
      assert.equal((await store.getRun(id))?.leaseOwner, null);
    });

    test('a stop request is recorded once and reported to the lease holder', async () => {
      const created = newRun({ status: 'running' }, { owner: 'worker-a', leaseMs: 60_000 });
      const id = created.run.id;
      await store.createRun(created);
      const stopped = await store.requestStop(id, { by: 'user:ops', reason: 'runaway agent' });
      assert.deepEqual(stopped?.stopRequested, { by: 'user:ops', reason: 'runaway agent' });
      await store.requestStop(id, { by: 'user:late', reason: 'second request' });
      assert.deepEqual(await store.renewLease(id, 'worker-a', 60_000), { held: true, stopRequested: { by: 'user:ops', reason: 'runaway agent' } });
      assert.equal(await store.requestStop('no-such-run', { by: 'x', reason: 'y' }), undefined);
    });

    test('claimRun leases exactly the run asked for, only when it is free and in a given status', async () => {
      const free = newRun({ status: 'waiting' });
      const held = newRun({ status: 'running' }, { owner: 'worker-a', leaseMs: 60_000 });
      await store.createRun(free);
      await store.createRun(held);
      assert.equal(await store.claimRun(free.run.id, { owner: 'worker-b', leaseMs: 60_000, statuses: ['queued'] }), undefined);
      const claimed = await store.claimRun(free.run.id, { owner: 'worker-b', leaseMs: 60_000, statuses: ['waiting'] });
      assert.equal(claimed?.leaseOwner, 'worker-b');
      assert.equal(await store.claimRun(free.run.id, { owner: 'worker-c', leaseMs: 60_000, statuses: ['waiting'] }), undefined);
      assert.equal(await store.claimRun(held.run.id, { owner: 'worker-b', leaseMs: 60_000, statuses: ['running'] }), undefined);
    });

    test('an append that leaves the run queued, waiting or ended clears its lease in the same transaction', async () => {
      for (const status of ['queued', 'waiting', 'ok', 'degraded', 'escalated', 'failed'] as const) {
        const created = newRun({ status: 'running' }, { owner: 'worker-a', leaseMs: 60_000 });
        const id = created.run.id;
        await store.createRun(created);
        await store.append({ runId: id, records: [record(id, 2, 'handed-back')], summary: { status }, fence: { leaseOwner: 'worker-a' } });
        const run = await store.getRun(id);
        assert.deepEqual({ status: run?.status, owner: run?.leaseOwner, expires: run?.leaseExpiresAt }, { status, owner: null, expires: null }, status);
        await expectCode(store.append({ runId: id, records: [record(id, 3, 'after')], summary: {}, fence: { leaseOwner: 'worker-a' } }), 'lease-lost');
        assert.equal((await store.renewLease(id, 'worker-a', 60_000)).held, false, `${status}: the old holder renewed a lease it no longer has`);
      }
      const running = newRun({ status: 'queued' }, { owner: 'worker-a', leaseMs: 60_000 });
      await store.createRun(running);
      await store.append({ runId: running.run.id, records: [record(running.run.id, 2, 'run-resume')], summary: { status: 'running' }, fence: { leaseOwner: 'worker-a' } });
      assert.equal((await store.getRun(running.run.id))?.leaseOwner, 'worker-a', 'an append that keeps the run running keeps its lease');
    });

    test('a run ended by the last of several appends in one group has no lease, and a fenced append after it is refused', async () => {
      const created = newRun({ status: 'running' }, { owner: 'worker-a', leaseMs: 60_000 });
      const id = created.run.id;
      await store.createRun(created);
      const fence = { leaseOwner: 'worker-a' };
      // Issued in one tick: group commit puts them in one group (one statement or transaction).
      const writes = [
        store.append({ runId: id, records: [record(id, 2, 'step')], summary: { status: 'running' }, fence }),
        store.append({ runId: id, records: [record(id, 3, 'run-end')], summary: { status: 'ok' }, fence }),
        store.append({ runId: id, records: [record(id, 4, 'late')], summary: {}, fence }),
      ];
      const settled = await Promise.allSettled(writes);
      const outcomes = settled.map((result) => (result.status === 'fulfilled' ? 'written' : (result.reason as { code?: string }).code));
      assert.deepEqual(outcomes, ['written', 'written', 'lease-lost']);
      const run = await store.getRun(id);
      assert.deepEqual({ status: run?.status, lastSeq: run?.lastSeq, owner: run?.leaseOwner }, { status: 'ok', lastSeq: 3, owner: null });
    });

    test("an unfenced decision on a waiting run clears a stale holder's lease, so the run can be claimed at once", async () => {
      const created = newRun({ status: 'waiting' }, { owner: 'worker-dead', leaseMs: 60_000 });
      const id = created.run.id;
      await store.createRun(created);
      assert.equal(await store.claimRun(id, { owner: 'worker-b', leaseMs: 60_000, statuses: ['queued'] }), undefined);
      await store.append({ runId: id, records: [record(id, 2, 'human-decision')], summary: { status: 'queued' } });
      const claimed = await store.claimRun(id, { owner: 'worker-b', leaseMs: 60_000, statuses: ['queued', 'running'] });
      assert.equal(claimed?.leaseOwner, 'worker-b');
      // An unfenced append is still ordered by seq: a second decision on the same head is refused.
      await expectCode(store.append({ runId: id, records: [record(id, 2, 'human-decision')], summary: { status: 'queued' } }), 'journal-conflict');
    });

    test('lists runs newest first with filters, and every run id oldest first', async () => {
      const task = `list-${randomUUID()}`;
      const first = newRun({ task, status: 'ok' });
      const second = newRun({ task, status: 'failed' });
      await store.createRun(first);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.createRun(second);
      const listed = await store.listRuns({ task });
      assert.deepEqual(listed.map((run) => run.id), [second.run.id, first.run.id]);
      assert.deepEqual((await store.listRuns({ task, statuses: ['ok'] })).map((run) => run.id), [first.run.id]);
      assert.equal((await store.listRuns({ task, limit: 1 })).length, 1);
      const ids = await store.listRunIds();
      assert.ok(ids.indexOf(first.run.id) < ids.indexOf(second.run.id));
    });

    test('pages through runs with `after`: every run once, newest first, runs created in the same millisecond included', async () => {
      const task = `page-${randomUUID()}`;
      const created: NewRunV1[] = [];
      for (let index = 0; index < 7; index += 1) {
        const run = newRun({ task, status: 'waiting' });
        // Three runs share one creation time, so a page can end between runs with equal times.
        if (index >= 2 && index <= 4 && created[1] !== undefined) run.first = { ...run.first, time: created[1].first.time };
        created.push(run);
        await store.createRun(run);
      }
      const whole = await store.listRuns({ task, limit: 100 });
      const paged: string[] = [];
      let after: { createdAt: string; id: string } | undefined;
      // Bounded, so an adapter that ignores `after` fails here instead of looping.
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.listRuns({ task, statuses: ['waiting'], limit: 2, ...(after === undefined ? {} : { after }) });
        paged.push(...page.map((run) => run.id));
        const last = page.at(-1);
        if (page.length < 2 || last === undefined) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(paged, whole.map((run) => run.id));
      assert.deepEqual([...paged].sort(), created.map((run) => run.run.id).sort());
    });

    test('lists the runs carrying every tag asked for (one, two, none has them), with the status and task filters and page by page', async () => {
      // Values of this test's own: the runs of other tests carry none of them.
      const unique = randomUUID();
      const task = `tagged-${unique}`;
      const project = `search-${unique}`;
      const core = `core-${unique}`;
      const specs: { tags?: Record<string, string>; status: NewRunV1['run']['status'] }[] = [
        { tags: { project, team: core }, status: 'ok' },
        { tags: { project, team: core }, status: 'failed' },
        { tags: { project }, status: 'failed' },
        { tags: { project, team: core }, status: 'failed' },
        { tags: { project, team: `ads-${unique}` }, status: 'failed' },
        { tags: { project: `${project}-other`, team: core }, status: 'failed' },
        { tags: { team: core }, status: 'failed' },
        { status: 'failed' },
        { tags: { project, team: core, env: 'prod' }, status: 'failed' },
        { tags: { project, team: core }, status: 'waiting' },
      ];
      const created: NewRunV1[] = [];
      for (const [index, spec] of specs.entries()) {
        const run = newRun({ task, status: spec.status, ...(spec.tags === undefined ? {} : { tags: spec.tags }) });
        // Three runs share one creation time, so a page can end between runs with equal times.
        if (index >= 2 && index <= 3 && created[1] !== undefined) run.first = { ...run.first, time: created[1].first.time };
        created.push(run);
        await store.createRun(run);
      }
      // The listing without tags, in the store's own order; each tag filter must be its subset.
      const whole = await store.listRuns({ task });
      assert.equal(whole.length, specs.length);
      const carrying = (tags: Record<string, string>, runs: RunRecordV1[] = whole) => runs.filter((run) => Object.entries(tags).every(([name, value]) => run.tags?.[name] === value));
      const ids = (runs: RunRecordV1[]) => runs.map((run) => run.id);

      const byProject = await store.listRuns({ tags: { project } });
      assert.deepEqual(ids(byProject), ids(carrying({ project })));
      assert.equal(byProject.length, 7);
      assert.deepEqual(byProject, carrying({ project }), 'the same records as listed without the filter, tags included');
      const both = await store.listRuns({ tags: { project, team: core } });
      assert.deepEqual(ids(both), ids(carrying({ project, team: core })));
      assert.equal(both.length, 5, 'all must match: not the runs with only one of the two');
      assert.deepEqual(ids(await store.listRuns({ tags: { team: core, project } })), ids(both), 'in any order');
      assert.deepEqual(ids(await store.listRuns({ tags: { project, team: core, env: 'prod' } })), [created[8]?.run.id]);
      assert.deepEqual(await store.listRuns({ tags: { project, team: `nobody-${unique}` } }), []);
      assert.deepEqual(await store.listRuns({ tags: { project: `${project}-missing` } }), []);
      assert.deepEqual(await store.listRuns({ tags: { [`nobody-has-${unique}`]: project } }), []);
      assert.deepEqual(ids(await store.listRuns({ task, tags: {} })), ids(whole), 'no tags: no filter');

      // With the other filters.
      const failed = await store.listRuns({ tags: { project, team: core }, statuses: ['failed'] });
      assert.deepEqual(ids(failed), ids(carrying({ project, team: core }).filter((run) => run.status === 'failed')));
      assert.equal(failed.length, 3);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, statuses: ['ok', 'waiting'], task })), ids(carrying({ project }).filter((run) => run.status === 'ok' || run.status === 'waiting')));
      assert.deepEqual(await store.listRuns({ tags: { project }, task: `other-${unique}` }), []);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, limit: 2 })), ids(carrying({ project }).slice(0, 2)));

      // Page by page, two at a time: every failed run of the project once, in order, across the equal times.
      const expected = ids(carrying({ project }).filter((run) => run.status === 'failed'));
      assert.equal(expected.length, 5);
      const paged: string[] = [];
      let after: { createdAt: string; id: string } | undefined;
      // Bounded, so an adapter that ignores `after` fails here instead of looping.
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.listRuns({ tags: { project }, statuses: ['failed'], limit: 2, ...(after === undefined ? {} : { after }) });
        paged.push(...ids(page));
        const last = page.at(-1);
        if (page.length < 2 || last === undefined) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(paged, expected);
      // A cursor is a place in the listing, whichever run it names: here one without the tag.
      const untagged = whole.find((run) => run.tags === undefined);
      assert.ok(untagged !== undefined);
      const position = whole.indexOf(untagged);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, after: { createdAt: untagged.createdAt, id: untagged.id } })), ids(carrying({ project }, whole.slice(position + 1))));
    });

    test('refuses a tag filter that breaks the tags\' rules with usage-invalid naming the problem', async () => {
      const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`tag${index}`, 'v']));
      const refused: [unknown, RegExp][] = [
        [{ 'bad name': 'v' }, /tag name "bad name"/],
        [{ '': 'v' }, /tag name ""/],
        [{ project: '' }, /tag project is empty/],
        [{ project: 'x'.repeat(257) }, /tag project is longer than 256 characters/],
        [{ project: 'line\nbreak' }, /tag project holds a control character/],
        [{ project: 42 }, /tag project must be a string, got number/],
        [seventeen, /at most 16 tags/],
        [['search'], /tags must be an object/],
        [JSON.parse('{"__proto__":"x"}'), /tag name "__proto__" is reserved/],
      ];
      for (const [tags, problem] of refused) {
        await assert.rejects(store.listRuns({ tags: tags as Record<string, string> }), (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'usage-invalid', JSON.stringify(tags));
          assert.match((error as Error).message, problem);
          return true;
        });
      }
    });

    test('lists the runs created in [since, until): each bound exact at a run\'s creation, with the status and tag filters and page by page', async () => {
      // A task and tag values of this test's own, and times no other test creates runs at.
      const unique = randomUUID();
      const task = `period-${unique}`;
      const project = `search-${unique}`;
      const at = (hours: number, milliseconds = 0) => new Date(Date.parse('2002-02-04T00:00:00.000Z') + hours * 3_600_000 + milliseconds).toISOString();
      const specs: { hours: number; status: NewRunV1['run']['status']; tags?: Record<string, string> }[] = [
        { hours: 1, status: 'failed', tags: { project } },
        { hours: 2, status: 'ok', tags: { project } },
        // Three runs created in one millisecond, so a page can end between runs with equal times.
        { hours: 3, status: 'failed', tags: { project, team: 'core' } },
        { hours: 3, status: 'failed', tags: { project } },
        { hours: 3, status: 'failed' },
        { hours: 4, status: 'failed', tags: { project, team: 'core' } },
        { hours: 5, status: 'waiting', tags: { project } },
        { hours: 6, status: 'failed', tags: { project, team: 'core' } },
        { hours: 7, status: 'failed', tags: { project } },
        { hours: 8, status: 'ok' },
      ];
      for (const spec of specs) {
        const run = newRun({ task, status: spec.status, ...(spec.tags === undefined ? {} : { tags: spec.tags }) });
        run.first = { ...run.first, time: at(spec.hours) };
        await store.createRun(run);
      }
      const whole = await store.listRuns({ task });
      assert.equal(whole.length, specs.length);
      const ids = (runs: RunRecordV1[]) => runs.map((run) => run.id);
      // What a period must list: the listing without it, filtered by the run's own created_at.
      const within = (since: string | undefined, until: string | undefined, runs: RunRecordV1[] = whole) =>
        runs.filter((run) => (since === undefined || Date.parse(run.createdAt) >= Date.parse(since)) && (until === undefined || Date.parse(run.createdAt) < Date.parse(until)));
      const carrying = (tags: Record<string, string>, runs: RunRecordV1[]) => runs.filter((run) => Object.entries(tags).every(([name, value]) => run.tags?.[name] === value));

      // since is included and until is not, exactly at a run's created_at; a millisecond either way moves the run.
      const exact = await store.listRuns({ task, since: at(3), until: at(6) });
      assert.deepEqual(ids(exact), ids(within(at(3), at(6))));
      assert.deepEqual(exact.map((run) => run.createdAt), [at(5), at(4), at(3), at(3), at(3)]);
      assert.deepEqual(exact, within(at(3), at(6)), 'the same records as listed without the period');
      assert.deepEqual(ids(await store.listRuns({ task, since: at(3, 1), until: at(6, 1) })), ids(within(at(4), at(7))));
      assert.deepEqual((await store.listRuns({ task, since: at(3, -1), until: at(6, -1) })).map((run) => run.createdAt), [at(5), at(4), at(3), at(3), at(3)]);
      // An offset names the same instant; a fraction finer than a millisecond after a run's creation is after it.
      assert.deepEqual(ids(await store.listRuns({ task, since: '2002-02-04T04:00:00+01:00', until: '2002-02-04T01:00-05:00' })), ids(exact));
      assert.deepEqual(ids(await store.listRuns({ task, since: '2002-02-04T03:00:00.0000001Z', until: '2002-02-04T06:00:00.0000001Z' })), ids(within(at(4), at(7))));
      // One bound alone; equal bounds are an empty period.
      assert.deepEqual(ids(await store.listRuns({ task, since: at(7) })), ids(within(at(7), undefined)));
      assert.equal((await store.listRuns({ task, since: at(7) })).length, 2);
      assert.deepEqual(ids(await store.listRuns({ task, until: at(2) })), ids(within(undefined, at(2))));
      assert.equal((await store.listRuns({ task, until: at(2) })).length, 1);
      assert.deepEqual(await store.listRuns({ task, since: at(3), until: at(3) }), []);
      assert.deepEqual(await store.listRuns({ task, since: at(9) }), []);

      // With the status filter, the tag filter (the tag index's path), both, and a limit.
      const failed = within(at(3), at(7)).filter((run) => run.status === 'failed');
      assert.deepEqual(ids(await store.listRuns({ task, statuses: ['failed'], since: at(3), until: at(7) })), ids(failed));
      assert.equal(failed.length, 5);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, since: at(2), until: at(7) })), ids(carrying({ project }, within(at(2), at(7)))));
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, since: at(3), until: at(6) })), ids(carrying({ project }, exact)));
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, since: at(3, 1), until: at(6, 1) })), ids(carrying({ project }, within(at(4), at(7)))));
      assert.deepEqual(ids(await store.listRuns({ tags: { project, team: 'core' }, since: at(4) })), ids(carrying({ project, team: 'core' }, within(at(4), undefined))));
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, until: at(3) })), ids(carrying({ project }, within(undefined, at(3)))));
      const failedTagged = carrying({ project }, failed);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, statuses: ['failed'], since: at(3), until: at(7) })), ids(failedTagged));
      assert.equal(failedTagged.length, 4);
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, statuses: ['failed'], since: at(3), until: at(7), limit: 2 })), ids(failedTagged.slice(0, 2)));
      assert.deepEqual(await store.listRuns({ tags: { project }, statuses: ['ok'], since: at(3), until: at(7) }), []);

      // Page by page, two at a time, across the runs created in one millisecond: without tags and by tag.
      const walk = async (query: RunQueryV1) => {
        const paged: string[] = [];
        let after: { createdAt: string; id: string } | undefined;
        // Bounded, so an adapter that ignores `after` fails here instead of looping.
        for (let pages = 0; pages < 10; pages += 1) {
          const page = await store.listRuns({ ...query, limit: 2, ...(after === undefined ? {} : { after }) });
          paged.push(...ids(page));
          const last = page.at(-1);
          if (page.length < 2 || last === undefined) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
        return paged;
      };
      assert.deepEqual(await walk({ task, statuses: ['failed'], since: at(3), until: at(7) }), ids(failed));
      assert.deepEqual(await walk({ tags: { project }, statuses: ['failed'], since: at(3), until: at(7) }), ids(failedTagged));
      assert.deepEqual(await walk({ task, since: at(2), until: at(8) }), ids(within(at(2), at(8))));
      // A cursor and a period both hold: a cursor past until lists from until down, one before since nothing.
      const newest = whole[0];
      const oldest = whole.at(-1);
      assert.ok(newest !== undefined && oldest !== undefined);
      assert.deepEqual(ids(await store.listRuns({ task, since: at(3), until: at(6), after: { createdAt: newest.createdAt, id: newest.id } })), ids(exact));
      assert.deepEqual(ids(await store.listRuns({ tags: { project }, since: at(3), until: at(6), after: { createdAt: newest.createdAt, id: newest.id } })), ids(carrying({ project }, exact)));
      assert.deepEqual(await store.listRuns({ task, since: at(3), after: { createdAt: oldest.createdAt, id: oldest.id } }), []);
      assert.deepEqual(await store.listRuns({ tags: { project }, since: at(3), after: { createdAt: oldest.createdAt, id: oldest.id } }), []);
    });

    test('refuses a period that is not two ISO-8601 instants, or whose since is after its until, with usage-invalid naming the bound', async () => {
      const since = '2002-02-04T00:00:00.000Z';
      const until = '2002-02-11T00:00:00.000Z';
      const refused: [RunQueryV1, RegExp][] = [
        [{ since: until, until: since }, /^run query: since 2002-02-11T00:00:00\.000Z is after until 2002-02-04T00:00:00\.000Z$/],
        [{ since: '2002-02-04T00:00:00.001Z', until: '2002-02-04T00:00:00.000Z', tags: { project: 'search' } }, /since .* is after until/],
        [{ since: '2002-02-04' }, /^run query: since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00\.000Z, got "2002-02-04"$/],
        [{ since: 'monday' }, /since must be an ISO-8601 time .*"monday"/],
        [{ until: '2002-02-04T00:00:00' }, /until must be an ISO-8601 time .*"2002-02-04T00:00:00"/],
        [{ until: '2002-02-30T00:00:00.000Z' }, /until must be an ISO-8601 time/],
        [{ since: '' }, /since must be an ISO-8601 time .*""/],
        [{ since: 20020204 as unknown as string }, /since must be an ISO-8601 time .*got 20020204/],
        [{ since: '0000-01-01T00:00:00+00:01' }, /since "0000-01-01T00:00:00\+00:01" is outside the years 0000 to 9999 in UTC/],
      ];
      for (const [query, problem] of refused) {
        await assert.rejects(store.listRuns(query), (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'usage-invalid', JSON.stringify(query));
          assert.match((error as Error).message, problem);
          return true;
        });
      }
    });

    test('summarizeSpend: what runs created in a period spent, grouped by tenant, principal or task, most costly first', async (context) => {
      const summarize = store.summarizeSpend?.bind(store);
      if (summarize === undefined) {
        context.skip('this store has no summarizeSpend (optional)');
        return;
      }
      // A period of its own, long before every other test's runs, so only these runs fall in it.
      const since = '2001-03-01T00:00:00.000Z';
      const until = '2001-04-01T00:00:00.000Z';
      const runs: SpendRun[] = [
        { tenant: 'acme', principal: 'user:ada', task: 'refund', createdAt: since, spent: { costMicros: 500, inputTokens: 100, outputTokens: 10 } },
        { tenant: 'Zeta', principal: 'user:bob', task: 'audit', createdAt: '2001-03-05T08:00:00.000Z', spent: { costMicros: 750, inputTokens: 60, outputTokens: 6 } },
        { tenant: 'acme', principal: 'user:bob', task: 'triage', createdAt: '2001-03-10T12:00:00.000Z', spent: { costMicros: 250, inputTokens: 40, outputTokens: 4 } },
        { tenant: 'globex', principal: 'user:ada', task: 'triage', createdAt: '2001-03-15T00:00:00.000Z', spent: { costMicros: 900, inputTokens: 300, outputTokens: 30 } },
        // Still running, nothing spent yet: counted, adding nothing.
        { tenant: 'acme', principal: 'user:dee', task: 'refund', createdAt: '2001-03-20T00:00:00.000Z' },
        { tenant: 'initech', principal: 'user:cy', task: 'refund', createdAt: '2001-03-31T23:59:59.999Z', spent: { costMicros: 400, inputTokens: 7, outputTokens: 1 } },
        // Outside the period, one at until exactly and one a millisecond before since: counted, they would change every grouping.
        { tenant: 'acme', principal: 'user:ada', task: 'refund', createdAt: until, spent: { costMicros: 10_000, inputTokens: 1_000, outputTokens: 100 } },
        { tenant: 'hooli', principal: 'user:eve', task: 'triage', createdAt: '2001-02-28T23:59:59.999Z', spent: { costMicros: 20_000, inputTokens: 2_000, outputTokens: 200 } },
      ];
      await Promise.all(runs.map((run) => createSpendRun(store, run)));
      const row = (group: string, runCount: number, costMicros: number, inputTokens: number, outputTokens: number): SpendRowV1 => ({ group, runs: runCount, costMicros, inputTokens, outputTokens });

      // A tie on cost goes by group in code point order: 'Zeta' before 'acme'.
      assert.deepEqual(await summarize({ since, until, by: 'tenant' }), [
        row('globex', 1, 900, 300, 30),
        row('Zeta', 1, 750, 60, 6),
        row('acme', 3, 750, 140, 14),
        row('initech', 1, 400, 7, 1),
      ]);
      assert.deepEqual(await summarize({ since, until, by: 'principal' }), [
        row('user:ada', 2, 1_400, 400, 40),
        row('user:bob', 2, 1_000, 100, 10),
        row('user:cy', 1, 400, 7, 1),
        row('user:dee', 1, 0, 0, 0),
      ]);
      assert.deepEqual(await summarize({ since, until, by: 'task' }), [row('triage', 2, 1_150, 340, 34), row('refund', 3, 900, 107, 11), row('audit', 1, 750, 60, 6)]);

      // since is inclusive, until exclusive: only the run created at 12:00 on the 10th, not the one at until.
      const narrow = [row('acme', 1, 250, 40, 4)];
      assert.deepEqual(await summarize({ since: '2001-03-10T12:00:00.000Z', until: '2001-03-15T00:00:00.000Z', by: 'tenant' }), narrow);
      // The same instants written with an offset and without milliseconds.
      assert.deepEqual(await summarize({ since: '2001-03-10T13:00:00+01:00', until: '2001-03-15T01:00+01:00', by: 'tenant' }), narrow);
      // A tenth of a microsecond after the run's creation: it is before since.
      assert.deepEqual(await summarize({ since: '2001-03-10T12:00:00.0000001Z', until: '2001-03-15T00:00:00.000Z', by: 'tenant' }), []);

      // A period with no runs, and an empty one.
      assert.deepEqual(await summarize({ since: '2001-05-01T00:00:00.000Z', until: '2001-06-01T00:00:00.000Z', by: 'task' }), []);
      assert.deepEqual(await summarize({ since, until: since, by: 'principal' }), []);

      const refused: [SpendQueryV1, RegExp][] = [
        [{ since: 'last tuesday', until, by: 'tenant' }, /since/],
        [{ since, until: '2001-02-30T00:00:00.000Z', by: 'tenant' }, /until/],
        [{ since, until: '', by: 'tenant' }, /until/],
        [{ since: until, until: since, by: 'tenant' }, /since .* after until/],
        [{ since, until, by: 'status' as SpendQueryV1['by'] }, /by must be tenant, principal, task or tag/],
        [{ since, until, by: 'tenant, status' as SpendQueryV1['by'] }, /by must be tenant, principal, task or tag/],
      ];
      for (const [query, problem] of refused) {
        await assert.rejects(summarize(query), (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'usage-invalid', JSON.stringify(query));
          assert.match((error as Error).message, problem);
          return true;
        });
      }
    });

    test('a run keeps the tags it was created with, on every read; a run created without tags has none', async () => {
      const task = `tags-${randomUUID()}`;
      // The most a run may carry: 16 tags, names of 64, values of 256 characters (astral ones too).
      const tags: Record<string, string> = { project: 'search', 'cost.center': 'R-12', team_name: 'héllo ✓', long: '𝄞'.repeat(256), ['n'.repeat(64)]: 'x' };
      for (let index = 0; Object.keys(tags).length < 16; index += 1) tags[`extra-${index}`] = `value ${index}`;
      const tagged = newRun({ task, status: 'queued', tags });
      const plain = newRun({ task, status: 'queued' });
      const emptied = newRun({ task, status: 'queued', tags: {} });
      for (const created of [tagged, plain, emptied]) await store.createRun(created);
      const byId = (runs: RunRecordV1[]) => new Map(runs.filter((run) => run.task === task).map((run) => [run.id, run.tags]));
      const expected = new Map([
        [tagged.run.id, tags],
        [plain.run.id, undefined],
        [emptied.run.id, undefined],
      ]);
      for (const created of [tagged, plain, emptied]) assert.deepEqual((await store.getRun(created.run.id))?.tags, expected.get(created.run.id));
      assert.equal('tags' in ((await store.getRun(plain.run.id)) ?? {}), false, 'a run without tags has no tags field');
      assert.deepEqual(byId(await store.listRuns({ task })), expected);
      assert.deepEqual((await store.requestStop(tagged.run.id, { by: 'user:ops', reason: 'tags' }))?.tags, tags);
      assert.deepEqual((await store.claimRun(tagged.run.id, { owner: 'worker-a', leaseMs: 60_000, statuses: ['queued'] }))?.tags, tags);
      await store.releaseLease(tagged.run.id, 'worker-a');
      assert.deepEqual(byId(await store.claimRuns({ owner: 'worker-b', leaseMs: 60_000, limit: 10, tasks: [task] })), expected);
      // Appends change none of them.
      await store.append({ runId: tagged.run.id, records: [record(tagged.run.id, 2, 'run-end')], summary: { status: 'ok' } });
      assert.deepEqual((await store.getRun(tagged.run.id))?.tags, tags);
    });

    test('refuses a run whose tags break the rules with usage-invalid naming the problem, and creates nothing', async () => {
      const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`tag${index}`, 'v']));
      const refused: [unknown, RegExp][] = [
        [seventeen, /at most 16 tags/],
        [{ 'bad name': 'v' }, /tag name "bad name"/],
        [{ ['n'.repeat(65)]: 'v' }, /tag name "n+…?"/],
        [{ '': 'v' }, /tag name ""/],
        [{ project: '' }, /tag project is empty/],
        [{ project: 'x'.repeat(257) }, /tag project is longer than 256 characters/],
        [{ project: '𝄞'.repeat(257) }, /tag project is longer than 256 characters/],
        [{ project: 'line\nbreak' }, /tag project holds a control character/],
        [{ project: 'nul\u0000' }, /tag project holds a control character/],
        [{ project: 'half \ud800' }, /tag project is not well-formed/],
        [{ project: 42 }, /tag project must be a string, got number/],
        [['search'], /tags must be an object/],
        [JSON.parse('{"__proto__":"x"}'), /tag name "__proto__" is reserved/],
      ];
      for (const [tags, problem] of refused) {
        const created = newRun({ tags: tags as Record<string, string> });
        await assert.rejects(store.createRun(created), (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'usage-invalid', JSON.stringify(tags));
          assert.match((error as Error).message, problem);
          return true;
        });
        assert.equal(await store.getRun(created.run.id), undefined);
      }
      // Refused alone: a good run created at the same moment is created with its tags.
      const good = newRun({ tags: { project: 'ads' } });
      const bad = newRun({ tags: { project: '' } });
      const settled = await Promise.allSettled([store.createRun(bad), store.createRun(good)]);
      assert.deepEqual(settled.map((result) => result.status), ['rejected', 'fulfilled']);
      assert.deepEqual((await store.getRun(good.run.id))?.tags, { project: 'ads' });
      assert.equal(await store.getRun(bad.run.id), undefined);
    });

    test('summarizeSpend by tag: one group per value of the tag, and the runs without it as one group, null, after the others of its cost', async (context) => {
      const summarize = store.summarizeSpend?.bind(store);
      if (summarize === undefined) {
        context.skip('this store has no summarizeSpend (optional)');
        return;
      }
      // A period of its own, as the test above.
      const since = '2001-06-01T00:00:00.000Z';
      const until = '2001-07-01T00:00:00.000Z';
      const spent = (costMicros: number, inputTokens: number, outputTokens: number) => ({ costMicros, inputTokens, outputTokens });
      const runs: SpendRun[] = [
        { tenant: 'acme', principal: 'user:ada', task: 'answer', createdAt: since, tags: { project: 'search', team: 'core' }, spent: spent(500, 50, 5) },
        { tenant: 'globex', principal: 'user:bob', task: 'answer', createdAt: '2001-06-02T00:00:00.000Z', tags: { project: 'search' }, spent: spent(300, 30, 3) },
        { tenant: 'acme', principal: 'user:ada', task: 'rank', createdAt: '2001-06-03T00:00:00.000Z', tags: { project: 'ads' }, spent: spent(800, 80, 8) },
        // Another case is another value.
        { tenant: 'acme', principal: 'user:cy', task: 'rank', createdAt: '2001-06-04T00:00:00.000Z', tags: { project: 'Search' }, spent: spent(100, 10, 1) },
        // Without the project tag: a run with only another tag, one with none, one still running.
        { tenant: 'acme', principal: 'user:cy', task: 'answer', createdAt: '2001-06-05T00:00:00.000Z', tags: { team: 'core' }, spent: spent(200, 20, 2) },
        { tenant: 'initech', principal: 'user:dee', task: 'answer', createdAt: '2001-06-06T00:00:00.000Z', spent: spent(600, 60, 6) },
        { tenant: 'initech', principal: 'user:dee', task: 'answer', createdAt: '2001-06-30T23:59:59.999Z' },
        // Outside the period.
        { tenant: 'acme', principal: 'user:ada', task: 'answer', createdAt: until, tags: { project: 'search' }, spent: spent(10_000, 1_000, 100) },
        { tenant: 'acme', principal: 'user:ada', task: 'answer', createdAt: '2001-05-31T23:59:59.999Z', tags: { project: 'ads' }, spent: spent(20_000, 2_000, 200) },
      ];
      await Promise.all(runs.map((run) => createSpendRun(store, run)));
      const row = (group: string | null, runCount: number, costMicros: number, inputTokens: number, outputTokens: number): SpendRowV1 => ({ group, runs: runCount, costMicros, inputTokens, outputTokens });

      // Three groups cost 800: 'ads' before 'search' (code point order), the runs without the tag last.
      assert.deepEqual(await summarize({ since, until, by: 'tag', tag: 'project' }), [
        row('ads', 1, 800, 80, 8),
        row('search', 2, 800, 80, 8),
        row(null, 3, 800, 80, 8),
        row('Search', 1, 100, 10, 1),
      ]);
      assert.deepEqual(await summarize({ since, until, by: 'tag', tag: 'team' }), [row(null, 5, 1_800, 180, 18), row('core', 2, 700, 70, 7)]);
      // A tag no run has: every run of the period, once.
      assert.deepEqual(await summarize({ since, until, by: 'tag', tag: 'nobody.has-this_tag' }), [row(null, 7, 2_500, 250, 25)]);
      assert.deepEqual(await summarize({ since: '2001-06-02T00:00:00.000Z', until: '2001-06-04T00:00:00.000Z', by: 'tag', tag: 'project' }), [row('ads', 1, 800, 80, 8), row('search', 1, 300, 30, 3)]);

      const refused: [SpendQueryV1, RegExp][] = [
        [{ since, until, by: 'tag' }, /by tag needs the tag's name/],
        [{ since, until, by: 'tag', tag: 'bad name' }, /by tag needs the tag's name.*"bad name"/],
        [{ since, until, by: 'tag', tag: 'x'.repeat(65) }, /by tag needs the tag's name/],
        [{ since, until, by: 'tenant', tag: 'project' }, /tag "project" is for by tag only/],
      ];
      for (const [query, problem] of refused) {
        await assert.rejects(summarize(query), (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'usage-invalid', JSON.stringify(query));
          assert.match((error as Error).message, problem);
          return true;
        });
      }
    });

    test("retention deletes a run's tags with it: a run created after with its id (on SQLite, its key too) has none of them", async (context) => {
      const retention = store.retention;
      if (retention === undefined) {
        context.skip('this store has no retention (optional)');
        return;
      }
      const created = newRun({ status: 'running', tags: { project: 'gone' } });
      const id = created.run.id;
      await store.createRun(created);
      await store.append({ runId: id, records: [record(id, 2, 'run-end')], summary: { status: 'ok' } });
      assert.deepEqual(await retention.deleteEndedRuns([{ runId: id, lastSeq: 2 }]), [id]);
      assert.equal(await store.getRun(id), undefined);
      // The run just deleted was the newest: on SQLite this run takes its key (a rowid) as well as its id.
      await store.createRun(newRun({ id, status: 'queued' }));
      const again = await store.getRun(id);
      assert.equal(again?.status, 'queued');
      assert.equal(again?.tags, undefined);
    });

    test('memory: appends get increasing seqs per scope and read back in order, with afterSeq and limit', async () => {
      const scope = sessionScope();
      const written = [];
      for (const text of ['hello', 'héllo ✓ again', 'third']) written.push(await store.appendMemory(memoryEntry(scope, text)));
      assert.deepEqual(written.map((entry) => entry.seq), [1, 2, 3]);
      const read = await store.readMemory(scope);
      assert.deepEqual(read, written);
      assert.equal(read[1]?.text, 'héllo ✓ again');
      assert.deepEqual(read[0]?.labels, { classification: 'internal' });
      assert.deepEqual(read[0]?.source, { runId: 'run-memory', step: 3 });
      assert.equal(read[0]?.summarises, null);
      assert.deepEqual((await store.readMemory(scope, { afterSeq: 1 })).map((entry) => entry.text), ['héllo ✓ again', 'third']);
      assert.deepEqual((await store.readMemory(scope, { limit: 2 })).map((entry) => entry.seq), [1, 2]);
      const concurrent = await Promise.all(Array.from({ length: 10 }, (_, index) => store.appendMemory(memoryEntry(scope, `c${index}`))));
      assert.deepEqual(concurrent.map((entry) => entry.seq).sort((a, b) => a - b), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    });

    test('memory: scopes are isolated, across kinds, ids and tenants', async () => {
      const id = `shared-${randomUUID()}`;
      const scopes: MemoryScopeV1[] = [
        { kind: 'session', tenant: 'acme', sessionId: id },
        { kind: 'session', tenant: 'globex', sessionId: id },
        { kind: 'long-term', tenant: 'acme', principal: id },
        { kind: 'handoff', tenant: 'acme', handoffId: id },
        { kind: 'session', tenant: 'acme', sessionId: `${id}-other` },
      ];
      for (const scope of scopes) await store.appendMemory(memoryEntry(scope, `${scope.kind}:${scope.tenant}`));
      for (const scope of scopes) {
        const read = await store.readMemory(scope);
        assert.deepEqual(read.map((entry) => [entry.seq, entry.text]), [[1, `${scope.kind}:${scope.tenant}`]]);
        assert.deepEqual(read[0]?.scope, scope);
      }
      assert.deepEqual(await store.readMemory({ kind: 'long-term', tenant: 'globex', principal: id }), []);
      await expectCode(store.readMemory({ kind: 'session', tenant: '', sessionId: id }), 'config-invalid');
    });

    test('memory: a summary atomically replaces the entries up to a seq and keeps their provenance', async () => {
      const scope = sessionScope();
      const written = [];
      for (let index = 1; index <= 5; index += 1) {
        written.push(await store.appendMemory(memoryEntry(scope, `turn ${index}`, { source: { runId: 'run-a', step: index } })));
      }
      const summary = await store.replaceMemory(scope, {
        upToSeq: 3,
        summary: memoryEntry(scope, 'turns 1-3 in brief', { role: 'summary', source: { runId: 'run-b', step: 7 } }),
      });
      assert.equal(summary.seq, 3);
      assert.deepEqual(summary.source, { runId: 'run-b', step: 7 });
      assert.deepEqual(
        summary.summarises,
        written.slice(0, 3).map((entry) => ({ seq: entry.seq, contentHash: entry.contentHash, source: entry.source })),
      );
      const read = await store.readMemory(scope);
      assert.deepEqual(read.map((entry) => [entry.seq, entry.text]), [[3, 'turns 1-3 in brief'], [4, 'turn 4'], [5, 'turn 5']]);
      assert.deepEqual(read[0], summary);
      // Nothing left at or below seq 2: refused, and nothing changes.
      await expectCode(store.replaceMemory(scope, { upToSeq: 2, summary: memoryEntry(scope, 'again', { role: 'summary' }) }), 'journal-conflict');
      // A summary for another scope (another tenant, say) is refused and nothing changes.
      await expectCode(
        store.replaceMemory(scope, { upToSeq: 5, summary: memoryEntry({ ...scope, tenant: 'globex' }, 'wrong tenant', { role: 'summary' }) }),
        'config-invalid',
      );
      assert.deepEqual(await store.readMemory(scope), read);
      const next = await store.appendMemory(memoryEntry(scope, 'turn 6'));
      assert.equal(next.seq, 6);
      const whole = await store.replaceMemory(scope, { upToSeq: 6, summary: memoryEntry(scope, 'everything', { role: 'summary' }) });
      assert.equal(whole.seq, 6);
      assert.deepEqual(whole.summarises?.map((entry) => entry.seq), [3, 4, 5, 6]);
      assert.equal((await store.appendMemory(memoryEntry(scope, 'turn 7'))).seq, 7);
    });

    test('memory: concurrent appends during a summary are all kept', async () => {
      const scope = sessionScope();
      for (let index = 0; index < 4; index += 1) await store.appendMemory(memoryEntry(scope, `old ${index}`));
      const [summary, ...appended] = await Promise.all([
        store.replaceMemory(scope, { upToSeq: 4, summary: memoryEntry(scope, 'old, summarised', { role: 'summary' }) }),
        ...Array.from({ length: 5 }, (_, index) => store.appendMemory(memoryEntry(scope, `new ${index}`))),
      ]);
      const read = await store.readMemory(scope);
      assert.equal(read.filter((entry) => entry.role === 'summary').length, 1);
      assert.equal(summary.summarises?.length, 4);
      assert.deepEqual(read.filter((entry) => entry.text.startsWith('new')).map((entry) => entry.seq).sort((a, b) => a - b), appended.map((entry) => entry.seq).sort((a, b) => a - b));
      assert.equal(read.length, 6);
    });

    test('what was appended survives closing and reopening', async () => {
      const created = newRun();
      const id = created.run.id;
      await store.createRun(created);
      await store.append({ runId: id, records: [record(id, 2, 'step-end', { kept: true })], summary: { status: 'ok' } });
      store = await subject.reopen();
      subject.store = store;
      const journal = await store.readJournal(id);
      assert.deepEqual(journal.map((entry) => entry.type), ['run-start', 'step-end']);
      assert.equal((await store.getRun(id))?.status, 'ok');
    });

    test('memory survives closing and reopening', async () => {
      const scope: MemoryScopeV1 = { kind: 'long-term', tenant: 'acme', principal: `user:${randomUUID()}` };
      const first = await store.appendMemory(memoryEntry(scope, 'prefers email'));
      const second = await store.appendMemory(memoryEntry(scope, 'lives in Lisbon'));
      const summary = await store.replaceMemory(scope, { upToSeq: 1, summary: memoryEntry(scope, 'contact: email', { role: 'summary' }) });
      store = await subject.reopen();
      subject.store = store;
      assert.deepEqual(await store.readMemory(scope), [summary, second]);
      assert.equal(summary.summarises?.[0]?.contentHash, first.contentHash);
      assert.equal((await store.appendMemory(memoryEntry(scope, 'third'))).seq, 3);
    });
  });
}
