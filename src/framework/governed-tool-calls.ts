/**
 * A framework's tool calls decided by Keel before they run, on the agent loop's own path: the tool
 * gate (the resource and its tenant, Cedar, information-flow labels) and then `callTool` (scopes,
 * constraints, per-tenant rate limits, approval rules), each decision a journaled `tool-decision`
 * step; an allowed call runs as the durable `tool-call` step with its idempotency key. On a
 * resumed run a recorded call returns its recorded output and does not run again. Each framework
 * adapter (keel/ai-sdk, keel/langchain) wraps its own tool shape around this.
 *
 * Given the user's request (`request`), the gate also runs the control-flow monitor over that
 * request and the session's earlier tool results, as run-agent.ts does for an agent's loop.
 *
 * A refusal throws a `tool-denied` KeelError for the adapter to hand the model as the tool's
 * error; the tool's code never ran. A person's approval parks the run (`waiting`). A failure of
 * the run itself (an approval wait, an escalation, a lost lease) is kept in the run's session and
 * rethrown by its next call (run-session.ts).
 */
import type { PolicyEngine } from '../access/index.ts';
import { argumentLabels, checkIncoming, labels as makeLabels } from '../access/index.ts';
import type { AgentRuntime, AgentTool, ResourceResolver, ToolAccessV1 } from '../agent/index.ts';
import { toolGate } from '../agent/index.ts';
import type { RunContext } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { canonicalJson } from '../journal/index.ts';
import { sealingToolResults } from '../redaction/index.ts';
import type { GrantV1, JsonValue, ToolExecutionContextV1 } from '../spec/index.ts';
import type { SideEffectClassV1, ToolApprovalRuleV1, ToolCallOutcome, ToolConstraintV1, ToolRateLimitV1 } from '../tools/index.ts';
import { callTool, ToolRegistry } from '../tools/index.ts';
import type { SourcedText } from './run-session.ts';
import { inTurn, sessionOf, throwIfRunInterrupted } from './run-session.ts';

/** How Keel governs one framework tool, beyond what the tool itself says. */
export interface GovernedToolDeclaration {
  /** Default `write`: a call found started but unfinished after a crash is not run again, the run is escalated. */
  sideEffect?: SideEffectClassV1;
  /** The downstream system deduplicates on the idempotency key, so a call may run again after a crash. */
  deduplicatesOnKey?: boolean;
  /** Scopes the tool needs; the run is granted every scope its governed tools declare. */
  scopes?: string[];
  version?: string;
  owner?: string;
  /** Default 30 000. */
  timeoutMs?: number;
  rateLimit?: ToolRateLimitV1;
  constraints?: ToolConstraintV1<JsonValue>[];
  approval?: ToolApprovalRuleV1<JsonValue>;
  /** The resource, Cedar action and context, egress, sensitive arguments and result labels, as for an agent's tool. */
  access?: ToolAccessV1;
}

export interface ToolGovernanceOptions {
  run: RunContext;
  /** The deployment: `keel.runtime` (its rate limiter is shared by every run of the process). */
  runtime: AgentRuntime;
  /** Decides every call (`call-tool` on `Tool::"<name>"`, or the declared action on the resolved resource). */
  policies?: PolicyEngine;
  shadowPolicies?: PolicyEngine;
  /** The run's task-scoped grants, given to every policy request. */
  grants?: readonly GrantV1[];
  /** Per tool name; a tool without one is governed as a `write` tool with no scopes. */
  declarations?: { [toolName: string]: GovernedToolDeclaration };
  /**
   * The user's trusted request: the message(s) the run's input gives, not anything a tool returned.
   * Given, the control-flow monitor decides every consequential call (write, irreversible, sends
   * outside) as in an agent's loop: after an untrusted result was read, the tool must be one this
   * request asks for, its targets must come from trusted input, and a destructive tool runs only
   * when requested. A function is read at each call (a chat whose request grows). Left out, the
   * framework gives Keel no trusted request to judge by, and only the argument labels are checked.
   */
  request?: string | readonly string[] | (() => string | readonly string[]);
  /** `off` turns the control-flow monitor off even when `request` is given. Default `enforce`. */
  controlFlow?: 'enforce' | 'off';
  /** Resolvers from argument values to resources and tenants, for tools whose access declares no resource. */
  resolvers?: readonly ResourceResolver[];
}

