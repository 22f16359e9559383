import { randomUUID } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { applyEvent, genesisHash, isTerminal, JournalWriter, loadRun, parseEvent, sealEvent, toRecord } from '../journal/index.ts';
import type { JsonValue, RunRecordV1, StopRequestV1, StoreV1 } from '../spec/index.ts';
import type { RunAbandoned } from './execute-run.ts';
import { executeRun } from './execute-run.ts';
import type { RunOutcome } from './run-outcome.ts';
import { stopEvents, stoppedCalls } from './stop-events.ts';
import { summaryOf } from './run-context.ts';
import type { TaskDefinition } from './task.ts';
import { TaskCatalog } from './task-catalog.ts';
import { configurationHash, taskConfiguration } from './task-config-hash.ts';
import { LocalWorkerRegistry } from './local-worker-registry.ts';
import type { LocalRegistration } from './local-worker-registry.ts';
import { newWorkerId } from './worker-identity.ts';

export interface EngineOptions {
  store: StoreV1;
  // Task definitions are invariant in their input type; the engine only passes JSON through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tasks: TaskDefinition<any, any>[];
  /** Must be unique to this engine; default a fresh random id (worker-identity.ts). */
  workerId?: string;
  /**
   * This machine's registry of live workers, through which a dead local worker's leases are taken
   * over at once; `false` leaves takeovers to lease expiry alone. Default: the per-user registry.
   */
  workerRegistry?: LocalWorkerRegistry | false;
  /** How long a worker's claim on a run lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** Rollbacks allowed per execution before the run fails. Default 3. */
  maxRollbacks?: number;
  /**
   * Called when a run executed here ends or parks waiting, its last event durable (the audit log
   * anchors it then). Awaited, but its failure never fails the run.
   */
  afterRun?: (runId: string) => Promise<unknown>;
}

