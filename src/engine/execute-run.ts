import { KeelError, toErrorData } from '../errors/index.ts';
import type { ConfidenceMarker, EventData, JournalEvent, RunState } from '../journal/index.ts';
import type { JsonValue, StopRequestV1 } from '../spec/index.ts';
import { applyEvent, foldEvents, isTerminal, JournalWriter, lastVerifiedCheckpoint, loadRun } from '../journal/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { openSealedFieldsIn, RunSealer } from '../redaction/index.ts';
import { LeaseHeartbeat } from './lease-heartbeat.ts';
import { billLeftReservations } from './left-reservations.ts';
import { DurableRunContext, summaryOf } from './run-context.ts';
import { RunDeadline, workingTimeMs } from './run-deadline.ts';
import type { RunOutcome } from './run-outcome.ts';
import { stopEvents, stoppedCalls } from './stop-events.ts';
import { outcomeOf } from './run-outcome.ts';
import { EscalationSignal, RollbackSignal, SuspendSignal } from './signals.ts';
import type { TaskDefinition } from './task.ts';
import type { TaskCatalog } from './task-catalog.ts';
import { taskConfigHash } from './task-config-hash.ts';
import { storeOutageOf } from './store-outage.ts';

export interface ExecuteRunOptions {
  store: StoreV1;
  runId: string;
  tasks: TaskCatalog;
  workerId: string;
  leaseMs: number;
  /** `performance.now()` when the request that took this run's lease was sent (lease-heartbeat.ts). */
  leasedAt: number;
  maxRollbacks: number;
  /** Aborts the run's steps when the engine shuts down. */
  shutdown: AbortSignal;
  /**
   * The run-start event of a run this process has just opened to execute at once (Engine.start),
   * leased from its creation: its journal is that one event, so it is not read back. `stored` is
   * its creation, still pending: the run's resume is issued behind it, to commit in the same group.
   */
  created?: { event: JournalEvent; stored: Promise<void> };
}

/** The run was not finished here: its lease was lost, or this process does not serve its task. */
export interface RunAbandoned {
  runId: string;
  abandoned: 'lease-lost' | 'task-unknown' | 'shutdown' | 'config-changed' | 'store-unavailable';
  detail: string;
}

/**
 * Executes a run this worker has leased, from wherever its journal left off, to a terminal state.
 * The lease is renewed while it runs; every append is fenced by it, so a worker that lost its
 * lease cannot write another event.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunOutcome | RunAbandoned> {
  const { store, runId, workerId } = options;
  const creation = options.created?.stored;
  // Observed here, so a return before the resume awaits it cannot leave its failure unhandled.
  creation?.catch(() => undefined);
  let leaseHandedBack = false;
  try {
    // The run goes on with its sealed fields opened: a resumed step returns what it returned.
    let stored: readonly JournalEvent[] = [];
    const { state, events } =
      options.created === undefined
        ? await loadRun(store, runId, {
            open: (loaded) => {
              stored = loaded;
              return openSealedFieldsIn(store, loaded);
            },
          })
        : freshRun((stored = [options.created.event]));
    const finished = outcomeOf(state);
    // A run given up before its resume must still have been created: else its creation's failure is the answer.
    if (isTerminal(state.status) || !options.tasks.serves(state.task)) await creation;
    if (isTerminal(state.status)) return finished ?? abandoned(runId, 'task-unknown', 'terminal run without run-end');
    if (!options.tasks.serves(state.task)) return abandoned(runId, 'task-unknown', `this process does not serve task ${state.task}; left for a worker that does`);
    const task = options.tasks.find(state.task, state.taskVersion);
    // A run continues only under the configuration it started with (prompt, model, tools, limits,
    // config file): anything else would finish it as a different agent than the journal says. A run
    // created here a moment ago carries the hash of this very definition: it is not hashed again.
    if (task !== undefined && options.created === undefined && taskConfigHash(task) !== state.configHash) {
      return abandoned(
        runId,
        'config-changed',
        `run ${runId} started ${state.task}@${state.taskVersion} under configuration ${state.configHash.slice(0, 12)}, but this process serves it with ${taskConfigHash(task).slice(0, 12)} ` +
          '(a changed prompt, model, tool, limit or config file): continue it with the configuration it started with, or give the changed task a new version; the run is left as it is',
      );
    }
    const outcome = await drive(options, task, state, events, stored);
    // Ended here: the append of its end cleared the lease in the same transaction (lease-handback.ts),
    // so no release, a write of its own, stands between the run's end and its caller.
    leaseHandedBack = !('abandoned' in outcome) && isTerminal(outcome.status);
    return outcome;
  } finally {
    if (!leaseHandedBack) await store.releaseLease(runId, workerId).catch(() => undefined);
  }
}

/** The state of a run whose journal is its run-start alone, as loadRun would fold it (nothing sealed in it). */
function freshRun(events: JournalEvent[]): { state: RunState; events: readonly JournalEvent[] } {
  return { state: foldEvents(events), events };
}