/** A framework's tool as Keel sees it; `Call` is what the framework hands the tool for one call. */
export interface FrameworkTool<Call> {
  name: string;
  description: string;
  /** Runs the tool's own code; what it returns is journaled as JSON. */
  execute: (input: unknown, keel: ToolExecutionContextV1, call: Call | undefined) => unknown;
}

/** Decides a call of a named tool, runs it when allowed and returns its output; refusals throw `tool-denied`. */
export type GovernedToolCall<Call> = (name: string, input: unknown, call: Call) => Promise<JsonValue>;

/** `framework` is the tools' default owner in the journal (`ai-sdk`, `langchain`). */
export function governToolCalls<Call>(tools: readonly FrameworkTool<Call>[], options: ToolGovernanceOptions, framework: string): GovernedToolCall<Call> {
  const { run, runtime } = options;
  const registry = new ToolRegistry();
  const agentTools = new Map<string, AgentTool>();
  // The framework's call under way; calls of a run take turns (run-session.ts), so there is one at a time.
  let current: Call | undefined;
  for (const tool of tools) {
    const declaration = options.declarations?.[tool.name] ?? {};
    const agentTool: AgentTool = {
      name: tool.name,
      version: declaration.version ?? '1',
      owner: declaration.owner ?? framework,
      description: tool.description,
      inputSchema: {},
      outputSchema: {},
      scopes: declaration.scopes ?? [],
      sideEffect: declaration.sideEffect ?? 'write',
      timeoutMs: declaration.timeoutMs ?? 30_000,
      ...(declaration.deduplicatesOnKey === undefined ? {} : { deduplicatesOnKey: declaration.deduplicatesOnKey }),
      ...(declaration.rateLimit === undefined ? {} : { rateLimit: declaration.rateLimit }),
      ...(declaration.constraints === undefined ? {} : { constraints: declaration.constraints }),
      ...(declaration.approval === undefined ? {} : { approval: declaration.approval }),
      ...(declaration.access === undefined ? {} : { access: declaration.access }),
      execute: async (args: unknown, context: ToolExecutionContextV1) => jsonOf(await tool.execute(args, context, current)),
    };
    // Results labelled with subjects are journaled sealed (src/redaction).
    registry.register(sealingToolResults(run, agentTool));
    agentTools.set(tool.name, agentTool);
  }
  const grantedScopes = [...new Set([...agentTools.values()].flatMap((tool) => tool.scopes))].sort();

  async function governedCall(name: string, input: unknown, call: Call): Promise<JsonValue> {
    throwIfRunInterrupted(run);
    const session = sessionOf(run);
    const args = jsonOf(input);
    const gate = toolGate(
      {
        context: run,
        argumentLabels: argumentLabels(session.provenance, args),
        grantedScopes,
        policies: options.policies,
        shadowPolicies: options.shadowPolicies,
        ...(options.grants === undefined ? {} : { grants: options.grants }),
        ...(options.request === undefined ? {} : { provenance: [...requestItems(run, options.request), ...session.provenance], controlFlow: options.controlFlow ?? 'enforce' }),
        ...(options.resolvers === undefined ? {} : { resolvers: options.resolvers }),
      },
      agentTools,
    );
    const request = { registry, rateLimiter: runtime.rateLimiter, run, name, args, grantedScopes, authorize: gate };
    let outcome: ToolCallOutcome;
    current = call;
    try {
      outcome = await callTool(request);
      if (outcome.status === 'approval-required') {
        const approval = await awaitApproval(run, name, args, outcome.reason);
        outcome = approval.approved
          ? await callTool({ ...request, approvedBy: approval.decider })
          : { status: 'denied', tool: name, reason: 'policy-denied', policyIds: ['human-decision'], message: approval.message };
      }
    } catch (error) {
      // Only failures of the run itself get here (callTool returns every policy outcome): keep it for the loop's next turn.
      session.interruption = { error };
      throw error;
    } finally {
      current = undefined;
    }
    return settle(run, session.provenance, agentTools.get(name), args, outcome);
  }

  return (name, input, call) => inTurn(run, () => governedCall(name, input, call));
}

