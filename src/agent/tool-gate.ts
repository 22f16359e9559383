/**
 * The decision on one proposed tool call, made before it runs, in this order: the resource it acts
 * on and that resource's tenant (resolved from the arguments: a call on another tenant's resource
 * never runs, reads included), then the policy engine (Cedar), then the information-flow rules over
 * the arguments' labels. Scopes, schema, constraints, rate limits and approval rules follow in
 * callTool. Every decision is a `policy-decision` event with the policy ids and the labels.
 */
import type { Labels, PolicyEngine, PolicyRequest } from '../access/index.ts';
import { checkFlow } from '../access/index.ts';
import type { RunContext } from '../engine/index.ts';
import type { GrantV1, JsonValue } from '../spec/index.ts';
import type { AuthorizationDecisionV1, ToolAuthorizerV1 } from '../tools/index.ts';
import type { AgentTool } from './agent-declaration.ts';

export interface ToolGateInput {
  context: RunContext;
  tool: AgentTool;
  args: Record<string, JsonValue>;
  argumentLabels: Record<string, Labels>;
  grantedScopes: readonly string[];
  policies: PolicyEngine | undefined;
  shadowPolicies?: PolicyEngine | undefined;
  /** The run's task-scoped grants, passed to every policy request. */
  grants?: readonly GrantV1[];
}

function sideEffectAttribute(tool: AgentTool): string {
  return tool.sideEffect === 'read' ? 'none' : tool.sideEffect === 'irreversible' ? 'irreversible' : 'idempotent';
}

function labelsJson(argumentLabels: Record<string, Labels>): JsonValue {
  return Object.fromEntries(Object.entries(argumentLabels).map(([name, labels]) => [name, { tenants: [...labels.tenants], classification: labels.classification, origins: [...labels.origins] }]));
}

export function toolGate(input: Omit<ToolGateInput, 'tool' | 'args'>, tools: ReadonlyMap<string, AgentTool>): ToolAuthorizerV1 {
  return (registered, args) => {
    const tool = tools.get(registered.name);
    if (tool === undefined) return { effect: 'deny', reason: `tool ${registered.name} is not one of this agent's tools`, policyIds: [] };
    const record = typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {};
    return decideToolCall({ ...input, tool, args: record });
  };
}

export function decideToolCall(input: ToolGateInput): AuthorizationDecisionV1 {
  const { context, tool, args } = input;
  const run = { runId: context.runId, task: context.task, tenant: context.tenant, principal: context.principal };
  const access = tool.access ?? {};
  const principal = { type: 'User', id: context.principal, attributes: { tenant: context.tenant } };
  const labels = labelsJson(input.argumentLabels);

  let resource;
  try {
    resource = access.resource?.(args, run);
  } catch (error) {
    const reason = `the resource of ${tool.name} could not be resolved, so the call is refused: ${error instanceof Error ? error.message : String(error)}`;
    context.record('policy-decision', { principal: context.principal, action: access.action ?? 'call-tool', resource: `Tool::${tool.name}`, effect: 'deny', policyIds: ['access.resource-resolution'], reason, engine: 'keel-access', policySetVersion: 'builtin', tool: tool.name, labels });
    return { effect: 'deny', reason, policyIds: ['access.resource-resolution'] };
  }
  const resourceName = resource === undefined ? `Tool::${tool.name}` : `${resource.type}::${resource.id}`;
  if (resource?.tenant !== undefined && resource.tenant !== context.tenant) {
    const reason = `${tool.name} acts on ${resourceName} of tenant ${resource.tenant}, not this run's tenant ${context.tenant}`;
    context.record('policy-decision', { principal: context.principal, action: access.action ?? 'call-tool', resource: resourceName, effect: 'deny', policyIds: ['access.tenant-isolation'], reason, engine: 'keel-access', policySetVersion: 'builtin', tool: tool.name, labels });
    return { effect: 'deny', reason, policyIds: ['access.tenant-isolation'] };
  }

  let approval: string | undefined;
  const policyIds: string[] = [];
  if (input.policies !== undefined) {
    const { tenant: _tenant, ...entity } = resource ?? { type: 'Tool', id: tool.name, attributes: { sideEffect: sideEffectAttribute(tool), labels: [] } };
    const request: PolicyRequest = {
      principal,
      action: resource === undefined ? 'call-tool' : (access.action ?? 'call-tool'),
      resource: entity,
      context: { task: context.task, tenant: context.tenant, ...(access.policyContext?.(args) ?? {}) },
      ...(input.grants === undefined ? {} : { grants: input.grants }),
    };
    const decision = input.policies.decide(request);
    const shadow = input.shadowPolicies?.decide(request);
    context.record('policy-decision', {
      principal: context.principal,
      action: request.action,
      resource: resourceName,
      effect: decision.effect,
      policyIds: decision.policyIds,
      reason: decision.reason,
      engine: decision.engine,
      policySetVersion: decision.policySetVersion,
      tool: tool.name,
      labels,
      ...(shadow === undefined
        ? {}
        : { shadow: { effect: shadow.effect, policyIds: shadow.policyIds, reason: shadow.reason, policySetVersion: shadow.policySetVersion, agrees: shadow.effect === decision.effect } }),
    });
    policyIds.push(...decision.policyIds);
    if (decision.effect === 'require-approval') approval = `${decision.reason} [${decision.policyIds.join(', ')}]`;
    else if (decision.effect !== 'allow') return { effect: 'deny', reason: `${decision.effect}: ${decision.reason}`, policyIds: decision.policyIds };
  }

  const flow = checkFlow({
    tool: {
      name: tool.name,
      scopes: tool.scopes,
      egress: access.egress ?? (tool.sideEffect === 'read' ? 'none' : 'internal'),
      ...(access.sensitiveArgs === undefined ? {} : { sensitiveArgs: access.sensitiveArgs }),
      ...(access.tenantArg === undefined ? {} : { tenantArg: access.tenantArg }),
    },
    args,
    argLabels: input.argumentLabels,
    runTenant: context.tenant,
    grantedScopes: input.grantedScopes,
  });
  context.record('policy-decision', {
    principal: context.principal,
    action: 'flow',
    resource: resourceName,
    effect: flow.effect,
    policyIds: flow.policyIds,
    reason: flow.reason,
    engine: flow.engine,
    policySetVersion: 'builtin',
    tool: tool.name,
    labels,
  });
  if (flow.effect !== 'allow') return { effect: 'deny', reason: flow.reason, policyIds: flow.policyIds };
  if (approval !== undefined) return { effect: 'require-approval', reason: approval, policyIds };
  return { effect: 'allow', policyIds };
}
