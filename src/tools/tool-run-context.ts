import type { JsonValue } from '../spec/index.ts';

/** What a durable step hands its work (the engine's StepInfo, by shape). */
export interface ToolStepInfo {
  idempotencyKey: string;
  attempt: number;
  signal: AbortSignal;
}

/**
 * The part of the engine's RunContext a governed tool call needs, by shape, so tools does not
 * import the engine (components sit beside it, not above it). The engine's RunContext fits.
 */
export interface ToolRunContext {
  readonly runId: string;
  readonly task: string;
  readonly principal: string;
  readonly tenant: string;
  step<Result extends JsonValue>(name: string, work: (info: ToolStepInfo) => Promise<Result> | Result, options?: { idempotent?: boolean; input?: JsonValue }): Promise<Result>;
  tool<Args extends JsonValue, Result extends JsonValue>(
    name: string,
    args: Args,
    execute: (args: Args, info: ToolStepInfo) => Promise<Result> | Result,
    options?: { idempotent?: boolean },
  ): Promise<Result>;
}
