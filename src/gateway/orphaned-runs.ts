import type { Engine, RunOutcome } from '../engine/index.ts';
import type { LocalWorkerRegistry } from '../engine/index.ts';
import { endCallsInFlight } from '../engine/index.ts';
import type { RunState } from '../journal/index.ts';
import { applyEvent, isTerminal, JournalWriter, loadRun } from '../journal/index.ts';
import type { RunRecordV1, RunSummaryPatchV1 } from '../spec/index.ts';

/** Gateway runs are the runs of the tasks the gateway registers per model it is asked for. */
export const gatewayTaskPrefix = 'gateway:';

export interface OrphanedRunsOptions {
  engine: Engine;
  /** The version of the price table the ending's cost is labelled with: this deployment's. */
  priceVersion: string;
  /** This machine's live workers: a dead one's runs are ended at once, not when its lease expires. */
  registry?: LocalWorkerRegistry | undefined;
  /** Anchors an ended run in the audit log, as the engine anchors the runs it ends. */
  anchor?: ((runId: string) => Promise<unknown>) | undefined;
}

/**
 * Ends the gateway runs whose process died mid-request: `keel serve`, `keel worker` and
 * `keel resume` do, so they end even when no gateway runs any more. A gateway run is executed only by the
 * process that received its request, while its client waits (gateway-runs.ts): once that process
 * is gone (SIGKILL, a crash, a lost machine), nothing can finish the run, and no worker serves its
 * task, so it would stay `running` forever. A run is judged orphaned when this process can take its
 * lease: its holder is registered on this machine and dead, or its lease expired or was given back
 * without the run ending. A run whose holder is alive, here or anywhere, is never touched.
 *
 * Each is ended `failed`, journaled under the taken lease, with a reason starting
 * `gateway-process-died`. Its model call that never ended is ended too, billed what the store's
 * budget book booked for it (src/engine/calls-in-flight.ts), so the journal and the book agree:
 * its reservation is first settled in the book at its full amount (the worst case the budget
 * decision journaled, by the id it journaled), since the provider may have generated all of it and
 * the usage that would say otherwise died with the process, so the book moves it from reserved to
 * spent at once, and the call is billed that; when the process had settled it first (its call over,
 * its step's end not yet journaled), the book keeps that settlement and the call is billed it. A
 * reservation journaled without an id (journals from before the id was journaled) or whose settling
 * failed stays reserved until it expires, when the book books it as spent at that same full amount:
 * later, but the same figure.
 */
export class OrphanedRuns {
  readonly #options: OrphanedRunsOptions;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<unknown> | undefined;

  constructor(options: OrphanedRunsOptions) {
    this.#options = options;
  }

  /**
   * Ends orphaned runs now (unless `immediately` is false: the caller just made a pass) and then
   * every `intervalMs` (a lease's length: a run whose holder died elsewhere is ended within two of
   * them), one pass at a time, until `stop`.
   */
  start(intervalMs: number, report: { ended: (outcome: RunOutcome) => void; failed: (error: unknown) => void }, options: { immediately?: boolean } = {}): void {
    const pass = () => {
      if (this.#pass !== undefined) return;
      this.#pass = this.end()
        .then((outcomes) => outcomes.forEach(report.ended), report.failed)
        .finally(() => (this.#pass = undefined));
    };
    if (options.immediately !== false) pass();
    this.#timer = setInterval(pass, intervalMs).unref();
  }

  /** Stops the schedule and waits for a pass under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  /** One pass over the open gateway runs; returns how each one ended here. */
  async end(): Promise<RunOutcome[]> {
    const { engine } = this.#options;
    const open = await engine.store.listRuns({ statuses: ['queued', 'running'], limit: 100_000 });
    const ended: RunOutcome[] = [];
    for (const run of open) {
      if (!run.task.startsWith(gatewayTaskPrefix) || run.leaseOwner === engine.workerId) continue;
      const outcome = await this.#endIfOrphaned(run);
      if (outcome !== undefined) ended.push(outcome);
    }
    return ended;
  }

  async #endIfOrphaned(run: RunRecordV1): Promise<RunOutcome | undefined> {
    const { engine, registry } = this.#options;
    const owner = run.leaseOwner;
    // Compare-and-clear: a lease that changed hands since the listing is left alone.
    if (owner !== null && registry !== undefined && (await registry.isDead(owner))) await engine.store.breakLease(run.id, owner);
    const claimed = await engine.store.claimRun(run.id, { owner: engine.workerId, leaseMs: engine.leaseMs, statuses: ['queued', 'running'] });
    if (claimed === undefined) return undefined;
    try {
      const outcome = await this.#endClaimed(run.id, owner);
      if (outcome !== undefined) await this.#options.anchor?.(run.id).catch(() => undefined);
      return outcome;
    } finally {
      await engine.store.releaseLease(run.id, engine.workerId).catch(() => undefined);
    }
  }

  async #endClaimed(runId: string, owner: string | null): Promise<RunOutcome | undefined> {
    const { engine, priceVersion } = this.#options;
    const { state, events } = await loadRun(engine.store, runId);
    if (isTerminal(state.status)) return undefined;
    const holder = owner === null ? 'no process holds it any more' : `its gateway process (worker ${owner}) is gone`;
    const writer = new JournalWriter({ store: engine.store, runId, lastSeq: state.lastSeq, lastHash: state.lastHash, leaseOwner: engine.workerId });
    const calls = await endCallsInFlight({
      state,
      events,
      writer,
      budgets: engine.store.budgets,
      priceVersion,
      failure: (billing) => ({ code: 'lease-lost', message: `gateway-process-died: the call was in flight when ${holder}; ${billing}` }),
      // And every other reservation it left unbilled: one whose budget decision never reached the journal.
      takenOver: `gateway-process-died: ${holder}`,
    });
    const billed = calls.billings
      .filter((billing) => billing.micros !== undefined && billing.micros > 0)
      .map((billing) => `; its call in flight is ${billing.from === 'settlement' ? 'billed what the budget book settled it at' : 'billed its reservation'} (${billing.micros} micro-USD)`)
      .join('');
    const left = calls.leftMicros > 0 ? `; reservations it left that no journaled call names are billed (${calls.leftMicros} micro-USD)` : '';
    const reason = `gateway-process-died: ${holder}, and with it the request's client, so nobody can finish the run${billed}${left}`;
    const ending = [...calls.events, writer.build('run-end', { status: 'failed', reason, error: { code: 'lease-lost', message: reason, retryable: false } })];
    for (const event of ending) applyEvent(state, event);
    // The reservations were settled in the book before the ending was built. A commit refused (another
    // writer moved the journal on) or a crash leaves them settled and unbilled: whoever ends the run
    // next bills what the book settled.
    await writer.commit(ending, summaryOf(state));
    return { runId, task: state.task, status: 'failed', reason, error: { code: 'lease-lost', message: reason, retryable: false }, confidence: [] };
  }
}

function summaryOf(state: RunState): RunSummaryPatchV1 {
  return { status: state.status, reason: state.end?.reason ?? null, stepCount: state.stepsCompleted, inputTokens: state.usage.inputTokens, outputTokens: state.usage.outputTokens, costMicros: state.costMicros };
}