export interface RunRequest {
  principal: string;
  tenant: string;
  runId?: string;
  /** Tags the run carries for its life (RunRecordV1.tags: project, feature, team); the store refuses bad ones. */
  tags?: Record<string, string>;
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
  readonly #afterRun: ((runId: string) => Promise<unknown>) | undefined;
  readonly #shutdown = new AbortController();
  readonly #registry: LocalWorkerRegistry | undefined;
  #registration: Promise<LocalRegistration | undefined> | undefined;
  /** Lease-taking calls in flight and runs executing: while any, this worker may hold leases. */
  #leaseWork = 0;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.workerId = options.workerId ?? newWorkerId();
    this.leaseMs = options.leaseMs ?? 30_000;
    this.#maxRollbacks = options.maxRollbacks ?? 3;
    this.#afterRun = options.afterRun;
    this.tasks = new TaskCatalog(options.tasks);
    this.#registry = options.workerRegistry === false ? undefined : (options.workerRegistry ?? new LocalWorkerRegistry());
  }

  /** Opens a run and executes it in this process to its end. */
  async start(taskName: string, input: JsonValue, request: RunRequest): Promise<RunOutcome> {
    const result = await this.#leasing(async () => {
      const leasedAt = performance.now();
      // Not awaited: the run's resume is issued while its creation is still queued, and the store,
      // which applies a process's writes in the order issued, commits both in one group.
      const created = this.#create(taskName, input, request, true);
      return this.#execute(created.runId, leasedAt, { event: created.first, stored: created.stored });
    });
    if ('abandoned' in result) throw new KeelError(result.abandoned === 'store-unavailable' ? 'db-unavailable' : 'lease-lost', `run ${result.runId} was not finished here: ${result.detail}`);
    return result;
  }

  /** Opens a run for any worker to pick up. */
  async enqueue(taskName: string, input: JsonValue, request: RunRequest): Promise<string> {
    const created = this.#create(taskName, input, request, false);
    await created.stored;
    return created.runId;
  }

  /**
   * Resumes every non-terminal run it can claim. Leases held by workers registered on this machine
   * whose processes have died are broken first, so a restart picks its own runs up at once; every
   * other lease is left to expire.
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

  /**
   * Breaks the leases of workers that registered on this machine and whose processes have ended
   * (local-worker-registry.ts); returns how many. Owners not registered here are never judged.
   */
  async reclaimFromDeadLocalWorkers(): Promise<number> {
    const registry = this.#registry;
    if (registry === undefined) return 0;
    const verdicts = new Map<string, Promise<boolean>>();
    let broken = 0;
    for (const run of await this.store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 100_000 })) {
      const owner = run.leaseOwner;
      if (owner === null || owner === this.workerId) continue;
      if (!verdicts.has(owner)) verdicts.set(owner, registry.isDead(owner));
      // Compare-and-clear: a lease that changed hands since the listing is left alone.
      if ((await verdicts.get(owner)) === true && (await this.store.breakLease(run.id, owner))) broken += 1;
    }
    for (const [owner, dead] of verdicts) if (await dead) registry.forget(owner);
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
    // Runs whose execution failed on the store (it stopped answering, e.g. a database restart):
    // their lease could not be handed back then, so it is once the store answers again, and any
    // worker goes on with them at once instead of after the lease expires.
    const unreleased = new Set<string>();
    const stopped = () => options.signal?.aborted === true || this.#shutdown.signal.aborted;
    while (!stopped()) {
      for (const runId of unreleased) {
        try {
          await this.store.releaseLease(runId, this.workerId);
          unreleased.delete(runId);
        } catch {
          break;
        }
      }
      const free = concurrency - active.size;
      let claimed: { id: string; leasedAt: number }[] = [];
      try {
        if (free > 0) claimed = await this.#claim(free, givenUp);
      } catch (error) {
        // The store did not answer for a moment (a database restart): claiming resumes when it
        // does, after the usual wait below. Anything that is not transient stops the worker.
        if (!(error instanceof KeelError && error.isRetryable)) throw error;
      }
      for (const run of claimed) {
        const job = this.#execute(run.id, run.leasedAt).then(
          (result) => {
            // Neither changes while this loop runs: claiming such a run again would only give it up again.
            if ('abandoned' in result && (result.abandoned === 'task-unknown' || result.abandoned === 'config-changed')) givenUp.add(run.id);
            // Given up over a store outage: its lease is handed back once the store answers (above).
            if ('abandoned' in result && result.abandoned === 'store-unavailable') unreleased.add(run.id);
            options.onSettled?.(result);
          },
          (error: unknown) => {
            unreleased.add(run.id);
            options.onSettled?.({ runId: run.id, abandoned: 'shutdown', detail: error instanceof Error ? error.message : String(error) });
          },
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
  async #claim(limit: number, givenUp: ReadonlySet<string>): Promise<{ id: string; leasedAt: number }[]> {
    const tasks = this.tasks.names();
    if (tasks.length === 0) return [];
    return this.#leasing(async () => {
      const leasedAt = performance.now();
      // Asking for extra rows keeps runs given up on from filling every free slot.
      const claimed = await this.store.claimRuns({ owner: this.workerId, leaseMs: this.leaseMs, limit: limit + givenUp.size, tasks });
      const kept: { id: string; leasedAt: number }[] = [];
      for (const run of claimed) {
        if (givenUp.has(run.id) || kept.length >= limit) await this.store.releaseLease(run.id, this.workerId);
        else kept.push({ id: run.id, leasedAt });
      }
      return kept;
    });
  }

  /**
   * Records a person's decision on the approval a run is waiting for, then resumes the run here.
   * Fails with `run-not-waiting` when there is nothing to decide.
   *
   * A waiting run has no executor, so no lease is taken to decide it: a lease left on it (by a
   * worker that died) protects nothing and does not stand in the way. The decision is ordered by
   * the journal instead: it is appended after the exact event it was read from, so of two people
   * deciding at once exactly one is recorded. The append leaves the run queued, which clears any
   * lease left on it (src/spec/store-v1.ts), and the run resumes here or on any worker.
   */
  async decide(runId: string, decision: { decision: 'approve' | 'deny'; decider: string; reason?: string }): Promise<RunOutcome | RunAbandoned> {
    if ((await this.store.getRun(runId)) === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
    const { state } = await loadRun(this.store, runId);
    const pending = state.pendingApproval;
    if (state.status !== 'waiting' || pending === undefined) throw new KeelError('run-not-waiting', `run ${runId} is ${state.status}, not waiting for a decision`);
    const writer = new JournalWriter({ store: this.store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash });
    const data = { decision: decision.decision, decider: decision.decider, requestId: pending.id, step: pending.step, ...(decision.reason === undefined ? {} : { reason: decision.reason }) };
    const event = writer.build('human-decision', data);
    applyEvent(state, event);
    try {
      await writer.commit([event], { status: state.status });
    } catch (error) {
      if (!(error instanceof KeelError && error.code === 'journal-conflict')) throw error;
      const now = await this.store.getRun(runId);
      throw new KeelError('run-not-waiting', `run ${runId} changed while this decision was recorded (decided or stopped by someone else); it is ${now?.status ?? 'gone'}`);
    }
    return this.resume(runId);
  }

  /** Claims this one run if it is runnable and unheld, and executes it from where it stands. */
  async resume(runId: string): Promise<RunOutcome | RunAbandoned> {
    return this.#leasing(async () => {
      const leasedAt = performance.now();
      const claimed = await this.store.claimRun(runId, { owner: this.workerId, leaseMs: this.leaseMs, statuses: ['queued', 'running'] });
      if (claimed === undefined) return { runId, abandoned: 'lease-lost', detail: `run ${runId} is not runnable here (in an end state, waiting, or held by another worker)` };
      return this.#execute(runId, leasedAt);
    });
  }

  /**
   * Asks a run to stop and waits for it to end: a run nobody is executing is ended here; a run a
   * live worker holds is halted by that worker at its next safe point (its heartbeat sees the
   * request within a second). A waiting run is ended here whatever lease is left on it, ordered by
   * the journal like a decision (see `decide`). Journaled as a human decision; the run ends
   * `failed` ("stopped").
   */
  async stop(runId: string, request: { by: string; reason: string }, waitMs = 2_000): Promise<RunRecordV1> {
    // A run that has already ended is not asked to stop: the request would be a false record.
    const before = await this.store.getRun(runId);
    if (before === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
    if (isTerminal(before.status)) return before;
    const requested = await this.store.requestStop(runId, request);
    if (requested === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${this.store.location}`);
    if (isTerminal(requested.status)) return requested;
    const stopRequest = requested.stopRequested ?? request;
    if (requested.status === 'waiting') {
      await this.#endStopped(runId, stopRequest, undefined);
    } else {
      const owner = requested.leaseOwner;
      if (owner !== null && owner !== this.workerId && this.#registry !== undefined && (await this.#registry.isDead(owner))) await this.store.breakLease(runId, owner);
      await this.#leasing(async () => {
        const claimed = await this.store.claimRun(runId, { owner: this.workerId, leaseMs: this.leaseMs, statuses: ['queued', 'running'] });
        if (claimed !== undefined) await this.#endStopped(runId, stopRequest, this.workerId);
      });
    }
    const deadline = Date.now() + waitMs;
    for (;;) {
      const run = await this.store.getRun(runId);
      if (run === undefined || isTerminal(run.status) || Date.now() >= deadline) return run ?? requested;
      await delay(50);
    }
  }

  /**
   * Ends a run nobody is executing as stopped: with this worker's lease (`leaseOwner`), or, for a
   * waiting run, with none, appended after the journal's last event so it cannot cross a decision.
   * Its task's code is not needed to stop it, so runs of tasks this process does not serve stop too.
   * A run that moved on meanwhile is left to the worker executing it, which sees the stop request.
   */
  async #endStopped(runId: string, request: StopRequestV1, leaseOwner: string | undefined): Promise<void> {
    try {
      const { state } = await loadRun(this.store, runId);
      if (isTerminal(state.status) || (leaseOwner === undefined && state.status !== 'waiting')) return;
      const writer = new JournalWriter({ store: this.store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, ...(leaseOwner === undefined ? {} : { leaseOwner }) });
      // A run taken from a process that died mid-call has a model call nobody will end: it ends here,
      // billed what the budget book booked for it, as the executor's own stop does; and so is every
      // other reservation the process left that its journal does not bill (left-reservations.ts).
      const cutShort = leaseOwner === undefined ? undefined : await stoppedCalls(this.store, writer, state, request, 'the process executing it is gone');
      const events = stopEvents(writer, request, cutShort?.events);
      for (const event of events) applyEvent(state, event);
      await writer.commit(events, summaryOf(state));
    } catch (error) {
      if (!(leaseOwner === undefined && error instanceof KeelError && error.code === 'journal-conflict')) throw error;
    } finally {
      if (leaseOwner !== undefined) await this.store.releaseLease(runId, leaseOwner);
    }
  }

  /** Stops claiming and aborts running steps; their runs stay non-terminal and resume elsewhere. */
  shutdown(): void {
    this.#shutdown.abort();
  }

  #execute(runId: string, leasedAt: number, created?: { event: JournalEvent; stored: Promise<void> }): Promise<RunOutcome | RunAbandoned> {
    return this.#leasing(async () => {
      const result = await executeRun({
        store: this.store,
        runId,
        tasks: this.tasks,
        workerId: this.workerId,
        leaseMs: this.leaseMs,
        leasedAt,
        maxRollbacks: this.#maxRollbacks,
        shutdown: this.#shutdown.signal,
        ...(created === undefined ? {} : { created }),
      });
      if (!('abandoned' in result) && this.#afterRun !== undefined) await this.#afterRun(runId).catch(() => undefined);
      return result;
    });
  }

  /**
   * Wraps work that may take or hold leases: the worker is registered on this machine first, so
   * that if this process dies holding them, the next process here recognises it as dead at once.
   * A registration that failed leaves takeovers to lease expiry, which is slower but as safe.
   */
  async #leasing<Result>(work: () => Promise<Result>): Promise<Result> {
    this.#leaseWork += 1;
    try {
      this.#registration ??= this.#registry?.register(this.workerId, () => this.#leaseWork > 0).catch(() => undefined) ?? Promise.resolve(undefined);
      await this.#registration;
      return await work();
    } finally {
      this.#leaseWork -= 1;
    }
  }

  /** Builds the run's run-start and hands it to the store; `stored` resolves once the store has it. */
  #create(taskName: string, input: JsonValue, request: RunRequest, leased: boolean): { runId: string; first: JournalEvent; stored: Promise<void> } {
    const task = this.tasks.current(taskName);
    const runId = request.runId ?? `run_${randomUUID()}`;
    const config = taskConfiguration(task);
    // A copy: the journal and the index keep what the run was created with.
    const tags = request.tags === undefined || Object.keys(request.tags).length === 0 ? undefined : { ...request.tags };
    const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', {
      task: task.name,
      taskVersion: task.version,
      input,
      principal: request.principal,
      tenant: request.tenant,
      configHash: configurationHash(config),
      config,
      ...(tags === undefined ? {} : { tags }),
    });
    const record = toRecord(first);
    const stored = this.store.createRun({
      // A run this process executes at once is running from its creation: created queued, its
      // run-resume would rewrite the run's row and its status index entry in the next transaction.
      run: { id: runId, task: task.name, taskVersion: task.version, principal: request.principal, tenant: request.tenant, status: leased ? 'running' : 'queued', ...(tags === undefined ? {} : { tags }) },
      first: record,
      // A run executed here reports nothing before its end, so its creation need not wait for a
      // sync of its own: the first write that waits (a reservation, a side effect's start, the end) covers it.
      ...(leased ? { lease: { owner: this.workerId, leaseMs: this.leaseMs }, deferSync: true } : {}),
    });
    // As loadRun would read it back: the executor works on the stored form, not the caller's objects.
    return { runId, first: parseEvent(record), stored };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