/** The user's request as the monitor reads it: trusted text of origin `user`, the run's tenant. */
function requestItems(run: RunContext, request: NonNullable<ToolGovernanceOptions['request']>): SourcedText[] {
  const given = typeof request === 'function' ? request() : request;
  const texts = typeof given === 'string' ? [given] : given;
  return texts.map((text, index) => ({ source: `user:request#${index + 1}`, text, labels: makeLabels({ tenants: [run.tenant], classification: 'internal', origins: ['user'] }) }));
}

/** An allowed call's output (its labels recorded for later calls' flow checks), or the refusal or failure thrown for the model to see. */
function settle(run: RunContext, provenance: SourcedText[], tool: AgentTool | undefined, input: JsonValue, outcome: ToolCallOutcome): JsonValue {
  switch (outcome.status) {
    case 'ok': {
      const access = tool?.access;
      const args = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
      const scope = { runId: run.runId, task: run.task, tenant: run.tenant, principal: run.principal };
      const declared = access?.resultLabels?.(outcome.output, args, scope) ?? {};
      const resultLabels = makeLabels({
        tenants: declared.tenants ?? [access?.resource?.(args, scope)?.tenant ?? run.tenant],
        classification: declared.classification ?? 'internal',
        origins: declared.origins ?? [tool?.sideEffect === 'read' ? 'untrusted' : 'system'],
      });
      const incoming = checkIncoming(resultLabels, run.tenant, `tool-result:${outcome.tool}`);
      if (incoming.effect !== 'allow') run.escalate(`blocked by policy [${incoming.policyIds.join(', ')}]: ${incoming.reason}`);
      // Named as a tool's result, so the monitor never takes it for the task's declaration.
      provenance.push({ source: `tool-result:${outcome.tool}#${provenance.length + 1}`, text: canonicalJson(outcome.output), labels: resultLabels });
      return outcome.output;
    }
    case 'denied': {
      const policies = outcome.policyIds === undefined || outcome.policyIds.length === 0 ? '' : `: ${outcome.policyIds.join(', ')}`;
      throw new KeelError('tool-denied', `${outcome.tool} was refused (${outcome.reason}${policies}): ${outcome.message}`, { details: { reason: outcome.reason } });
    }
    case 'arguments-invalid':
      throw new KeelError('tool-denied', outcome.message, { details: { reason: 'arguments-invalid' } });
    case 'approval-required':
      throw new KeelError('tool-denied', `${outcome.tool} needs approval: ${outcome.reason}`, { details: { reason: 'approval-required' } });
    case 'failed':
      throw new KeelError(outcome.error.code === 'tool-timeout' ? 'tool-timeout' : 'tool-error', `${outcome.tool} failed: ${outcome.error.message}`);
  }
}

async function awaitApproval(run: RunContext, name: string, args: JsonValue, reason: string): Promise<{ approved: true; decider: string } | { approved: false; message: string }> {
  try {
    const approval = await run.approval(`approval:${name}`, { reason: `${name}: ${reason}`, details: { tool: name, arguments: args } });
    return { approved: true, decider: approval.decider };
  } catch (error) {
    if (error instanceof KeelError && error.code === 'approval-denied') return { approved: false, message: error.message };
    throw error;
  }
}

/** The journal holds JSON only: `undefined` becomes null, anything else goes through JSON text. */
export function jsonOf(value: unknown): JsonValue {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
