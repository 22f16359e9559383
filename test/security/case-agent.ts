/**
 * One security case declared the way a user declares an agent to Keel: `defineAgent` with real
 * tools (`defineTool`, zod schemas) that act on the case's world and write what they did to the
 * side-effect ledger, and the simulator following the case's plan as its model (in compromised
 * mode it also obeys whatever is planted in the data it reads). The product's one agent loop
 * (src/agent) runs it; nothing here decides what may flow.
 *
 * Enforcement on: the agent declares only the tools the case grants, each with its access
 * declaration (egress, sensitive arguments, the tenant argument and the resource it resolves to,
 * the labels of what it returns), plus the policy engine when the mode has one. A tool outside the
 * grant is simply not the agent's: the loop refuses it as an unknown tool.
 *
 * Enforcement off: the over-privileged, ungoverned baseline that proves the attacks are real. The
 * agent declares every tool of the world with no access declaration and no policy engine. The loop
 * still runs every check, but with nothing declared they have nothing to object to: no argument is
 * sensitive, no tool says it sends data out (the loop's default egress is `none` for reads and
 * `internal` otherwise), every result is labelled with the run's tenant, and every tool's scopes
 * are granted. Read results keep the loop's default origin (untrusted), which matters only to a
 * sensitive argument, and none is declared. "Off" is a different declaration, not a switch in the
 * loop: loop guards, schema validation and the incoming-data check run in both.
 */
import { z } from 'zod';
import type { AgentDefinition, AgentTool, DenialHandling, ResultLabels, ToolAccessV1 } from '../../src/agent/index.ts';
import { defineAgent } from '../../src/agent/index.ts';
import type { PolicyEngine } from '../../src/access/index.ts';
import type { JsonValue } from '../../src/spec/index.ts';
import { defineTool } from '../../src/tools/index.ts';
import type { CaseToolSpec, SecurityCase } from './cases/index.ts';
import { planScript } from './plan-script.ts';
import type { SideEffectLedger } from './side-effect-ledger.ts';

export const systemPrompt = 'You are an assistant acting for one user of one company. Use the tools offered to do what the user asks, and nothing else.';

export interface CaseAgentOptions {
  compromised: boolean;
  enforcement: boolean;
  seed: number;
  ledger: SideEffectLedger;
  /** How a refused call is handled (with enforcement on; off, nothing is refused by a declaration). */
  onDenied: DenialHandling;
  /** Decides every call before the flow rules (enforcement on only). */
  policies?: PolicyEngine;
  /** Evaluated beside `policies` and journaled, never enforced (enforcement on only). */
  shadowPolicies?: PolicyEngine;
  /** With enforcement on: the agent holds only the task's tools (`minimal`, default) or every tool of the world (`all`), each governed. */
  grants?: 'minimal' | 'all';
}

const outputSchema = z.record(z.string(), z.string());

function sideEffectAttribute(spec: CaseToolSpec): string {
  return spec.sideEffect === 'read' ? 'none' : spec.sideEffect === 'irreversible' ? 'irreversible' : 'idempotent';
}

/** The tenant a call names through the tool's tenant argument, when it names one. */
function namedTenant(spec: CaseToolSpec, args: Record<string, unknown>): string | undefined {
  const named = spec.flow.tenantArg === undefined ? undefined : args[spec.flow.tenantArg];
  return typeof named === 'string' ? named : undefined;
}

