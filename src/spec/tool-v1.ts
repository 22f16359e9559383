/**
 * Tool specification, version 1: what a tool registered with Keel declares. Types only. A tool is
 * its code plus the governance Keel enforces around it (scopes, side-effect class, limits,
 * constraints, approvals), so a model can only ever reach it through those checks. Local tools and
 * tools served by MCP servers are both ToolV1s; nothing downstream can tell them apart.
 */
import type { z } from 'zod';
import type { JsonValue } from './store-v1.ts';

/** A JSON Schema document, as an MCP server (or a hand-written tool) gives it. */
export type JsonSchemaV1 = { [keyword: string]: JsonValue };

/**
 * How a tool describes its arguments or its result: a zod schema (which also types the tool's
 * code), or a JSON Schema (checked through zod's translation of it, shown to models as written).
 */
export type ToolSchemaV1<Value> = z.ZodType<Value> | JsonSchemaV1;

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
  /**
   * Arguments as the model must send them; arguments that do not match never reach `execute`. A
   * zod schema must describe JSON in and out (no transforms to Dates); a JSON Schema is shown to
   * models byte for byte.
   */
  inputSchema: ToolSchemaV1<Input>;
  /** What the tool returns; a result that does not match is an error, never handed to the model. */
  outputSchema: ToolSchemaV1<Output>;
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

export interface AuthorizationDecisionV1 {
  /** `require-approval`: allowed once a person approves (the other checks still run first). */
  effect: 'allow' | 'deny' | 'require-approval';
  reason?: string;
  /** The policies that decided, journaled with the call for audit. */
  policyIds?: string[];
}

/**
 * The hook through which access control (Cedar policies, grants, data labels) rules on a tool
 * call: tools does not know how access decides, only that it can say no and why. It sees the
 * arguments exactly as the model sent them, before schema validation.
 */
export type ToolAuthorizerV1 = (tool: AnyToolV1, args: JsonValue, context: ToolCallContextV1) => AuthorizationDecisionV1 | Promise<AuthorizationDecisionV1>;
