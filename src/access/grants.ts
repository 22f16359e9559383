import { KeelError } from '../errors/index.ts';
import type { GrantV1, JsonValue } from '../spec/index.ts';
import type { EntityReference } from './policy-request.ts';

/** Permission to do one action to one named resource, for one run (GrantV1: no wildcards). */
export type Grant = GrantV1;

/** Who runs which task for which tenant, on what input: everything a run's grants derive from. */
export interface GrantScope {
  task: string;
  principal: EntityReference;
  tenant: string;
  input: JsonValue;
}

/**
 * How one task's grants follow from its run. Declarative on purpose: one small function per task,
 * reviewed like a policy, instead of grants scattered through the task's code.
 */
export interface GrantRule {
  task: string;
  grants: (input: JsonValue, scope: GrantScope) => readonly Grant[];
}

function problem(task: string, message: string): KeelError {
  return new KeelError('grant-invalid', `grant rule for task "${task}": ${message}`, { details: { task } });
}

function checkGrant(task: string, grant: Grant): void {
  if (grant.action === '') throw problem(task, 'a grant has an empty action');
  if (grant.resource.type === '' || grant.resource.id === '') throw problem(task, `a grant for "${grant.action}" does not name a resource`);
  // Ids are matched exactly, so "*" would not widen anything; refusing it keeps a rule from reading
  // as if it granted a whole table.
  if (grant.resource.id === '*') throw problem(task, `a grant for "${grant.action}" names every ${grant.resource.type}; grants name single resources`);
}

function grantKey(grant: Grant): string {
  return JSON.stringify([grant.action, grant.resource.type, grant.resource.id]);
}

/**
 * The run's grants: the rule for its task applied to its input, checked, deduplicated and sorted
 * (so the same run always journals the same list). A task without a rule is granted nothing.
 */
export function computeGrants(rules: readonly GrantRule[], scope: GrantScope): Grant[] {
  const matching = rules.filter((rule) => rule.task === scope.task);
  if (matching.length > 1) throw problem(scope.task, 'more than one rule is defined');
  const rule = matching[0];
  if (rule === undefined) return [];
  const unique = new Map<string, Grant>();
  for (const grant of rule.grants(scope.input, scope)) {
    checkGrant(scope.task, grant);
    const copy: Grant = { action: grant.action, resource: { type: grant.resource.type, id: grant.resource.id } };
    unique.set(grantKey(copy), copy);
  }
  return [...unique.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([, grant]) => grant);
}

export function isGranted(grants: readonly Grant[], action: string, resource: EntityReference): boolean {
  return grants.some((grant) => grant.action === action && grant.resource.type === resource.type && grant.resource.id === resource.id);
}
