import { KeelError, toErrorData } from '../errors/index.ts';
import type { ConfidenceMarker, EventData, RunState } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { applyEvent, isTerminal, JournalWriter, lastVerifiedCheckpoint, loadRun } from '../journal/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { DurableRunContext, summaryOf } from './run-context.ts';
import type { RunOutcome } from './run-outcome.ts';
import { outcomeOf } from './run-outcome.ts';
import { EscalationSignal, RollbackSignal } from './signals.ts';
import type { TaskDefinition } from './task.ts';

export interface ExecuteRunOptions {
  store: StoreV1;
  runId: string;
  /** Resolves the task a run names; undefined when this process does not serve it. */
  taskFor: (name: string) => TaskDefinition | undefined;
  workerId: string;
  leaseMs: number;
  maxRollbacks: number;
  /** Aborts the run's steps when the engine shuts down. */
  shutdown: AbortSignal;
}

/** The run was not finished here: its lease was lost, or this process does not serve its task. */
export interface RunAbandoned {
  runId: string;
  abandoned: 'lease-lost' | 'task-unknown' | 'shutdown';
  detail: string;
}

/**
 * Executes a run this worker has leased, from wherever its journal left off, to a terminal state.
 * The lease is renewed while it runs; every append is fenced by it, so a worker that lost its
 * lease cannot write another event.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunOutcome | RunAbandoned> {
  const { store, runId, workerId } = options;
  try {
    const { state } = await loadRun(store, runId);
    const finished = outcomeOf(state);
    if (finished !== undefined || isTerminal(state.status)) return finished ?? abandoned(runId, 'task-unknown', 'terminal run without run-end');
    const task = options.taskFor(state.task);
    if (task === undefined) return abandoned(runId, 'task-unknown', `this process does not serve task ${state.task}; left for a worker that does`);
    return await drive(options, task, state);
  } finally {
    await store.releaseLease(runId, workerId).catch(() => undefined);
  }
}

async function drive(options: ExecuteRunOptions, task: TaskDefinition, state: RunState): Promise<RunOutcome | RunAbandoned> {
  const { store, runId, workerId, leaseMs } = options;
  const lease = new AbortController();
  const stop = AbortSignal.any([lease.signal, options.shutdown]);
  const heartbeat = setInterval(() => {
    store.renewLease(runId, workerId, leaseMs).then(
      (held) => {
        if (!held) lease.abort();
      },
      () => lease.abort(),
    );
  }, Math.max(50, Math.floor(leaseMs / 3)));
  heartbeat.unref();
  const writer = new JournalWriter({ store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, leaseOwner: workerId });
  const commit = async <Type extends 'run-resume' | 'rollback' | 'run-end'>(type: Type, data: EventData[Type]) => {
    const event = writer.build(type, data);
    applyEvent(state, event);
    await writer.commit([event], summaryOf(state));
  };
  try {
    await commit('run-resume', { worker: workerId, attempt: state.attempts + 1, found: state.attempts === 0 ? 'new' : 'interrupted' });
    if (task.version !== state.taskVersion) {
      await commit('run-end', {
        status: 'failed',
        reason: `run was recorded by task ${task.name} version ${state.taskVersion}, but this process serves version ${task.version}; replaying it could diverge`,
        error: { code: 'replay-divergence', message: `task version ${task.version} cannot resume a run of version ${state.taskVersion}`, retryable: false },
      });
      return outcomeOf(state) as RunOutcome;
    }
    let rollbacks = 0;
    const deadline = task.deadlineMs === undefined ? undefined : AbortSignal.timeout(Math.max(0, Date.parse(state.startedAt) + task.deadlineMs - Date.now()));
    for (;;) {
      const context = new DurableRunContext(deadline === undefined ? { state, writer, signal: stop } : { state, writer, signal: stop, deadline });
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
        } else if (stop.aborted || (error instanceof KeelError && error.code === 'lease-lost')) {
          return abandoned(runId, options.shutdown.aborted ? 'shutdown' : 'lease-lost', error instanceof Error ? error.message : String(error));
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
    clearInterval(heartbeat);
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
