/**
 * Circuit-breaker state in Redis (src/spec/breaker-store-v1.ts), shared by every process that
 * names the same server and prefix: one hash per breaker (state, failures, until). Each change is
 * one Lua script, which Redis runs alone, so two processes cannot both take the half-open probe.
 * `until` is Redis's clock (`TIME`); callers see durations only.
 */
import { KeelError } from '../errors/index.ts';
import type { BreakerFailureV1, BreakerProbeV1, BreakerStateNameV1, BreakerStateV1, BreakerStoreV1 } from '../spec/index.ts';
import type { RedisScripts } from './redis-scripts.ts';

// Every script answers {state, failures, until, now[, granted]}; a missing hash is closed.
const preamble = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'state', 'failures', 'until')
local state = saved[1] or 'closed'
local failures = tonumber(saved[2] or '0')
local untilMs = tonumber(saved[3] or '0')
local function save()
  redis.call('HSET', KEYS[1], 'state', state, 'failures', failures, 'until', untilMs)
  -- A breaker nobody has touched for a day is forgotten (it would read as closed anyway).
  redis.call('PEXPIRE', KEYS[1], 86400000)
end
`;

// ARGV: threshold, openForMs. A half-open breaker reopens on any failure; a closed one at the threshold.
const failureScript = `${preamble}
failures = failures + 1
if state == 'half-open' or (state == 'closed' and failures >= tonumber(ARGV[1])) then
  state = 'open'
  untilMs = now + tonumber(ARGV[2])
end
save()
return {state, failures, untilMs, now}
`;

// A success leaves an open breaker open: the call was let through before its process knew.
const successScript = `${preamble}
if state ~= 'open' then
  state = 'closed'
  failures = 0
  untilMs = 0
  save()
end
return {state, failures, untilMs, now}
`;

const readScript = `${preamble}
return {state, failures, untilMs, now}
`;

// ARGV: leaseMs.
const probeScript = `${preamble}
if state == 'closed' or untilMs > now then
  return {state, failures, untilMs, now, 0}
end
state = 'half-open'
untilMs = now + tonumber(ARGV[1])
save()
return {state, failures, untilMs, now, 1}
`;

export class RedisBreakerStates implements BreakerStoreV1 {
  readonly breakerSpecificationVersion = 'v1';
  readonly #scripts: RedisScripts;
  readonly #prefix: string;

  constructor(scripts: RedisScripts, prefix: string) {
    this.#scripts = scripts;
    this.#prefix = `${prefix}breaker:`;
  }

  async recordFailure(failure: BreakerFailureV1): Promise<BreakerStateV1> {
    return view(await this.#run('record a breaker failure', failureScript, failure.key, [String(failure.threshold), String(failure.openForMs)]));
  }

  async recordSuccess(key: string): Promise<BreakerStateV1> {
    return view(await this.#run('record a breaker success', successScript, key, []));
  }

  async readBreaker(key: string): Promise<BreakerStateV1> {
    return view(await this.#run('read a breaker', readScript, key, []));
  }

  async tryProbe(key: string, leaseMs: number): Promise<BreakerProbeV1> {
    const reply = await this.#run('probe a breaker', probeScript, key, [String(leaseMs)]);
    return { granted: Number(reply[4]) === 1, state: view(reply) };
  }

  async #run(what: string, script: string, key: string, values: string[]): Promise<unknown[]> {
    const reply = await this.#scripts.run(what, script, { keys: [this.#prefix + key], arguments: values });
    if (!Array.isArray(reply) || reply.length < 4) throw new KeelError('redis-unavailable', `cannot ${what}: the script answered ${JSON.stringify(reply)}`);
    return reply as unknown[];
  }
}

function view(reply: unknown[]): BreakerStateV1 {
  const state = String(reply[0]) as BreakerStateNameV1;
  const failures = Number(reply[1]);
  if (state === 'closed') return { state, consecutiveFailures: failures, remainingMs: 0 };
  return { state, consecutiveFailures: failures, remainingMs: Math.max(0, Number(reply[2]) - Number(reply[3])) };
}
