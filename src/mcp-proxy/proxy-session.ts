/**
 * One MCP client session is one Keel run. Its task takes the session's tool calls one after
 * another, each a decision step and a tool step of that run; when the client goes away the run
 * ends `ok`. A call that needs a person's approval parks the run `waiting`, durably: the session
 * then watches the store until the decision is recorded (`keel approve` / `keel deny` from any
 * process on the same store, or the client's user through elicitation) and executes the run
 * again here, its earlier calls answered from the journal, so the waiting call proceeds or is
 * refused exactly as the decision says.
 */
import { randomUUID } from 'node:crypto';
import type { Labels } from '../access/index.ts';
import type { Engine, RunAbandoned, RunContext, RunOutcome } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JsonValue } from '../spec/index.ts';

/** What a `tools/call` is answered with (the MCP CallToolResult shape, as JSON). */
export interface ProxyCallResult {
  content: JsonValue[];
  structuredContent?: { [key: string]: JsonValue };
  isError?: boolean;
  _meta?: { [key: string]: JsonValue };
  [key: string]: unknown;
}

/** How a waiting call can reach its client while it waits. */
export interface CallHooks {
  /** The call waits for a person: told when the wait starts and every 10 s after, with the run to approve. */
  onWaiting?: (runId: string, reason: string) => void;
  /** Asks the client's user to decide (MCP elicitation); undefined when the client cannot be asked. */
  askUser?: (runId: string, reason: string, signal: AbortSignal) => Promise<'approve' | 'deny' | undefined>;
}

export class ProxyCall {
  readonly name: string;
  readonly args: { [key: string]: JsonValue };
  readonly hooks: CallHooks;
  readonly result: Promise<ProxyCallResult>;
  #resolve: (result: ProxyCallResult) => void = () => undefined;
  #settled = false;

  constructor(name: string, args: { [key: string]: JsonValue }, hooks: CallHooks) {
    this.name = name;
    this.args = args;
    this.hooks = hooks;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The first answer counts; a replayed call is answered again from its journal, which is the same answer. */
  settle(result: ProxyCallResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(result);
  }
}

/** What a session needs from the proxy that owns it. */
export interface SessionHost {
  readonly engine: Engine;
  readonly task: string;
  /** How often a waiting run's status is read from the store. */
  readonly pollMs: number;
  /** The call's answer, and whether its events are already durable (its last one was committed). */
  serveCall(context: RunContext, call: ProxyCall, session: ProxySession): Promise<{ result: ProxyCallResult; durable: boolean }>;
  log(line: string): void;
}

const terminal: ReadonlySet<string> = new Set(['ok', 'degraded', 'escalated', 'failed']);

const waitingReminderMs = 10_000;

/** How often an idle session's run looks for a stop request (`keel stop`): the lease heartbeat's pace. */
const stopCheckMs = 1_000;

export class ProxySession {
  readonly id: string;
  readonly runId = `run_${randomUUID()}`;
  readonly principal: string;
  readonly tenant: string;
  readonly #host: SessionHost;
  readonly #transport: 'stdio' | 'streamable-http';
  /** The client's name and version once it has initialized; recorded in the run's input. */
  describeClient: () => { name: string; version: string } | undefined = () => undefined;
  /** Every call the run has taken, in order: an execution after an approval replays them from the journal. */
  readonly #history: ProxyCall[] = [];
  readonly #queue: ProxyCall[] = [];
  #wake: (() => void) | undefined;
  /** Why the session takes no more calls, once it is closing. */
  #closing: string | undefined;
  /** Why the session takes no more calls, once its run has ended. */
  #ended: string | undefined;
  #driving: Promise<void> | undefined;
  /** Per execution of the run: what the calls so far returned, for the flow rules' provenance. */
  provenance: { text: string; labels: Labels }[] = [];

