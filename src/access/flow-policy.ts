/**
 * Information-flow rules the harness checks before a tool runs. Declarative: each rule is an id,
 * a sentence, and a check over (the tool's flow declaration, the arguments, their labels, the run).
 * The decision has the shape of access's PolicyDecision (effect, the ids of the rules that decided,
 * a reason), so it can ride callTool's `authorize` hook and be journaled with the call.
 *
 * Rule `flow.scope` (tools outside the task's grant are denied) duplicates callTool's own scope
 * check on purpose: the flow checker is complete on its own, and the Cedar engine is not involved
 * (kept out of this checker for now; access's `authorize` hook can be chained in front of it).
 */
import type { PolicyEffect } from './policy-decision.ts';
import type { JsonValue } from '../spec/index.ts';
import type { Classification, Labels } from './labels.ts';
import { classificationRank } from './labels.ts';

export type Egress = 'none' | 'internal' | 'external';

/** What a tool declares about the data it moves. */
export interface ToolFlowDeclaration {
  name: string;
  scopes: string[];
  /** Where its arguments go: nowhere, inside the company, or outside it (may depend on the arguments). */
  egress: Egress | ((args: Record<string, JsonValue>) => Egress);
  /** Arguments a value of untrusted origin may never choose (payment recipient, amount, email address). */
  sensitiveArgs?: string[];
  /** The argument naming whose data the tool touches: it must be the run's tenant. */
  tenantArg?: string;
  /**
   * Arguments naming whom the call's data reaches (an address, a patient, a ticket): personal or
   * confidential data may go out to its own subjects. Default: arguments named like an address
   * (`to`, `email`, `recipient`, `attendees`, …), else the resource the call acts on.
   */
  recipientArgs?: string[];
}

export interface FlowCheckInput {
  tool: ToolFlowDeclaration;
  args: Record<string, JsonValue>;
  argLabels: Record<string, Labels>;
  runTenant: string;
  grantedScopes: readonly string[];
  /** The resource the call acts on, resolved from its arguments: the recipient when no argument names one. */
  resourceId?: string;
}

const recipientNamePattern = /^(?:to|cc|bcc|recipients?|emails?|address|attendees?|invitees?|with)$|(?:Email|Emails|Recipient|Recipients|Address)$/;

/** Whom a call sends to: its recipient arguments' values, else the resource it acts on, else the values of its `…Id` arguments. */
export function recipientsOf(tool: ToolFlowDeclaration, args: Record<string, JsonValue>, resourceId?: string): string[] {
  const values = (names: string[]) => names.flatMap((name) => [args[name]].flat()).filter((value): value is string | number => typeof value === 'string' || typeof value === 'number').map(String);
  const named = tool.recipientArgs ?? Object.keys(args).filter((name) => recipientNamePattern.test(name));
  if (named.length > 0) return values(named);
  if (resourceId !== undefined) return [resourceId];
  return values(Object.keys(args).filter((name) => /(?:Id|_id)$/.test(name)));
}

export interface FlowViolation {
  rule: string;
  argument?: string;
  reason: string;
}

/** PolicyDecision's shape, from the flow checker instead of Cedar. */
export interface FlowDecision {
  effect: Extract<PolicyEffect, 'allow' | 'deny'>;
  policyIds: string[];
  reason: string;
  engine: 'keel-flow';
  violations: FlowViolation[];
}

export interface FlowRule {
  id: string;
  description: string;
  check(input: FlowCheckInput): FlowViolation[];
}

/** The highest classification that may leave the company. */
export const maxExternalClassification: Classification = 'internal';

export function egressOf(tool: ToolFlowDeclaration, args: Record<string, JsonValue>): Egress {
  return typeof tool.egress === 'function' ? tool.egress(args) : tool.egress;
}

