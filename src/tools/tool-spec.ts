/**
 * Tool specification, version 1: what a tool registered with Keel declares. Types only. A tool is
 * its code plus the governance Keel enforces around it (scopes, side-effect class, limits,
 * constraints, approvals), so a model can only ever reach it through those checks. Local tools and
 * tools served by MCP servers are both ToolV1s; nothing downstream can tell them apart.
 */
import type { z } from 'zod';
import type { JsonValue } from '../spec/index.ts';

/**
 * What a call can do to the world. `read` calls may run again freely; `write` and `irreversible`
 * calls are not repeated after a crash unless the tool deduplicates on its idempotency key, and
 * `irreversible` marks effects no compensation can undo (money sent, mail delivered).
 */
export type SideEffectClassV1 = 'read' | 'write' | 'irreversible';

/** At most `limit` calls in any window of `windowMs` (a sliding window, not fixed buckets). */
export interface RateWindowV1 {
  limit: number;
  windowMs: number;
}

export interface ToolRateLimitV1 {
  /** Per tool and tenant: one noisy tenant cannot use up another's allowance. */
  perTenant: RateWindowV1;
  /** Per tool across all tenants: protects the downstream system itself. */
  perTool?: RateWindowV1;
}

/** Who is calling, for constraints, approval rules and policies. */
export interface ToolCallContextV1 {
  runId: string;
  task: string;
  tenant: string;
  principal: string;
}

/** What `execute` is handed besides its arguments. */
export interface ToolExecutionContextV1 extends ToolCallContextV1 {
  /**
   * Stable across retries and resumes of this call, new for every other call: pass it to the
   * downstream system so a repeated request cannot repeat the effect.
   */
  idempotencyKey: string;
  /** Aborted on the tool's timeout, the run's deadline, or a lost lease. */
  signal: AbortSignal;
  attempt: number;
}

/** A rule on argument values the schema cannot say (cross-field, tenant-dependent, business limits). */
export interface ToolConstraintV1<Input> {
  /** Stable id, journaled with a denial so an auditor can find the rule. */
  id: string;
  /** True when the call may proceed, otherwise why not (shown in the journal). */
  check(args: Input, context: ToolCallContextV1): true | string;
}

export interface ToolApprovalRuleV1<Input> {
  /** Why a person must approve this call (e.g. "refund above 500.00"), or undefined when none is needed. */
  when(args: Input, context: ToolCallContextV1): string | undefined;
}

export interface ToolV1<Input = unknown, Output = unknown> {
  /** What the model calls it: letters, digits, `_` and `-`, at most 64 (every provider accepts that). */
  name: string;
  version: string;
  /** The team or person answerable for it. */
  owner: string;
  /** Shown to the model. */
  description: string;
  /** Arguments as the model must send them. Must describe JSON in and out (no transforms to Dates). */
  inputSchema: z.ZodType<Input>;
  /** What the tool returns; a result that does not match is an error, never handed to the model. */
  outputSchema: z.ZodType<Output>;
  /**
   * JSON Schema shown to models instead of one derived from `inputSchema`. Tools that arrive with
   * a schema of their own (MCP) keep it byte for byte.
   */
  inputJsonSchema?: JsonValue;
  /** Every one must be granted to the run. */
  scopes: string[];
  sideEffect: SideEffectClassV1;
  /**
   * The downstream system deduplicates on the idempotency key, so running the call again after a
   * crash is safe even though it has an effect.
   */
  deduplicatesOnKey?: boolean;
  timeoutMs: number;
  rateLimit?: ToolRateLimitV1;
  constraints?: ToolConstraintV1<Input>[];
  approval?: ToolApprovalRuleV1<Input>;
  execute(args: Input, context: ToolExecutionContextV1): Promise<Output> | Output;
}

/** A registered tool whatever its argument and result types: what registries and policies hold. */
// Methods (not function properties) are checked bivariantly, so a ToolV1<{ orderId: string }> is one.
export type AnyToolV1 = ToolV1<unknown, unknown>;