  constructor(host: SessionHost, options: { id?: string; principal: string; tenant: string; transport: 'stdio' | 'streamable-http' }) {
    this.#host = host;
    this.id = options.id ?? randomUUID();
    this.principal = options.principal;
    this.tenant = options.tenant;
    this.#transport = options.transport;
  }

  /** Queues a call on the session's run (starting the run on the first); resolves with the answer for the client. */
  call(name: string, args: { [key: string]: JsonValue }, hooks: CallHooks = {}): Promise<ProxyCallResult> {
    if (this.#ended !== undefined) return Promise.resolve(errorResult(this.#ended, this.runId));
    if (this.#closing !== undefined) return Promise.resolve(errorResult('the session is closing', this.runId));
    const call = new ProxyCall(name, args, hooks);
    this.#queue.push(call);
    this.#wake?.();
    this.#driving ??= this.#drive();
    return call.result;
  }

  /** The run's task body: the session's calls, replayed from the journal and then live, until the session closes. */
  async serve(context: RunContext): Promise<JsonValue> {
    this.provenance = [];
    let served = 0;
    for (;;) {
      let call = this.#history[served];
      if (call === undefined) {
        call = await this.#next();
        if (call === undefined) return { session: this.id, calls: served };
        this.#history.push(call);
      }
      served += 1;
      const { result, durable } = await this.#host.serveCall(context, call, this);
      // The client hears once the call's events are durable: a checkpoint commits them, unless the
      // call's last event (an effect's end, a person's denial) was committed already. The store
      // applies a run's appends in order, so everything before a committed event is durable too.
      if (!durable) await context.checkpoint(`call-${served}`, { calls: served });
      call.settle(result);
    }
  }

  /** Takes no more calls; the run ends `ok` once the call under way is answered. A run waiting for a person is stopped. */
  async close(reason: string): Promise<void> {
    this.#closing = reason;
    this.#wake?.();
    const run = this.#driving === undefined ? undefined : await this.#host.engine.store.getRun(this.runId);
    if (run?.status === 'waiting') await this.#stopWaiting(reason);
    await this.#driving;
  }

  /** Nobody is left to hear the decision: the run is stopped rather than left waiting. */
  async #stopWaiting(reason: string): Promise<void> {
    await this.#host.engine.stop(this.runId, { by: 'keel-mcp-proxy', reason: `${reason} while a call waited for approval` }).catch((error: unknown) => {
      this.#host.log(`keel mcp-proxy: could not stop run ${this.runId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  async #next(): Promise<ProxyCall | undefined> {
    let stopSeen = 0;
    for (;;) {
      const queued = this.#queue.shift();
      if (queued !== undefined) return queued;
      if (this.#closing !== undefined) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        this.#wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), stopCheckMs);
      });
      clearTimeout(timer);
      this.#wake = undefined;
      if (woken) continue;
      // Nothing else reaches an idle run: `keel stop` is seen here. Twice, a heartbeat apart, so the
      // engine has seen it too and journals the stop as the person's decision.
      const run = await this.#host.engine.store.getRun(this.runId);
      stopSeen = run?.stopRequested === null || run?.stopRequested === undefined ? 0 : stopSeen + 1;
      if (stopSeen >= 2) throw new KeelError('run-stopped', `run ${this.runId} was asked to stop`);
    }
  }