export const flowRules: readonly FlowRule[] = [
  {
    id: 'flow.scope',
    description: 'A tool outside the scopes granted to the task is denied.',
    check: ({ tool, grantedScopes }) => {
      const missing = tool.scopes.filter((scope) => !grantedScopes.includes(scope));
      return missing.length === 0 ? [] : [{ rule: 'flow.scope', reason: `${tool.name} needs scopes not granted to this task: ${missing.join(', ')}` }];
    },
  },
  {
    id: 'flow.no-confidential-egress',
    description: 'Confidential or personal data may not flow into a tool that sends outside the company.',
    check: ({ tool, args, argLabels, resourceId }) => {
      if (egressOf(tool, args) !== 'external') return [];
      const recipients = recipientsOf(tool, args, resourceId);
      // Data about someone may go to that someone: every recipient must be a subject of every sensitive part.
      const toItsSubjects = (labels: Labels) => recipients.length > 0 && recipients.every((recipient) => (labels.subjects ?? []).some((subject) => subject.toLowerCase() === recipient.toLowerCase()));
      return Object.entries(argLabels)
        .filter(([, labels]) => classificationRank(labels.classification) > classificationRank(maxExternalClassification) && !toItsSubjects(labels))
        .map(([argument, labels]) => ({
          rule: 'flow.no-confidential-egress',
          argument,
          reason: `argument ${argument} carries ${labels.classification} data${labels.subjects === undefined || labels.subjects.length === 0 ? '' : ` about ${labels.subjects.join(', ')}`} and ${tool.name} sends it outside the company${recipients.length === 0 ? '' : ` to ${recipients.join(', ')}`}`,
        }));
    },
  },
  {
    id: 'flow.untrusted-sensitive-arg',
    description: 'A value of untrusted origin may not choose a sensitive argument (recipient, amount, address).',
    check: ({ tool, argLabels }) =>
      (tool.sensitiveArgs ?? [])
        .filter((argument) => argLabels[argument]?.origins.includes('untrusted') ?? false)
        .map((argument) => ({ rule: 'flow.untrusted-sensitive-arg', argument, reason: `${tool.name}.${argument} would be chosen by content of untrusted origin` })),
  },
  {
    id: 'flow.tenant-isolation',
    description: "Data of another tenant may not enter this tenant's run.",
    check: ({ tool, args, argLabels, runTenant }) => {
      const violations: FlowViolation[] = [];
      if (tool.tenantArg !== undefined) {
        const named = args[tool.tenantArg];
        if (named !== undefined && named !== runTenant) violations.push({ rule: 'flow.tenant-isolation', argument: tool.tenantArg, reason: `${tool.name} would read tenant ${JSON.stringify(named)}'s data into a run of tenant ${runTenant}` });
      }
      for (const [argument, labels] of Object.entries(argLabels)) {
        const foreign = labels.tenants.filter((tenant) => tenant !== runTenant);
        if (foreign.length > 0) violations.push({ rule: 'flow.tenant-isolation', argument, reason: `argument ${argument} carries data of tenant ${foreign.join(', ')}` });
      }
      return violations;
    },
  },
];

/** Every rule, in order; the call is allowed only when none objects. */
export function checkFlow(input: FlowCheckInput, rules: readonly FlowRule[] = flowRules): FlowDecision {
  const violations = rules.flatMap((rule) => rule.check(input));
  if (violations.length === 0) return { effect: 'allow', policyIds: [], reason: `no flow rule objects to ${input.tool.name}`, engine: 'keel-flow', violations };
  return { effect: 'deny', policyIds: [...new Set(violations.map((violation) => violation.rule))], reason: violations.map((violation) => violation.reason).join('; '), engine: 'keel-flow', violations };
}

/** Labels of a result about to enter the run: another tenant's data is refused (rule flow.tenant-isolation). */
export function checkIncoming(labels: Labels, runTenant: string, source: string): FlowDecision {
  const foreign = labels.tenants.filter((tenant) => tenant !== runTenant);
  if (foreign.length === 0) return { effect: 'allow', policyIds: [], reason: `${source} holds only tenant ${runTenant}'s data`, engine: 'keel-flow', violations: [] };
  const reason = `${source} holds data of tenant ${foreign.join(', ')}, which may not enter a run of tenant ${runTenant}`;
  return { effect: 'deny', policyIds: ['flow.tenant-isolation'], reason, engine: 'keel-flow', violations: [{ rule: 'flow.tenant-isolation', reason }] };
}