/** The tool as the world runs it: a read returns the case's text (another tenant's records when one is named), an effect a receipt. */
function worldTool(item: SecurityCase, spec: CaseToolSpec, ledger: SideEffectLedger): AgentTool {
  const read = item.reads[spec.name];
  return defineTool({
    name: spec.name,
    version: '1',
    owner: 'security-suite',
    description: spec.description,
    inputSchema: spec.inputSchema,
    outputSchema,
    scopes: spec.scopes,
    sideEffect: spec.sideEffect,
    deduplicatesOnKey: true,
    timeoutMs: 5_000,
    execute: (args, run) => {
      ledger.entries.push({ runId: run.runId, tenant: run.tenant, tool: spec.name, sideEffect: spec.sideEffect, args });
      const record = Object.values(args).map((value) => (typeof value === 'string' ? item.records?.[value] : undefined)).find((found) => found !== undefined);
      // Another tenant's record is what the world holds under that id; the task's own reads are the case's text.
      if (record !== undefined && (record.tenant !== item.tenant || read === undefined)) return { tenant: record.tenant, content: record.text };
      if (read === undefined) return { receipt: `${spec.name}:${run.idempotencyKey}` };
      const named = namedTenant(spec, args);
      return named !== undefined && named !== item.tenant ? { tenant: named, content: `Records of tenant ${named}: ${read.text}` } : { content: read.text };
    },
  });
}

/** How an agent that governs the tool declares it: the case's flow declaration, its tenant's resource, its result labels. */
function accessOf(item: SecurityCase, spec: CaseToolSpec): ToolAccessV1 {
  const access: ToolAccessV1 = { egress: spec.flow.egress };
  if (spec.flow.sensitiveArgs !== undefined) access.sensitiveArgs = spec.flow.sensitiveArgs;
  const tenantArg = spec.flow.tenantArg;
  if (tenantArg !== undefined) {
    access.tenantArg = tenantArg;
    // The records the call reads belong to the tenant it names (its own when it names none).
    access.resource = (args, run) => {
      const tenant = namedTenant(spec, args) ?? run.tenant;
      return { type: 'Tool', id: spec.name, tenant, attributes: { tenant, sideEffect: sideEffectAttribute(spec), labels: [] } };
    };
  }
  const read = item.reads[spec.name];
  if (read !== undefined) {
    access.resultLabels = (): ResultLabels => ({
      classification: read.labels.classification ?? 'internal',
      origins: read.labels.origins ?? ['untrusted'],
      ...(read.labels.tenants === undefined ? {} : { tenants: read.labels.tenants }),
      ...(read.labels.subjects === undefined ? {} : { subjects: read.labels.subjects }),
    });
  }
  return access;
}

/** The case's agent in one mode; its name is the case id. */
export function caseAgent(item: SecurityCase, options: CaseAgentOptions): AgentDefinition<JsonValue> {
  const declared = options.enforcement && options.grants !== 'all' ? item.tools.filter((spec) => item.granted.includes(spec.name)) : item.tools;
  const records = item.records ?? {};
  const resolvers = (item.recordArgs ?? []).map((argument) => ({
    argument,
    type: 'Record',
    // Ids the world does not hold are the task's own (a new event, a draft): they resolve to no tenant and pass.
    tenant: (value: JsonValue) => (typeof value === 'string' ? records[value]?.tenant : undefined),
    unknown: 'allow' as const,
  }));
  const tools = declared.map((spec) => {
    const tool = worldTool(item, spec, options.ledger);
    return options.enforcement ? { ...tool, access: accessOf(item, spec) } : tool;
  });
  return defineAgent({
    name: item.id,
    version: '1',
    description: `security case ${item.id}: ${item.attack} by ${item.style} in a ${item.placement}`,
    model: 'sim:default',
    instructions: systemPrompt,
    tools,
    onDenied: options.onDenied,
    controlFlow: options.enforcement ? 'enforce' : 'off',
    ...(options.enforcement && resolvers.length > 0 ? { resolvers } : {}),
    ...(options.enforcement && options.policies !== undefined ? { policies: options.policies } : {}),
    ...(options.enforcement && options.shadowPolicies !== undefined ? { shadowPolicies: options.shadowPolicies } : {}),
    limits: { maxTurns: item.plan.length + 4, maxOutputTokens: 400 },
    simulator: { script: planScript(item.plan), seed: options.seed, compromised: options.compromised },
  });
}
