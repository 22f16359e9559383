/**
 * The decision on one proposed tool call, made before it runs, in this order: the resource it acts
 * on and that resource's tenant (resolved from the arguments: a call on another tenant's resource
 * never runs, reads included), then the policy engine (Cedar), then the information-flow rules over
 * the arguments' labels. Scopes, schema, constraints, rate limits and approval rules follow in
 * callTool. Every decision is a `policy-decision` event with the policy ids and the labels.
 */
import type { LabeledText, Labels, PolicyEngine, PolicyRequest } from '../access/index.ts';
import { checkControlFlow, checkFlow, defaultRequestWords, defaultTargetArgs, egressOf, isDestructiveName, labels as makeLabels } from '../access/index.ts';
import type { RunContext } from '../engine/index.ts';
import type { GrantV1, JsonValue } from '../spec/index.ts';
import type { AuthorizationDecisionV1, ToolAuthorizerV1 } from '../tools/index.ts';
import { inputJsonSchemaOf } from '../tools/index.ts';
import type { AgentTool, ResolvedResource, ResourceResolver } from './agent-declaration.ts';

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
  /**
   * Everything the model has read so far, with labels (the user's request, the instructions, tool
   * results): given, the control-flow monitor decides which consequential tool is called and on
   * what (src/access/control-flow.ts). Left out, only the argument labels are checked.
   */
  provenance?: readonly LabeledText[];
  /** `off` turns the control-flow monitor off (the ungoverned baseline). Default `enforce`. */
  controlFlow?: 'enforce' | 'off';
  /** Resolvers from argument values to resources and tenants, for tools without a resolver of their own. */
  resolvers?: readonly ResourceResolver[];
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

  let resource: ResolvedResource | undefined;
  let alsoResolved: ResolvedResource[] = [];
  try {
    if (access.resource !== undefined) resource = access.resource(args, run);
    else {
      alsoResolved = resolveByDeclaredResolvers(input.resolvers ?? [], args, run);
      resource = alsoResolved[0];
    }
  } catch (error) {
    const reason = `the resource of ${tool.name} could not be resolved, so the call is refused: ${error instanceof Error ? error.message : String(error)}`;
    context.record('policy-decision', { principal: context.principal, action: access.action ?? 'call-tool', resource: `Tool::${tool.name}`, effect: 'deny', policyIds: ['access.resource-resolution'], reason, engine: 'keel-access', policySetVersion: 'builtin', tool: tool.name, labels });
    return { effect: 'deny', reason, policyIds: ['access.resource-resolution'] };
  }
  const resourceName = resource === undefined ? `Tool::${tool.name}` : `${resource.type}::${resource.id}`;
  const foreign = [resource, ...alsoResolved.slice(1)].find((entry) => entry?.tenant !== undefined && entry.tenant !== context.tenant);
  if (foreign !== undefined) {
    const reason = `${tool.name} acts on ${foreign.type}::${foreign.id} of tenant ${foreign.tenant ?? ''}, not this run's tenant ${context.tenant}`;
    context.record('policy-decision', { principal: context.principal, action: access.action ?? 'call-tool', resource: resourceName, effect: 'deny', policyIds: ['access.tenant-isolation'], reason, engine: 'keel-access', policySetVersion: 'builtin', tool: tool.name, labels });
    return { effect: 'deny', reason, policyIds: ['access.tenant-isolation'] };
  }

  const outsideGrant = grantScopeViolation(tool, args, resource, input.grants ?? []);
  if (outsideGrant !== undefined) {
    context.record('policy-decision', { principal: context.principal, action: tool.name, resource: resourceName, effect: 'deny', policyIds: ['access.grant-scope'], reason: outsideGrant, engine: 'keel-access', policySetVersion: 'builtin', tool: tool.name, labels });
    return { effect: 'deny', reason: outsideGrant, policyIds: ['access.grant-scope'] };
  }

  let approval: string | undefined;
  const policyIds: string[] = [];
  if (input.policies !== undefined) {
    // Cedar sees the tool's own resource; one found by the agent's resolvers may be of a type its schema does not declare.
    const cedarResource = access.resource === undefined ? undefined : resource;
    const { tenant: _tenant, ...entity } = cedarResource ?? { type: 'Tool', id: tool.name, attributes: { sideEffect: sideEffectAttribute(tool), labels: [] } };
    const request: PolicyRequest = {
      principal,
      action: cedarResource === undefined ? 'call-tool' : (access.action ?? 'call-tool'),
      resource: entity,
      context: { task: context.task, tenant: context.tenant, ...(access.policyContext?.(args) ?? {}) },
      ...(input.grants === undefined ? {} : { grants: input.grants }),
    };
    const decision = input.policies.decide(request);
    const shadow = input.shadowPolicies?.decide(request);
    context.record('policy-decision', {
      principal: context.principal,
      action: request.action,
      resource: cedarResource === undefined ? `Tool::${tool.name}` : resourceName,
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
      ...(access.recipientArgs === undefined ? {} : { recipientArgs: access.recipientArgs }),
    },
    args,
    argLabels: withoutEnumTaint(tool, args, input.argumentLabels),
    runTenant: context.tenant,
    grantedScopes: input.grantedScopes,
    ...(resource === undefined || resource.type === 'Tool' ? {} : { resourceId: resource.id }),
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

  if (input.provenance !== undefined && input.controlFlow !== 'off') {
    const control = checkControlFlow({
      tool: {
        name: tool.name,
        sideEffect: tool.sideEffect,
        egress: egressOf({ name: tool.name, scopes: tool.scopes, egress: access.egress ?? (tool.sideEffect === 'read' ? 'none' : 'internal') }, args),
        targetArgs: access.targetArgs ?? defaultTargetArgs(Object.keys(args), access.sensitiveArgs, tool.sideEffect === 'irreversible'),
        requestedBy: access.requestedBy ?? defaultRequestWords(tool.name),
        destructive: access.destructive ?? isDestructiveName(tool.name),
        onInfluenced: access.onInfluenced ?? 'deny',
      },
      args,
      ...(resource === undefined ? {} : { resource: { type: resource.type, id: resource.id } }),
      provenance: input.provenance,
      grants: input.grants ?? [],
    });
    context.record('policy-decision', {
      principal: context.principal,
      action: 'control-flow',
      resource: resourceName,
      effect: control.effect,
      policyIds: control.policyIds,
      reason: control.reason,
      engine: control.engine,
      policySetVersion: 'builtin',
      tool: tool.name,
      labels,
    });
    if (control.effect === 'deny') return { effect: 'deny', reason: control.reason, policyIds: control.policyIds };
    if (control.effect === 'require-approval') {
      policyIds.push(...control.policyIds);
      approval = approval === undefined ? `${control.reason} [${control.policyIds.join(', ')}]` : `${approval}; ${control.reason} [${control.policyIds.join(', ')}]`;
    }
  }
  if (approval !== undefined) return { effect: 'require-approval', reason: approval, policyIds };
  return { effect: 'allow', policyIds };
}

/** Every argument a declared resolver knows, resolved to its resource and tenant, in argument order. */
function resolveByDeclaredResolvers(resolvers: readonly ResourceResolver[], args: Record<string, JsonValue>, run: { runId: string; task: string; tenant: string; principal: string }): ResolvedResource[] {
  const resolved: ResolvedResource[] = [];
  for (const [name, value] of Object.entries(args)) {
    for (const resolver of resolvers) {
      const matches = typeof resolver.argument === 'string' ? resolver.argument === name : new RegExp(resolver.argument.source, resolver.argument.flags.replace('g', '')).test(name);
      if (!matches) continue;
      for (const item of Array.isArray(value) ? value : [value]) {
        const id = typeof item === 'string' || typeof item === 'number' ? String(item) : JSON.stringify(item);
        const tenant = resolver.tenant(item, run);
        if (tenant === undefined && resolver.unknown !== 'allow') throw new Error(`${resolver.type} ${JSON.stringify(id)} (argument ${name}) is not one this deployment knows`);
        resolved.push({ type: resolver.type, id, ...(tenant === undefined ? {} : { tenant }), attributes: tenant === undefined ? {} : { tenant } });
      }
    }
  }
  return resolved;
}

/**
 * Task-scoped grants that name this tool (`action` = the tool's name, or its declared action)
 * name the resources it may act on: a call on any other is refused before it runs.
 */
function grantScopeViolation(tool: AgentTool, args: Record<string, JsonValue>, resource: ResolvedResource | undefined, grants: readonly GrantV1[]): string | undefined {
  const actions = new Set([tool.name, ...(tool.access?.action === undefined || tool.access.action === 'call-tool' ? [] : [tool.access.action])]);
  const relevant = grants.filter((grant) => actions.has(grant.action));
  if (relevant.length === 0) return undefined;
  if (resource !== undefined && resource.type !== 'Tool') {
    if (relevant.some((grant) => grant.resource.type === resource.type && grant.resource.id === resource.id)) return undefined;
    return `${tool.name} acts on ${resource.type}::${resource.id}, which this task's grants do not name (granted: ${relevant.map((grant) => `${grant.resource.type}::${grant.resource.id}`).join(', ')})`;
  }
  const values = new Set(Object.values(args).flatMap((value) => (Array.isArray(value) ? value : [value])).filter((value) => typeof value === 'string' || typeof value === 'number').map(String));
  if (relevant.some((grant) => values.has(grant.resource.id))) return undefined;
  return `${tool.name} names none of the resources this task's grants allow it (granted: ${relevant.map((grant) => `${grant.resource.type}::${grant.resource.id}`).join(', ')})`;
}

/** The enum values of each argument, from the tool's schema: constants the schema offers, never anyone's data. */
function enumValues(tool: AgentTool): Map<string, Set<JsonValue>> {
  const found = new Map<string, Set<JsonValue>>();
  let schema: JsonValue;
  try {
    schema = inputJsonSchemaOf(tool);
  } catch {
    return found;
  }
  const properties = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? schema.properties : undefined;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return found;
  for (const [name, property] of Object.entries(properties)) {
    const values = typeof property === 'object' && property !== null && !Array.isArray(property) ? property.enum : undefined;
    if (Array.isArray(values)) found.set(name, new Set(values));
  }
  return found;
}

/** An argument whose value is one the schema enumerates carries system labels, not those of a record that happens to contain it. */
function withoutEnumTaint(tool: AgentTool, args: Record<string, JsonValue>, argumentLabels: Record<string, Labels>): Record<string, Labels> {
  const enums = enumValues(tool);
  if (enums.size === 0) return argumentLabels;
  return Object.fromEntries(Object.entries(argumentLabels).map(([name, labels]) => [name, enums.get(name)?.has(args[name] ?? null) === true ? makeLabels({ origins: ['system'] }) : labels]));
}