  /** Executes the run here until it ends: again after each approval wait, and after a moment when another process held it. */
  async #drive(): Promise<void> {
    const { engine } = this.#host;
    try {
      await this.#executeUntilEnd(engine);
    } catch (error) {
      this.#end(`the session's run could not be executed here: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async #executeUntilEnd(engine: Engine): Promise<void> {
    const client = this.describeClient();
    const input = { session: this.id, transport: this.#transport, ...(client === undefined ? {} : { client }) };
    let outcome: RunOutcome | RunAbandoned = await engine.start(this.#host.task, input, { principal: this.principal, tenant: this.tenant, runId: this.runId });
    for (;;) {
      if ('abandoned' in outcome) {
        const run = await engine.store.getRun(this.runId).catch(() => undefined);
        if (run !== undefined && terminal.has(run.status)) {
          this.#end(`the session's run ended ${run.status}${run.reason === null ? '' : `: ${run.reason}`}`);
          return;
        }
        if (outcome.abandoned !== 'lease-lost' || this.#closing !== undefined) {
          this.#end(`the session's run was not finished here: ${outcome.detail}`);
          return;
        }
        // Another process holds the run for a moment (`keel approve` tries to resume it where it decides).
        await delay(this.#host.pollMs);
      } else if (outcome.status === 'waiting') {
        const decided = await this.#awaitDecision(outcome.reason ?? 'approval required');
        if (decided !== undefined) {
          outcome = decided;
          continue;
        }
      } else {
        this.#end(`the session's run ended ${outcome.status}${outcome.reason === undefined ? '' : `: ${outcome.reason}`}`);
        return;
      }
      outcome = await engine.resume(this.runId);
    }
  }

  /**
   * Waits for the decision on the call the run is parked on. Resolves undefined once the run
   * can be executed again (decided elsewhere), or with the outcome of deciding it here (elicitation).
   */
  async #awaitDecision(reason: string): Promise<RunOutcome | RunAbandoned | undefined> {
    const waiting = this.#history.at(-1);
    waiting?.hooks.onWaiting?.(this.runId, reason);
    this.#host.log(`keel mcp-proxy: session ${this.id}: ${waiting?.name ?? 'a call'} waits for approval (${reason}): keel approve ${this.runId} or keel deny ${this.runId} --reason "…"`);
    // The client's user may be asked too; whoever decides first decides, and the question is withdrawn.
    const asking = new AbortController();
    let answer: 'approve' | 'deny' | undefined;
    void waiting?.hooks
      .askUser?.(this.runId, reason, asking.signal)
      .then((value) => {
        answer = value;
      })
      .catch(() => undefined);
    try {
      return await this.#pollDecision(
        () => {
          const given = answer;
          answer = undefined;
          return given;
        },
        () => waiting?.hooks.onWaiting?.(this.runId, reason),
      );
    } finally {
      asking.abort();
    }
  }

  async #pollDecision(answered: () => 'approve' | 'deny' | undefined, remind: () => void): Promise<RunOutcome | RunAbandoned | undefined> {
    // Repeated so a client that resets its request timeout on progress keeps waiting.
    let remindAt = Date.now() + waitingReminderMs;
    for (;;) {
      if (Date.now() >= remindAt) {
        remind();
        remindAt = Date.now() + waitingReminderMs;
      }
      const answer = answered();
      if (answer !== undefined) {
        try {
          const decider = `mcp-client:${this.principal}`;
          return await this.#host.engine.decide(this.runId, { decision: answer, decider, ...(answer === 'deny' ? { reason: 'declined by the client’s user' } : {}) });
        } catch (error) {
          // Decided elsewhere first: that decision stands.
          if (!(error instanceof KeelError && error.code === 'run-not-waiting')) throw error;
        }
      }
      const run = await this.#host.engine.store.getRun(this.runId);
      if (run === undefined || run.status !== 'waiting') return undefined;
      // The session closed after the call parked (close() found the run still running): stop it here.
      if (this.#closing !== undefined) await this.#stopWaiting(this.#closing);
      await delay(this.#host.pollMs);
    }
  }

  #end(reason: string): void {
    this.#ended = reason;
    for (const call of [...this.#history, ...this.#queue.splice(0)]) call.settle(errorResult(reason, this.runId));
  }
}

export function errorResult(text: string, runId: string | undefined, meta: { [key: string]: JsonValue } = {}): ProxyCallResult {
  return { content: [{ type: 'text', text }], isError: true, _meta: { ...(runId === undefined ? {} : { 'keel.dev/run-id': runId }), ...meta } };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
