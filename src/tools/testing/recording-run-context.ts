import { isErrorCode, KeelError, toErrorData } from '../../errors/index.ts';
import type { ErrorData } from '../../errors/index.ts';
import type { JsonValue } from '../../spec/index.ts';
import type { ToolRunContext, ToolStepInfo } from '../tool-run-context.ts';

export interface RecordedStep {
  kind: 'step' | 'tool-call';
  name: string;
  idempotent: boolean;
  idempotencyKey: string;
  input?: JsonValue;
  outcome: { ok: true; value: JsonValue } | { ok: false; error: ErrorData };
}

/**
 * A run context for unit tests that behaves like the engine's where tools can tell (step numbers,
 * idempotency keys `run:epoch:step`, failures rethrown as KeelErrors rebuilt from journal data)
 * and keeps its "journal" in an array.
 */
export class RecordingRunContext implements ToolRunContext {
  readonly runId: string;
  readonly task = 'test-task';
  readonly principal: string;
  readonly tenant: string;
  readonly steps: RecordedStep[] = [];
  readonly #controller = new AbortController();

  constructor(options: { runId?: string; tenant?: string; principal?: string } = {}) {
    this.runId = options.runId ?? 'run-1';
    this.tenant = options.tenant ?? 'acme';
    this.principal = options.principal ?? 'user:ada';
  }

  /** Aborts the signal every step sees, as a lost lease or the run's deadline would. */
  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  step<Result extends JsonValue>(name: string, work: (info: ToolStepInfo) => Promise<Result> | Result, options: { idempotent?: boolean; input?: JsonValue } = {}): Promise<Result> {
    return this.#run('step', name, options.idempotent ?? false, options.input, work);
  }

  tool<Args extends JsonValue, Result extends JsonValue>(
    name: string,
    args: Args,
    execute: (args: Args, info: ToolStepInfo) => Promise<Result> | Result,
    options: { idempotent?: boolean } = {},
  ): Promise<Result> {
    return this.#run('tool-call', name, options.idempotent ?? false, args, (info) => execute(args, info));
  }

  async #run<Result extends JsonValue>(kind: RecordedStep['kind'], name: string, idempotent: boolean, input: JsonValue | undefined, work: (info: ToolStepInfo) => Promise<Result> | Result): Promise<Result> {
    const idempotencyKey = `${this.runId}:0:${this.steps.length + 1}`;
    const step: RecordedStep = { kind, name, idempotent, idempotencyKey, outcome: { ok: true, value: null }, ...(input === undefined ? {} : { input }) };
    this.steps.push(step);
    try {
      const value = await work({ idempotencyKey, attempt: 1, signal: this.#controller.signal });
      step.outcome = { ok: true, value };
      return value;
    } catch (error) {
      if (this.#controller.signal.aborted) throw new KeelError('lease-lost', `run ${this.runId} was taken away from this worker`);
      const data = toErrorData(error);
      step.outcome = { ok: false, error: data };
      const options = data.details === undefined ? { retryable: data.retryable } : { retryable: data.retryable, details: data.details };
      throw new KeelError(isErrorCode(data.code) ? data.code : 'step-threw', data.message, options);
    }
  }
}
