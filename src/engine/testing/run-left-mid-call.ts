import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EventData } from '../../journal/index.ts';
import { genesisHash, JournalWriter, sealEvent, toRecord } from '../../journal/index.ts';
import type { StoreV1 } from '../../spec/index.ts';

export interface RunLeftMidCall {
  runId: string;
  /** The run's own tenant scope, which holds its reservation. */
  scope: string;
  reservationId: string;
}

/**
 * Writes a run as a process that died mid-call leaves it: its model call started, its budget
 * reserved in the store's book under the run's own tenant scope (and the run, as the ledger
 * reserves) and journaled, no step-end, and the lease given back without the run ending.
 * `journalReservationId: false` journals the decision as journals did before the reservation id
 * was; `journalDecision: false` leaves it out, as a process killed before its pipelined batch was
 * flushed does; `bookRunId: false` reserves as books did before they kept the run.
 */
export async function leaveRunMidCall(
  store: StoreV1,
  options: {
    task: string;
    configHash: string;
    reserved: { micros: number; tokens: number };
    expiresInMs: number;
    journalReservationId?: boolean;
    journalDecision?: boolean;
    bookRunId?: boolean;
    /** The run's tenant; default a fresh one. */
    tenant?: string;
  },
): Promise<RunLeftMidCall> {
  const budgets = store.budgets;
  assert.ok(budgets !== undefined, 'the store keeps a budget book');
  const owner = 'worker-dead';
  const runId = `run_${randomUUID()}`;
  const tenant = options.tenant ?? `tenant-${randomUUID()}`;
  const scope = `tenant:${tenant}`;
  const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: options.task, taskVersion: '1', input: null, principal: 'user:test', tenant, configHash: options.configHash, config: null });
  await store.createRun({ run: { id: runId, task: options.task, taskVersion: '1', principal: 'user:test', tenant, status: 'queued' }, first: toRecord(first), lease: { owner, leaseMs: 60_000 } });
  const reservationId = randomUUID();
  const { reserved } = options;
  const request = { reservationId, limits: [{ key: scope, micros: 1_000_000, tokens: null }], amount: reserved, expiresInMs: options.expiresInMs };
  assert.deepEqual(await budgets.reserveBudget(options.bookRunId === false ? request : { ...request, runId }), { ok: true });
  const writer = new JournalWriter({ store, runId, lastSeq: first.seq, lastHash: first.hash, leaseOwner: owner });
  const decision: EventData['budget-decision'] = { step: 1, provider: 'openai', modelId: 'gpt-4o-mini', outcome: 'reserved', reservedMicros: reserved.micros, reservedTokens: reserved.tokens };
  if (options.journalReservationId !== false) decision.reservationId = reservationId;
  await writer.commit(
    [
      writer.build('run-resume', { worker: owner, attempt: 1, found: 'new' }),
      writer.build('step-start', { step: 1, name: 'chat', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }),
      ...(options.journalDecision === false ? [] : [writer.build('budget-decision', decision)]),
    ],
    { status: 'running' },
  );
  // Given back without the run ending: nobody holds it, so whoever ends it may take it.
  await store.releaseLease(runId, owner);
  return { runId, scope, reservationId };
}
