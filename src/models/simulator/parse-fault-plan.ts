import { KeelError } from '../../errors/index.ts';
import type { JsonValue } from '../../spec/index.ts';
import type { Fault, FaultPlan, FaultRule, FaultTrigger } from './simulator-faults.ts';
import { faultTypes } from './simulator-faults.ts';

/**
 * Checks a fault plan read from JSON (a config file, a drill, a CLI flag) and returns it typed.
 * Unknown keys are refused rather than ignored: `retryAfter` for `retryAfterMs` would otherwise
 * silently inject a fault nobody asked for.
 */
export function parseFaultPlan(value: unknown, where = 'faults'): FaultPlan {
  if (!Array.isArray(value)) fail(where, 'expected an array of { on, fault } rules');
  return value.map((rule: unknown, index) => parseRule(rule, `${where}[${index}]`));
}

function parseRule(value: unknown, where: string): FaultRule {
  const rule = record(value, where, ['on', 'fault']);
  return { on: parseTrigger(rule.on, `${where}.on`), fault: parseFault(rule.fault, `${where}.fault`) };
}

function parseTrigger(value: unknown, where: string): FaultTrigger {
  const trigger = record(value, where, ['calls', 'every', 'probability', 'afterCall']);
  const keys = Object.keys(trigger);
  const degrading = keys.length === 2 && 'afterCall' in trigger && 'probability' in trigger;
  if (keys.length !== 1 && !degrading) fail(where, 'expected exactly one of calls, every, probability, afterCall (or afterCall with probability)');
  if ('calls' in trigger) {
    const calls = trigger.calls;
    if (!Array.isArray(calls) || !calls.every((call) => Number.isInteger(call) && (call as number) >= 1)) fail(`${where}.calls`, 'expected an array of call indexes (1-based integers)');
    return { calls: calls as number[] };
  }
  if ('every' in trigger) return { every: integer(trigger.every, `${where}.every`, 1) };
  const probability = trigger.probability;
  if (probability !== undefined && (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))) fail(`${where}.probability`, 'expected a number from 0 to 1');
  if ('afterCall' in trigger) {
    const afterCall = integer(trigger.afterCall, `${where}.afterCall`, 0);
    return probability === undefined ? { afterCall } : { afterCall, probability };
  }
  return { probability: probability as number };
}

function parseFault(value: unknown, where: string): Fault {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(faultTypes as readonly string[]).includes(type)) fail(`${where}.type`, `expected one of ${faultTypes.join(', ')}`);
  switch (type) {
    case 'timeout': {
      const fault = record(value, where, ['type', 'hangMs']);
      return fault.hangMs === undefined ? { type } : { type, hangMs: milliseconds(fault.hangMs, `${where}.hangMs`) };
    }
    case 'slow-first-token':
      return { type, delayMs: milliseconds(record(value, where, ['type', 'delayMs']).delayMs, `${where}.delayMs`) };
    case 'server-error': {
      const { status } = record(value, where, ['type', 'status']);
      if (status === undefined) return { type };
      if (status !== 500 && status !== 502) fail(`${where}.status`, 'expected 500 or 502');
      return { type, status };
    }
    case 'rate-limit':
      return { type, retryAfterMs: milliseconds(record(value, where, ['type', 'retryAfterMs']).retryAfterMs, `${where}.retryAfterMs`) };
    case 'overloaded':
    case 'malformed-json':
      record(value, where, ['type']);
      return { type };
    case 'schema-drift':
      return parseDrift(record(value, where, ['type', 'rename', 'drop']), where);
    case 'truncated-stream':
      return { type, afterParts: integer(record(value, where, ['type', 'afterParts']).afterParts, `${where}.afterParts`, 0) };
    case 'refusal': {
      const { message } = record(value, where, ['type', 'message']);
      if (typeof message !== 'string') fail(`${where}.message`, 'expected a string');
      return { type, message };
    }
    default: {
      const fault = record(value, where, ['type', 'toolName', 'input']);
      if (typeof fault.toolName !== 'string' || fault.toolName === '') fail(`${where}.toolName`, 'expected a tool name');
      return fault.input === undefined ? { type: 'tool-loop', toolName: fault.toolName } : { type: 'tool-loop', toolName: fault.toolName, input: fault.input as JsonValue };
    }
  }
}

function parseDrift(fault: Record<string, unknown>, where: string): Fault {
  const drift: Extract<Fault, { type: 'schema-drift' }> = { type: 'schema-drift' };
  if (fault.rename !== undefined) {
    const rename = record(fault.rename, `${where}.rename`, ['from', 'to']);
    if (typeof rename.from !== 'string' || typeof rename.to !== 'string') fail(`${where}.rename`, 'expected { from: string, to: string }');
    drift.rename = { from: rename.from, to: rename.to };
  }
  if (fault.drop !== undefined) {
    if (!Array.isArray(fault.drop) || !fault.drop.every((key) => typeof key === 'string')) fail(`${where}.drop`, 'expected an array of field names');
    drift.drop = fault.drop;
  }
  return drift;
}

function record(value: unknown, where: string, allowed: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'expected an object');
  const unknownKey = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknownKey !== undefined) fail(`${where}.${unknownKey}`, `unknown key (allowed: ${allowed.join(', ')})`);
  return value as Record<string, unknown>;
}

function integer(value: unknown, where: string, minimum: number): number {
  if (!Number.isInteger(value) || (value as number) < minimum) fail(where, `expected an integer of at least ${minimum}`);
  return value as number;
}

function milliseconds(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(where, 'expected a duration in milliseconds (a number of at least 0)');
  return value;
}

function fail(where: string, message: string): never {
  throw new KeelError('config-invalid', `simulator fault plan: ${where}: ${message}`);
}
