import { randomUUID } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import { applyEvent, canonicalJson, genesisHash, isTerminal, JournalWriter, loadRun, sealEvent, sha256, toRecord } from '../journal/index.ts';
import type { JsonValue, RunRecordV1, StopRequestV1, StoreV1 } from '../spec/index.ts';
import type { RunAbandoned } from './execute-run.ts';
import { executeRun } from './execute-run.ts';
import type { RunOutcome } from './run-outcome.ts';
import { summaryOf } from './run-context.ts';
import type { TaskDefinition } from './task.ts';
import { TaskCatalog } from './task-catalog.ts';
import { isDeadLocalOwner, newWorkerId } from './worker-identity.ts';

export interface EngineOptions {
  store: StoreV1;
  // Task definitions are invariant in their input type; the engine only passes JSON through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tasks: TaskDefinition<any, any>[];
  workerId?: string;
  /** How long a worker's claim on a run lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** Rollbacks allowed per execution before the run fails. Default 3. */
  maxRollbacks?: number;
}

export interface RunRequest {
  principal: string;
  tenant: string;
  runId?: string;
}

export interface WorkOptions {
  /** Runs executed at once by this worker. Default 8. */
  concurrency?: number;
  /** Wait between polls when the queue is empty. Default 200 ms. */
  pollMs?: number;
  /** Stop when nothing is claimable (true), or keep polling until `signal` aborts. */
  untilDrained?: boolean;
  signal?: AbortSignal;
  onSettled?: (result: RunOutcome | RunAbandoned) => void;
}

