import type { JsonValue } from '../../spec/index.ts';
import { seededRandom, seedFrom } from './seeded-random.ts';

/**
 * Which calls a rule applies to, by the 1-based index of the call on one simulator instance.
 * `probability` draws from a PRNG seeded by (seed, conversation, call index, rule position), so a
 * retry (a new call index) gets a fresh draw while a re-run of the same scenario gets the same one.
 */
export type FaultTrigger =
  | { calls: number[] }
  | { every: number }
  | { probability: number }
  /** Calls after this one; with `probability`, a seeded share of them: a model that degrades from some point on. */
  | { afterCall: number; probability?: number };

/** One thing that goes wrong, modelled on what hosted providers actually do. */
export type Fault =
  /** Never answers: ends when the caller's abortSignal fires, or after `hangMs` (default 30 s). */
  | { type: 'timeout'; hangMs?: number }
  /** Answers, but only after an extra delay before the first token. */
  | { type: 'slow-first-token'; delayMs: number }
  | { type: 'server-error'; status?: 500 | 502 }
  /** HTTP 429 with a retry-after the caller should honour. */
  | { type: 'rate-limit'; retryAfterMs: number }
  /** HTTP 529, as Anthropic answers when it is out of capacity. */
  | { type: 'overloaded' }
  /** The JSON the model emits is cut short: text under `responseFormat: json`, else tool-call arguments. */
  | { type: 'malformed-json' }
  /** A silent "model update": the JSON output renames or drops fields (default: drops the first field). */
  | { type: 'schema-drift'; rename?: { from: string; to: string }; drop?: string[] }
  /** The stream fails with `model-stream-truncated` after this many parts, before `finish`. */
  | { type: 'truncated-stream'; afterParts: number }
  | { type: 'refusal'; message: string }
  /** Calls the same tool with the same input on every turn it fires: an endless tool loop. */
  | { type: 'tool-loop'; toolName: string; input?: JsonValue };

export type FaultType = Fault['type'];

export interface FaultRule {
  on: FaultTrigger;
  fault: Fault;
}

/** Plain JSON, so a plan can live in a config file, a drill definition or a test fixture. */
export type FaultPlan = FaultRule[];

export const faultTypes: readonly FaultType[] = [
  'timeout',
  'slow-first-token',
  'server-error',
  'rate-limit',
  'overloaded',
  'malformed-json',
  'schema-drift',
  'truncated-stream',
  'refusal',
  'tool-loop',
];

/** Faults that fail the call before any answer exists: the request never gets a stream. */
export function isFailureBeforeAnswer(fault: Fault): fault is Extract<Fault, { type: 'timeout' | 'server-error' | 'rate-limit' | 'overloaded' }> {
  return fault.type === 'timeout' || fault.type === 'server-error' || fault.type === 'rate-limit' || fault.type === 'overloaded';
}

/**
 * The fault for this call: rules are checked in order and the first whose trigger matches wins,
 * so a call carries at most one fault and a plan reads top to bottom like a schedule.
 */
export function faultForCall(plan: FaultPlan, call: number, drawKey: string): Fault | undefined {
  for (const [position, rule] of plan.entries()) {
    if (triggers(rule.on, call, () => seededRandom(seedFrom(`${drawKey}:rule-${position}`))())) return rule.fault;
  }
  return undefined;
}

function triggers(on: FaultTrigger, call: number, draw: () => number): boolean {
  if ('calls' in on) return on.calls.includes(call);
  if ('every' in on) return call % on.every === 0;
  if ('afterCall' in on) return call > on.afterCall && (on.probability === undefined || draw() < on.probability);
  return draw() < on.probability;
}
