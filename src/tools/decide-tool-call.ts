import type { AnyToolV1, JsonValue, RateLimiterV1, RateLimitRequestV1, ToolAuthorizerV1, ToolCallContextV1 } from '../spec/index.ts';
import type { ToolDecision } from './tool-call-outcome.ts';
import type { ToolRegistry } from './tool-registry.ts';
import { inputChecker } from './tool-schema.ts';
import { validationErrorsOf } from './validation-errors.ts';

export interface DecisionInput {
  registry: ToolRegistry;
  rateLimiter: RateLimiterV1;
  name: string;
  version?: string;
  args: JsonValue;
  grantedScopes: ReadonlySet<string>;
  authorize?: ToolAuthorizerV1;
  approvedBy?: string;
  context: ToolCallContextV1;
}

/**
 * The governance checks, in order, cheapest and least revealing first: a caller who may not use a
 * tool learns nothing about its arguments, and a refused call uses up no rate allowance, except
 * that one held for approval does (asking a person is itself worth limiting). Every refusal is
 * data, never an exception, so it can be journaled and shown to the model. A check that throws
 * refuses the call: governance fails closed.
 */
export async function decideToolCall(input: DecisionInput): Promise<ToolDecision> {
  const { name, context } = input;
  const tool = input.registry.lookup(name, input.version);
  if (tool === undefined) {
    const known = input.registry.versions(name);
    const message = known.length === 0 ? `no tool named ${name}` : `tool ${name} has no version ${input.version ?? ''} (registered: ${known.join(', ')})`;
    return { status: 'denied', tool: name, reason: 'unknown-tool', message };
  }
  const version = tool.version;

  const missingScopes = tool.scopes.filter((scope) => !input.grantedScopes.has(scope));
  if (missingScopes.length > 0) {
    return { status: 'denied', tool: name, version, reason: 'scope-missing', missingScopes, message: `tool ${name} needs scopes not granted to this run: ${missingScopes.join(', ')}` };
  }

  let policyIds: string[] = [];
  let policyApproval: string | undefined;
  if (input.authorize !== undefined) {
    const decision = await attempt(() => input.authorize?.(tool, input.args, context));
    if (!decision.ok) return { status: 'denied', tool: name, version, reason: 'policy-denied', policyIds: [], message: `authorization failed, so the call is refused: ${decision.error}` };
    policyIds = decision.value?.policyIds ?? [];
    if (decision.value?.effect === 'require-approval') policyApproval = decision.value.reason ?? `policy requires approval for ${name}`;
    else if (decision.value?.effect !== 'allow') {
      return { status: 'denied', tool: name, version, reason: 'policy-denied', policyIds, message: decision.value?.reason ?? `policy denies tool ${name}` };
    }
  }

  const parsed = inputChecker(tool).safeParse(input.args);
  if (!parsed.success) {
    const validationErrors = validationErrorsOf(parsed.error);
    const message = `arguments for ${name} do not match its schema: ${validationErrors.map((error) => `${error.path}: ${error.message}`).join('; ')}`;
    return { status: 'arguments-invalid', tool: name, version, retryable: true, message, validationErrors };
  }

  for (const constraint of tool.constraints ?? []) {
    const verdict = await attempt(() => constraint.check(parsed.data, context));
    if (!verdict.ok || verdict.value !== true) {
      const why = verdict.ok ? String(verdict.value) : `the check failed: ${verdict.error}`;
      return { status: 'denied', tool: name, version, reason: 'constraint-violated', constraintId: constraint.id, policyIds, message: `constraint ${constraint.id}: ${why}` };
    }
  }

  const limits = rateLimitRequests(tool, context.tenant);
  if (limits.length > 0) {
    const rate = await attempt(() => input.rateLimiter.acquire(limits));
    if (!rate.ok) return { status: 'denied', tool: name, version, reason: 'rate-limited', policyIds, message: `the rate limiter failed, so the call is refused: ${rate.error}` };
    if (!rate.value.allowed) {
      const message = `tool ${name} is over its rate limit (${rate.value.key}); retry in ${rate.value.retryAfterMs} ms`;
      return { status: 'denied', tool: name, version, reason: 'rate-limited', policyIds, retryAfterMs: rate.value.retryAfterMs, message };
    }
  }

  let reason = policyApproval;
  if (tool.approval !== undefined) {
    const rule = await attempt(() => tool.approval?.when(parsed.data, context));
    const ruleReason = rule.ok ? rule.value : `the approval rule failed, so a person must decide: ${rule.error}`;
    if (ruleReason !== undefined) reason = reason === undefined ? ruleReason : `${reason}; ${ruleReason}`;
  }
  if (reason !== undefined) {
    if (input.approvedBy === undefined) return { status: 'approval-required', tool: name, version, reason };
    return { status: 'allowed', tool: name, version, policyIds, approvedBy: input.approvedBy, approvalReason: reason };
  }
  return { status: 'allowed', tool: name, version, policyIds };
}

function rateLimitRequests(tool: AnyToolV1, tenant: string): RateLimitRequestV1[] {
  const limits: RateLimitRequestV1[] = [];
  if (tool.rateLimit === undefined) return limits;
  limits.push({ key: `tool:${tool.name}:tenant:${tenant}`, ...tool.rateLimit.perTenant });
  if (tool.rateLimit.perTool !== undefined) limits.push({ key: `tool:${tool.name}`, ...tool.rateLimit.perTool });
  return limits;
}

type Attempt<Value> = { ok: true; value: Value } | { ok: false; error: string };

async function attempt<Value>(work: () => Value | Promise<Value>): Promise<Attempt<Value>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