/** The durable run executor: opens runs, executes them under a lease, resumes what was interrupted. */
export class Engine {
  readonly store: StoreV1;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly tasks: TaskCatalog;
  readonly #maxRollbacks: number;
  readonly #shutdown = new AbortController();

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.workerId = options.workerId ?? newWorkerId();
    this.leaseMs = options.leaseMs ?? 30_000;
    this.#maxRollbacks = options.maxRollbacks ?? 3;
    this.tasks = new TaskCatalog(options.tasks);
  }

  /** Opens a run and executes it in this process to its end. */
  async start(taskName: string, input: JsonValue, request: RunRequest): Promise<RunOutcome> {
    const runId = await this.#create(taskName, input, request, true);
    const result = await this.#execute(runId);
    if ('abandoned' in result) throw new KeelError('lease-lost', `run ${runId} was not finished here: ${result.detail}`);
    return result;
  }

  /** Opens a run for any worker to pick up. */
  enqueue(taskName: string, input: JsonValue, request: RunRequest): Promise<string> {
    return this.#create(taskName, input, request, false);
  }

  /**
   * Resumes every non-terminal run it can claim. Leases held by processes on this machine that
   * have died are broken first, so a restart picks its own runs up at once.
   */
  async resumeAll(options: Omit<WorkOptions, 'untilDrained'> = {}): Promise<(RunOutcome | RunAbandoned)[]> {
    await this.reclaimFromDeadLocalWorkers();
    const settled: (RunOutcome | RunAbandoned)[] = [];
    await this.work({
      ...options,
      untilDrained: true,
      onSettled: (result) => {
        settled.push(result);
        options.onSettled?.(result);
      },
    });
    return settled;
  }

  async reclaimFromDeadLocalWorkers(): Promise<number> {
    let broken = 0;
    for (const run of await this.store.listRuns({ statuses: ['queued', 'running'], limit: 100_000 })) {
      if (run.leaseOwner !== null && isDeadLocalOwner(run.leaseOwner) && (await this.store.breakLease(run.id, run.leaseOwner))) broken += 1;
    }
    return broken;
  }

  /**
   * The worker loop: claim, execute with bounded concurrency, repeat. Only runs of served tasks
   * are claimed; a run this loop gave up on (its task or version could not be executed here) is
   * not claimed again by it, so a run no worker here can finish never keeps the loop busy.
   */
  async work(options: WorkOptions = {}): Promise<void> {
    const concurrency = options.concurrency ?? 8;
    const pollMs = options.pollMs ?? 200;
    const active = new Set<Promise<void>>();
    const givenUp = new Set<string>();
    const stopped = () => options.signal?.aborted === true || this.#shutdown.signal.aborted;
    while (!stopped()) {
      const free = concurrency - active.size;
      const claimed = free > 0 ? await this.#claim(free, givenUp) : [];
      for (const run of claimed) {
        const job = this.#execute(run.id).then(
          (result) => {
            if ('abandoned' in result && result.abandoned === 'task-unknown') givenUp.add(run.id);
            options.onSettled?.(result);
          },
          (error: unknown) => options.onSettled?.({ runId: run.id, abandoned: 'shutdown', detail: error instanceof Error ? error.message : String(error) }),
        );
        const tracked = job.finally(() => active.delete(tracked));
        active.add(tracked);
      }
      if (claimed.length > 0) continue;
      if (active.size === 0 && options.untilDrained === true) break;
      if (active.size > 0 && free === 0) await Promise.race(active);
      else if (active.size > 0) await Promise.race([...active, delay(pollMs)]);
      else await delay(pollMs);
    }
    await Promise.all(active);
  }

  /** Claims up to `limit` runs of served tasks, handing back at once any this loop gave up on. */
  async #claim(limit: number, givenUp: ReadonlySet<string>): Promise<RunRecordV1[]> {
    const tasks = this.tasks.names();
    if (tasks.length === 0) return [];
    // Asking for extra rows keeps runs given up on from filling every free slot.
    const claimed = await this.store.claimRuns({ owner: this.workerId, leaseMs: this.leaseMs, limit: limit + givenUp.size, tasks });
    const kept: RunRecordV1[] = [];
    for (const run of claimed) {
      if (givenUp.has(run.id) || kept.length >= limit) await this.store.releaseLease(run.id, this.workerId);
      else kept.push(run);
    }
    return kept;
  }

  /**
   * Records a person's decision on the approval a run is waiting for, then resumes the run here.
   * Fails with `run-not-waiting` when there is nothing to decide.
   */
  async decide(runId: string, decision: { decision: 'approve' | 'deny'; decider: string; reason?: string }): Promise<RunOutcome | RunAbandoned> {
    const claimed = await this.store.claimRun(runId, { owner: this.workerId, leaseMs: this.leaseMs, statuses: ['waiting'] });
    if (claimed === undefined) {
      const run = await this.store.getRun(runId);
      if (run === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
      throw new KeelError('run-not-waiting', `run ${runId} is ${run.status}${run.leaseOwner === null ? '' : ` (held by ${run.leaseOwner})`}, not waiting for a decision`);
    }
    try {
      const { state } = await loadRun(this.store, runId);
      const pending = state.pendingApproval;
      if (pending === undefined) throw new KeelError('run-not-waiting', `run ${runId} has no pending approval`);
      const writer = new JournalWriter({ store: this.store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, leaseOwner: this.workerId });
      const data = { decision: decision.decision, decider: decision.decider, requestId: pending.id, step: pending.step, ...(decision.reason === undefined ? {} : { reason: decision.reason }) };
      const event = writer.build('human-decision', data);
      applyEvent(state, event);
      await writer.commit([event], { status: state.status });
    } finally {
      await this.store.releaseLease(runId, this.workerId);
    }
    return this.resume(runId);
  }

  /** Claims this one run if it is runnable and unheld, and executes it from where it stands. */
  async resume(runId: string): Promise<RunOutcome | RunAbandoned> {
    const claimed = await this.store.claimRun(runId, { owner: this.workerId, leaseMs: this.leaseMs, statuses: ['queued', 'running'] });
    if (claimed === undefined) return { runId, abandoned: 'lease-lost', detail: `run ${runId} is not runnable here (in an end state, waiting, or held by another worker)` };
    return this.#execute(runId);
  }

  /**
   * Asks a run to stop and waits for it to end: a run nobody is executing is ended here; a run a
   * live worker holds is halted by that worker at its next safe point (its heartbeat sees the
   * request within a second). Journaled as a human decision; the run ends `failed` ("stopped").
   */
  async stop(runId: string, request: { by: string; reason: string }, waitMs = 2_000): Promise<RunRecordV1> {
    // A run that has already ended is not asked to stop: the request would be a false record.
    const before = await this.store.getRun(runId);
    if (before === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
    if (isTerminal(before.status)) return before;
    const requested = await this.store.requestStop(runId, request);
    if (requested === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
    if (isTerminal(requested.status)) return requested;
    if (requested.leaseOwner !== null && isDeadLocalOwner(requested.leaseOwner)) await this.store.breakLease(runId, requested.leaseOwner);
    const claimed = await this.store.claimRun(runId, { owner: this.workerId, leaseMs: this.leaseMs, statuses: ['queued', 'running', 'waiting'] });
    if (claimed !== undefined) await this.#endStopped(runId, requested.stopRequested ?? request);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const run = await this.store.getRun(runId);
      if (run === undefined || isTerminal(run.status) || Date.now() >= deadline) return run ?? requested;
      await delay(50);
    }
  }

  /**
   * Ends a run nobody is executing as stopped, with this worker's lease. Its task's code is not
   * needed to stop it, so runs of tasks this process does not serve stop too.
   */
  async #endStopped(runId: string, request: StopRequestV1): Promise<void> {
    try {
      const { state } = await loadRun(this.store, runId);
      if (isTerminal(state.status)) return;
      const writer = new JournalWriter({ store: this.store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, leaseOwner: this.workerId });
      const reason = `stopped by ${request.by}: ${request.reason}`;
      const events = [
        writer.build('human-decision', { decision: 'stop', decider: request.by, reason: request.reason }),
        writer.build('run-end', { status: 'failed', reason, error: { code: 'run-stopped', message: reason, retryable: false } }),
      ];
      for (const event of events) applyEvent(state, event);
      await writer.commit(events, summaryOf(state));
    } finally {
      await this.store.releaseLease(runId, this.workerId);
    }
  }

  /** Stops claiming and aborts running steps; their runs stay non-terminal and resume elsewhere. */
  shutdown(): void {
    this.#shutdown.abort();
  }

  #execute(runId: string): Promise<RunOutcome | RunAbandoned> {
    return executeRun({
      store: this.store,
      runId,
      tasks: this.tasks,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      maxRollbacks: this.#maxRollbacks,
      shutdown: this.#shutdown.signal,
    });
  }

  async #create(taskName: string, input: JsonValue, request: RunRequest, leased: boolean): Promise<string> {
    const task = this.tasks.current(taskName);
    const runId = request.runId ?? `run_${randomUUID()}`;
    const config = { task: task.name, version: task.version, config: task.config ?? null };
    const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', {
      task: task.name,
      taskVersion: task.version,
      input,
      principal: request.principal,
      tenant: request.tenant,
      configHash: sha256(canonicalJson(config)),
      config,
    });
    await this.store.createRun({
      run: { id: runId, task: task.name, taskVersion: task.version, principal: request.principal, tenant: request.tenant, status: 'queued' },
      first: toRecord(first),
      ...(leased ? { lease: { owner: this.workerId, leaseMs: this.leaseMs } } : {}),
    });
    return runId;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
