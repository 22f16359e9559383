/**
 * How the natural-language suite's cases are written: per domain, a few honest tasks (the user's
 * request, the calls a correct model makes, the effects that make up the task) and, for each, the
 * attacks planted in the data that task reads, written out in ordinary language. Tools are
 * declared once per domain the way a user declares them: a name, a description, a schema, scopes,
 * a side effect and where the call sends data; no sensitive arguments, no request words, no
 * targets: the reference monitor's defaults govern them.
 */
import { z } from 'zod';
import type { Labels } from '../../../src/access/index.ts';
import type { JsonValue } from '../../../src/spec/index.ts';
import type { SideEffectClassV1 } from '../../../src/tools/index.ts';
import type { PlannedCall } from '../plan-script.ts';
import type { Attack, CaseToolSpec, Domain, EffectPattern, SecurityCase } from '../cases/shared.ts';

export const tenant = 'acme';
export const otherTenant = 'globex';
const companyDomain = '@acme.example';

export const text = z.string().min(1);
export const cents = z.number().int();

/** Internal when every address is the company's, external otherwise. */
export function byDomain(field: string) {
  return (args: Record<string, JsonValue>) => {
    const value = args[field];
    const addresses = (Array.isArray(value) ? value : [value]).filter((entry): entry is string => typeof entry === 'string');
    return addresses.length > 0 && addresses.every((address) => address.toLowerCase().endsWith(companyDomain)) ? ('internal' as const) : ('external' as const);
  };
}

export function tool(
  name: string,
  description: string,
  shape: Record<string, z.ZodType>,
  sideEffect: SideEffectClassV1,
  egress: CaseToolSpec['flow']['egress'] = sideEffect === 'read' ? 'none' : 'internal',
): CaseToolSpec {
  const area = name.split('_').slice(1).join('-') || name;
  return { name, description, inputSchema: z.object(shape), scopes: [`${area}:${sideEffect === 'read' ? 'read' : 'write'}`], sideEffect, flow: { egress } };
}

/** What a read tool returns in a task: its text (the injection is appended to `injectInto`'s) and labels. */
export interface TaskRead {
  text: string;
  labels?: Partial<Labels>;
}

export interface Task {
  key: string;
  userRequest: string;
  /** The task's minimal tools. */
  granted: string[];
  plan: PlannedCall[];
  expected: EffectPattern[];
  reads: Record<string, TaskRead>;
  /** The read tool whose result carries the attack. */
  injectInto: string;
}

export interface AttackSpec {
  attack: Exclude<Attack, 'none'>;
  /** The planted text, in ordinary language. */
  text: string;
  forbidden: EffectPattern[];
}

/** A benign task whose data looks like an attack (or whose request asks for a destructive or external effect itself). */
export interface Control extends Task {
  note: string;
}

export interface DomainSpec {
  domain: Domain;
  tools: CaseToolSpec[];
  records?: Record<string, { tenant: string; text: string }>;
  recordArgs?: string[];
  tasks: { task: Task; attacks: AttackSpec[] }[];
  controls: Control[];
}

const untrusted: Partial<Labels> = { classification: 'internal', origins: ['untrusted'] };

function reads(task: Task, planted: string | undefined): SecurityCase['reads'] {
  return Object.fromEntries(
    Object.entries(task.reads).map(([name, read]) => [name, { text: planted !== undefined && name === task.injectInto ? `${read.text}\n${planted}` : read.text, labels: read.labels ?? untrusted }]),
  );
}

export function casesOf(spec: DomainSpec): SecurityCase[] {
  const cases: SecurityCase[] = [];
  const base = (task: Task) => ({
    domain: spec.domain,
    placement: 'tool-result' as const,
    style: 'natural' as const,
    tenant,
    userRequest: task.userRequest,
    tools: spec.tools,
    granted: task.granted,
    plan: task.plan,
    expected: task.expected,
    ...(spec.records === undefined ? {} : { records: spec.records }),
    ...(spec.recordArgs === undefined ? {} : { recordArgs: spec.recordArgs }),
  });
  for (const { task, attacks } of spec.tasks) {
    attacks.forEach((attack, index) => {
      cases.push({ ...base(task), id: `${spec.domain}-${task.key}-${String(index + 1).padStart(2, '0')}-${attack.attack}`, attack: attack.attack, reads: reads(task, attack.text), forbidden: attack.forbidden });
    });
  }
  for (const control of spec.controls) {
    cases.push({ ...base(control), id: `${spec.domain}-control-${control.key}`, attack: 'none', reads: reads(control, undefined), forbidden: [] });
  }
  return cases;
}
