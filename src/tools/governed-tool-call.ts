import { KeelError, toErrorData } from '../errors/index.ts';
import type { JsonValue, RateLimiterV1, ToolAuthorizerV1, ToolCallContextV1 } from '../spec/index.ts';
import { decideToolCall } from './decide-tool-call.ts';
import { executeWithinLimits, isSafeToRepeat } from './execute-within-limits.ts';
import type { ToolCallOutcome, ToolDecision } from './tool-call-outcome.ts';
import type { ToolRegistry } from './tool-registry.ts';
import type { ToolRunContext } from './tool-run-context.ts';
import { inputChecker } from './tool-schema.ts';
import { validationErrorsOf } from './validation-errors.ts';

export interface ToolCallRequest {
  registry: ToolRegistry;
  /** Shared by every call in the process: a limiter per call would limit nothing. */
  rateLimiter: RateLimiterV1;
  run: ToolRunContext;
  /** The tool name as the model gave it. */
  name: string;
  /** The arguments as the model gave them (a string when they were not JSON). */
  args: JsonValue;
  /** Pins a version; otherwise the highest registered one. */
  version?: string;
  grantedScopes: Iterable<string>;
  authorize?: ToolAuthorizerV1;
  /** A person approved this call (when resuming after `approval-required`); journaled with it. */
  approvedBy?: string;
}

/** Failures that belong to the run, not the tool: the engine must see them to end or hand off the run. */
const runLevelCodes: ReadonlySet<string> = new Set(['lease-lost', 'deadline-exceeded', 'replay-divergence', 'journal-conflict', 'journal-invalid', 'db-unavailable']);

/** Step names carry the model's tool name, which may be anything; keep them readable. */
const maxNameInStep = 80;

/**
 * One tool call, governed: the checks run inside one journaled step (`tool-decision:<name>`), so
 * every denial is on the record and a replay or resume sees the same decision instead of asking the
 * rate limiter again; an allowed call then runs as the durable `tool-call` step, with the
 * idempotency key of that step. Policy outcomes are returned, never thrown; only failures of the
 * run itself (a lost lease, the deadline, a divergent replay) propagate.
 */
export async function callTool(request: ToolCallRequest): Promise<ToolCallOutcome> {
  const { run, registry } = request;
  const context: ToolCallContextV1 = { runId: run.runId, task: run.task, tenant: run.tenant, principal: run.principal };
  const grantedScopes = [...new Set(request.grantedScopes)].sort();
  const decisionInput: JsonValue = { tool: request.name, args: request.args, grantedScopes };
  if (request.version !== undefined) decisionInput.version = request.version;
  if (request.approvedBy !== undefined) decisionInput.approvedBy = request.approvedBy;

  const decision = await run.step(
    `tool-decision:${request.name.slice(0, maxNameInStep)}`,
    async (): Promise<ToolDecision> =>
      decideToolCall({
        registry,
        rateLimiter: request.rateLimiter,
        name: request.name,
        args: request.args,
        grantedScopes: new Set(grantedScopes),
        context,
        ...(request.version === undefined ? {} : { version: request.version }),
        ...(request.authorize === undefined ? {} : { authorize: request.authorize }),
        ...(request.approvedBy === undefined ? {} : { approvedBy: request.approvedBy }),
      }),
    { idempotent: true, input: decisionInput },
  );
  if (decision.status !== 'allowed') return decision;

  const tool = registry.lookup(decision.tool, decision.version);
  if (tool === undefined) {
    // Only on a resume under code that no longer registers the version the journal allowed.
    throw new KeelError('replay-divergence', `tool ${decision.tool}@${decision.version} was allowed by this run's journal but is no longer registered`);
  }
  // Parsed again rather than carried in the decision: the arguments are journaled once, as the tool step's input.
  const parsed = inputChecker(tool).safeParse(request.args);
  if (!parsed.success) {
    return { status: 'arguments-invalid', tool: tool.name, version: tool.version, retryable: true, message: `arguments for ${tool.name} do not match its schema`, validationErrors: validationErrorsOf(parsed.error) };
  }
  try {
    const output = await run.tool(tool.name, parsed.data as JsonValue, (args, step) => executeWithinLimits(tool, args, context, step), { idempotent: isSafeToRepeat(tool) });
    return { status: 'ok', tool: tool.name, version: tool.version, output };
  } catch (error) {
    if (!(error instanceof KeelError) || runLevelCodes.has(error.code)) throw error;
    return { status: 'failed', tool: tool.name, version: tool.version, error: toErrorData(error) };
  }
}