async function drive(options: ExecuteRunOptions, task: TaskDefinition | undefined, state: RunState, events: readonly JournalEvent[], stored: readonly JournalEvent[]): Promise<RunOutcome | RunAbandoned> {
  const { store, runId, workerId, leaseMs } = options;
  const lease = new AbortController();
  const halt = new AbortController();
  const stop = AbortSignal.any([lease.signal, options.shutdown, halt.signal]);
  // A run opened here a moment ago has no stop request yet; one made from now on reaches the heartbeat.
  let stopRequest: StopRequestV1 | null = options.created === undefined ? ((await store.getRun(runId))?.stopRequested ?? null) : null;
  // Renewing the lease is also how a stop request reaches the worker: often enough to halt
  // within a couple of seconds, whatever the lease length.
  const heartbeat = new LeaseHeartbeat({
    store,
    runId,
    owner: workerId,
    leaseMs,
    leasedAt: options.leasedAt,
    onLost: (reason) => lease.abort(new KeelError('lease-lost', reason)),
    onStopRequested: (request) => {
      if (stopRequest !== null) return;
      stopRequest = request;
      // The reason tells a model call cut short that a person stopped the run (governed-model.ts bills it).
      halt.abort(new KeelError('run-stopped', `stopped by ${request.by}: ${request.reason}`));
    },
  });
  heartbeat.start();
  // Its subjects come from the stored (sealed) form: a resumed run goes on sealing what it sealed.
  const sealer = await RunSealer.forRun(store, stored);
  const writer = new JournalWriter({ store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, leaseOwner: workerId, ...(sealer === undefined ? {} : { seal: (type, data) => sealer.seal(type, data) }) });
  const commit = async <Type extends 'run-resume' | 'rollback' | 'run-end' | 'human-decision'>(type: Type, data: EventData[Type], deferSync = false) => {
    const event = writer.build(type, data);
    applyEvent(state, writer.readable(event));
    await writer.commit([event], summaryOf(state), { deferSync });
  };
  // Taken over: the run was executed before, by a process that is gone (it died, or gave the run
  // up), which may have left reservations its journal does not bill (left-reservations.ts).
  const takenOver = options.created === undefined && state.attempts > 0 ? `the process that executed attempt ${state.attempts} is gone` : undefined;
  // One append: the decision alone would leave a queued run queued, which hands its lease back.
  // A model call the stop cut short ends first, billed what the budget book booked for it.
  const endStopped = async (request: StopRequestV1, takenOverFrom?: string) => {
    const cutShort = await stoppedCalls(store, writer, state, request, takenOverFrom);
    const events = stopEvents(writer, request, cutShort.events);
    for (const event of events) applyEvent(state, event);
    await writer.commit(events, summaryOf(state));
    return outcomeOf(state) as RunOutcome;
  };
  let runDeadline: RunDeadline | undefined;
  try {
    if (stopRequest !== null) return await endStopped(stopRequest, takenOver);
    // A run this process opened to execute at once has done nothing yet that must be on disk: like
    // its creation, its resume is committed (a killed process leaves it) without an fdatasync of its
    // own, and the run's next write that waits (a reservation, a side effect's start, its end) covers it.
    const fresh = state.attempts === 0 && options.created !== undefined;
    const resume = writer.build('run-resume', { worker: workerId, attempt: state.attempts + 1, found: state.attempts === 0 ? 'new' : 'interrupted' });
    // What the process before left unbilled is billed in the same append, before this execution
    // reserves anything (so none of its own reservations is among them); each hold was settled in
    // the book before its bill was built (left-reservations.ts), so the bill is what the book booked.
    const left = takenOver === undefined ? undefined : await billLeftReservations({ runId, events, writer, budgets: store.budgets, why: takenOver });
    const taking = [resume, ...(left?.events ?? [])];
    for (const event of taking) applyEvent(state, writer.readable(event));
    const resumed = writer.commit(taking, summaryOf(state), { deferSync: fresh });
    if (options.created !== undefined) {
      // A creation the store refused (the run exists) is the failure to report, not the resume's.
      resumed.catch(() => undefined);
      await options.created.stored;
    }
    await resumed;
    if (task === undefined) {
      const served = options.tasks.versionsOf(state.task).join(', ');
      await commit('run-end', {
        status: 'failed',
        reason: `run was recorded by task ${state.task} version ${state.taskVersion}, but this process serves version ${served}; replaying it could diverge`,
        error: { code: 'replay-divergence', message: `no code for ${state.task} version ${state.taskVersion} (served: ${served})`, retryable: false },
      });
      return outcomeOf(state) as RunOutcome;
    }
    let rollbacks = 0;
    // The deadline limits the run's working time: waits for a person's decision do not count.
    runDeadline = task.deadlineMs === undefined ? undefined : new RunDeadline(task.deadlineMs, workingTimeMs(events, Date.now()));
    const deadline = runDeadline?.signal;
    for (;;) {
      const context = new DurableRunContext({ state, writer, signal: stop, ...(deadline === undefined ? {} : { deadline }), ...(sealer === undefined ? {} : { sealer }) });
      let end: EventData['run-end'];
      try {
        const output = await task.run(context, state.input);
        end = context.confidence.length > 0 ? { status: 'degraded', output, confidence: context.confidence, reason: 'output carries confidence markers' } : { status: 'ok', output };
      } catch (error) {
        if (error instanceof RollbackSignal) {
          const checkpoint = lastVerifiedCheckpoint(state);
          if (checkpoint !== undefined && rollbacks < options.maxRollbacks) {
            rollbacks += 1;
            await commit('rollback', { checkpointSeq: checkpoint.seq, label: checkpoint.label, afterStep: checkpoint.afterStep, epoch: state.epoch + 1, reason: error.reason });
            continue;
          }
          const why = checkpoint === undefined ? 'there is no verified checkpoint to return to' : `it already rolled back ${rollbacks} times`;
          end = { status: 'failed', reason: `rollback requested (${error.reason}) but ${why}`, error: { code: checkpoint === undefined ? 'checkpoint-missing' : 'checkpoint-unverified', message: why, retryable: false } };
        } else if (error instanceof EscalationSignal) {
          end = { status: 'escalated', reason: error.reason, error: { code: error.code, message: error.reason, retryable: false } };
        } else if (error instanceof SuspendSignal) {
          // Parked for a person: the approval request is journaled; the lease is released below.
          await writer.settle();
          return outcomeOf(state) as RunOutcome;
        } else if (stopRequest !== null && !lease.signal.aborted) {
          await writer.settle().catch(() => undefined);
          return await endStopped(stopRequest);
        } else if (stop.aborted || (error instanceof KeelError && error.code === 'lease-lost')) {
          const why: unknown = lease.signal.aborted ? lease.signal.reason : error;
          return abandoned(runId, options.shutdown.aborted ? 'shutdown' : 'lease-lost', why instanceof Error ? why.message : String(why));
        } else if (storeOutageOf(error) !== undefined) {
          // The store could not be reached mid-run (a reservation, a settlement, a memory read): the
          // task did nothing wrong and its journal is intact, so the run is not ended over an
          // outage. It stays as it is and resumes from its journal once its lease lapses.
          return abandoned(runId, 'store-unavailable', storeOutageOf(error)?.message ?? 'the store is unavailable');
        } else if (error instanceof KeelError && error.code === 'budget-exceeded') {
          end = budgetEnding(error, context.partialOutput, context.confidence);
        } else if (deadline?.aborted === true) {
          const reason = `deadline of ${task.deadlineMs} ms exceeded`;
          end = { status: 'failed', reason, error: { code: 'deadline-exceeded', message: `${reason}: ${error instanceof Error ? error.message : String(error)}`, retryable: false } };
        } else {
          const data = toErrorData(error);
          end = { status: 'failed', reason: data.message, error: data };
        }
      }
      if (context.confidence.length > 0 && end.status !== 'ok' && end.confidence === undefined) end.confidence = context.confidence;
      await commit('run-end', end);
      return outcomeOf(state) as RunOutcome;
    }
  } catch (error) {
    if (error instanceof KeelError && error.code === 'lease-lost') return abandoned(runId, 'lease-lost', error.message);
    throw error;
  } finally {
    runDeadline?.clear();
    heartbeat.stop();
    // Land what was pipelined while the lease is still ours; a failure here was already reported.
    await writer.settle().catch(() => undefined);
  }
}

/**
 * A budget ran out. Under a `stop` contract the run returns what it has, marked degraded; with
 * nothing to return, or under `escalate`, a person decides. Never an empty `ok`.
 */
function budgetEnding(error: KeelError, partial: JsonValue | undefined, confidence: ConfidenceMarker[]): EventData['run-end'] {
  const contract = error.details?.contract === 'escalate' ? 'escalate' : 'stop';
  const data = error.toData();
  if (contract === 'stop' && partial !== undefined) {
    return {
      status: 'degraded',
      reason: `stopped early: ${error.message}`,
      output: partial,
      error: data,
      confidence: [...confidence, { subject: 'completeness', confidence: 0, reason: `the run stopped when its budget ran out (${error.message}); the output is partial` }],
    };
  }
  return { status: 'escalated', reason: `budget exhausted: ${error.message}${contract === 'stop' ? ' (no partial output to return)' : ''}`, error: data };
}

function abandoned(runId: string, reason: RunAbandoned['abandoned'], detail: string): RunAbandoned {
  return { runId, abandoned: reason, detail };
}
