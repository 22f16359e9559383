import type { CallAnswer, CallOutcome, GatewayCall } from './gateway-runs.ts';

/** One call waiting for its outcome: settled once, by the run that serves it or by the run's end. */
export class Turn {
  readonly call: GatewayCall;
  readonly outcome: Promise<CallOutcome>;
  /** The answer, kept until the run ends, for a run of one call. */
  result: CallAnswer | undefined;
  #resolve: (outcome: CallOutcome) => void = () => undefined;
  #settled = false;

  constructor(call: GatewayCall) {
    this.call = call;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  settle(outcome: CallOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(outcome);
  }
}

/**
 * The calls waiting for a run opened with `keel-run-id: new`, served one at a time in the order
 * they came. Once it has closed (idle too long, or the gateway closing) it takes no more, so a
 * call can never be queued behind a run that will not serve it.
 */
export class OpenRun {
  readonly tenant: string;
  readonly model: string;
  #queue: Turn[] = [];
  #waiting: ((turn: Turn | undefined) => void) | undefined;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(tenant: string, model: string) {
    this.tenant = tenant;
    this.model = model;
  }

  /** False when the run has closed: the call was not taken. */
  push(turn: Turn): boolean {
    if (this.#closed) return false;
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#queue.push(turn);
      return true;
    }
    this.#stopWaiting();
    waiting(turn);
    return true;
  }

  /** The next call; undefined once none came for `idleMs` or the run was ended, which closes it. */
  next(idleMs: number): Promise<Turn | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#idle = setTimeout(() => this.end(), idleMs);
    });
  }

  /** Closes the run to new calls; the calls already queued are still served. */
  end(): void {
    this.#closed = true;
    const waiting = this.#waiting;
    this.#stopWaiting();
    waiting?.(undefined);
  }

  /** Closes the run and hands back the calls it will not serve. */
  drain(): Turn[] {
    this.#closed = true;
    return this.#queue.splice(0);
  }

  #stopWaiting(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#waiting = undefined;
  }
}
