import { randomUUID } from 'node:crypto';
import type { BudgetRule, CallBudgets } from '../cost/index.ts';
import { withCallBudgets } from '../cost/index.ts';
import type { Engine, RunContext, RunOutcome } from '../engine/index.ts';
import { defineTask } from '../engine/index.ts';
import { responseCacheStep } from '../journal/index.ts';
import type { ErrorData } from '../errors/index.ts';
import { KeelError, toErrorData } from '../errors/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, JsonValue, PolicyEngineV1, RateLimiterV1, StreamPartV1 } from '../spec/index.ts';
import type { GatewayFailure } from './gateway-failure.ts';
import { failureOfRun } from './gateway-failure.ts';
import { keyModelPolicies, modelCallRequest } from './key-policy.ts';
import type { CatalogModel } from './model-catalog.ts';
import { OpenRun, Turn } from './open-run.ts';
import type { RequestIdentity } from './request-identity.ts';
import type { ResponseCache } from './response-cache.ts';
import { streamPartsOf } from './response-cache.ts';

/** The wire format a request came in: also the name of its model step. */
export type GatewayApi = 'openai.chat.completions' | 'anthropic.messages' | 'openai.responses' | 'openai.embeddings';

/** What every call of a gateway run has, whatever it asks for. */
interface CallOfRun {
  /** The run's id, from `newRunId()`: known before the run starts, so a stream can be named by it. */
  runId: string;
  api: GatewayApi;
  target: CatalogModel;
  identity: RequestIdentity;
}

/** A call for a generated answer (chat completions, responses, messages), whole or streamed. */
export interface GenerateCall extends CallOfRun {
  kind: 'generate';
  options: GenerateOptionsV1;
  /** Streams the answer to the client as it arrives (a promise returned holds the upstream); absent for a whole answer. */
  onPart?: (part: StreamPartV1) => void | Promise<void>;
  /** Why a streamed answer did not reach its client (it stalled and was cut off), once the call is done; undefined when it did. */
  undelivered?: () => string | undefined;
}

/** An embeddings request: its values are embedded, answered whole (never streamed). */
export interface EmbedCall extends CallOfRun {
  kind: 'embed';
  embed: EmbedOptionsV1;
}

export type GatewayCall = GenerateCall | EmbedCall;

/** Whether the call's answer is streamed to its client. */
function streams(call: GatewayCall): boolean {
  return call.kind === 'generate' && call.onPart !== undefined;
}

/** What a call is answered with: a generated answer, or an embeddings request's vectors. */
export type CallAnswer = GenerateResultV1 | EmbedResultV1;

/** How a request's call ended: the answer, or what to tell the client. */
export type CallOutcome = { runId: string; result: CallAnswer } | { runId: string; failure: GatewayFailure };

/** A generated answer, for the wire formats that only ever carry one (an embeddings answer is a bug there). */
export function generatedAnswer(answer: CallAnswer): GenerateResultV1 {
  if ('embeddings' in answer) throw new KeelError('internal', 'an embeddings answer reached a wire format of generated answers');
  return answer;
}

/** A run id made before the run starts, so a stream's first bytes can already name it. */
export function newRunId(): string {
  return `run_${randomUUID()}`;
}

export interface GatewayRunsOptions {
  engine: Engine;
  /** The deployment's policy set, deciding `call-model` for every request. */
  policies: PolicyEngineV1 | undefined;
  /** Counts a key's requests per minute; shared across processes when the runtime's limiter is. */
  rateLimiter: RateLimiterV1;
  /** How long a run opened with `keel-run-id: new` waits for its next call before it ends. */
  idleMs: number;
  /** Told of every run that ends or parks (the monitors of `keel serve` watch them). */
  onRunEnd?: (outcome: RunOutcome) => void;
  /** The response cache, when the config's `gateway.cache` turns it on. */
  cache?: ResponseCache | undefined;
}

/** What one call was answered with: by the model, or from the cache (an answer of the run named). */
interface Served {
  result: CallAnswer;
  cachedFrom?: string;
}

/** The journaled outcome of a cache lookup: on replay the same answer comes back from the journal. */
type CacheLookup = { hit: false } | { hit: true; fromRun: string; ageMs: number; answer: JsonValue };

/**
 * A kept answer as the kind of answer the call asks for. The two kinds are keyed apart (an
 * embeddings key is made under `embed`), so a mismatch is a bug, not a miss.
 */
function keptAnswer(kept: Extract<CacheLookup, { hit: true }>, kind: 'embed'): EmbedResultV1;
function keptAnswer(kept: Extract<CacheLookup, { hit: true }>, kind: 'generate'): GenerateResultV1;
function keptAnswer(kept: Extract<CacheLookup, { hit: true }>, kind: GatewayCall['kind']): CallAnswer {
  const answer = kept.answer as unknown as CallAnswer;
  if (('embeddings' in answer) !== (kind === 'embed')) throw new KeelError('internal', `the response cache answered a ${kind} call with another kind of answer, kept by run ${kept.fromRun}`);
  return answer;
}

/** Answers that may be kept: complete ones, not a provider's error, filter or refusal. */
const cacheableFinish = new Set(['stop', 'tool-calls', 'length']);

const minuteMs = 60_000;
const terminal = new Set(['ok', 'degraded', 'escalated', 'failed']);

/**
 * Every request is one journaled run of task `gateway:<model>`: the engine opens it, leases it and
 * ends it, and its step is the durable `context.model(...)` call through the governed route, so
 * the budget is reserved before the call and the journal holds the request, every routing, budget
 * and attempt decision, the answer, its usage and its cost. The request itself stays in memory
 * (the run's input names the API, the model and whether it streams); the model step journals it.
 *
 * A request with `keel-run-id: new` opens a run that stays open for more calls: its task serves
 * calls one after another, each a model step of the same run, until none comes for `idleMs` or
 * the gateway closes; then it ends `ok`. A request naming such a run joins it, in the process
 * that holds the run (a gateway run is served only where its request is). Each call's failure is
 * its own: it is told to that call's client and the run takes the next one.
 */
export class GatewayRuns {
  readonly #engine: Engine;
  readonly #policies: PolicyEngineV1 | undefined;
  readonly #rateLimiter: RateLimiterV1;
  readonly #idleMs: number;
  readonly #keyPolicies: PolicyEngineV1 = keyModelPolicies();
  /** The first call of each run being started here, for its task to find. */
  readonly #first = new Map<string, Turn>();
  readonly #open = new Map<string, OpenRun>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #cache: ResponseCache | undefined;

  constructor(options: GatewayRunsOptions) {
    this.#cache = options.cache;
    this.#engine = options.engine;
    this.#policies = options.policies;
    this.#rateLimiter = options.rateLimiter;
    this.#idleMs = options.idleMs;
    this.#onRunEnd = options.onRunEnd;
  }

  readonly #onRunEnd: ((outcome: RunOutcome) => void) | undefined;

  /**
   * A key's requests per minute, counted before a run is opened: a refused request opens none.
   * Returns the 429 to answer, or undefined to go on.
   */
  async admit(identity: RequestIdentity): Promise<GatewayFailure | undefined> {
    const key = identity.key;
    const rpm = key?.settings.rpm;
    if (key === undefined || rpm === undefined) return undefined;
    const decision = await this.#rateLimiter.acquire([{ key: `gateway-key:${key.keyId}:requests`, limit: rpm, windowMs: minuteMs }]);
    if (decision.allowed) return undefined;
    return {
      kind: 'rate-limited',
      message: `key ${key.keyId} allows ${rpm} requests per minute; retry in ${Math.max(1, Math.ceil(decision.retryAfterMs / 1_000))} s`,
      code: 'rate_limit_exceeded',
      retryAfterMs: decision.retryAfterMs,
    };
  }

  /**
   * Opens the run and executes it here; resolves (never rejects) once the call has its outcome: for
   * a run of one call, once the run has ended; for an open run, once its first call is answered.
   */
  start(call: GatewayCall, open: boolean): Promise<CallOutcome> {
    this.#register(call.target);
    const { runId } = call;
    const first = new Turn(call);
    this.#first.set(runId, first);
    if (open) this.#open.set(runId, new OpenRun(call.identity.tenant, call.target.name));
    const input = { api: call.api, model: call.target.name, stream: streams(call), ...(open ? { open: true } : {}) };
    const done = this.#engine
      // The request that opens the run tags it (its metadata); calls joining it later do not retag it.
      .start(call.target.task, input, { principal: call.identity.principal, tenant: call.identity.tenant, runId, ...(call.identity.metadata === undefined ? {} : { tags: call.identity.metadata }) })
      .then(
        (outcome) => {
          this.#onRunEnd?.(outcome);
          // A run of one call answers once it has ended, so its journal is complete when the client hears.
          if (!open && first.result !== undefined && (outcome.status === 'ok' || outcome.status === 'degraded')) first.settle({ runId, result: first.result });
          // A call the run did not answer (it failed before, or ended under it) is told how the run ended.
          const failure = this.#failureOf(outcome.error, outcome.reason ?? `the run ended ${outcome.status}`, call.identity);
          for (const turn of [first, ...(this.#open.get(runId)?.drain() ?? [])]) turn.settle({ runId, failure });
        },
        (error: unknown) => {
          const failure = this.#failureOf(toErrorData(error), undefined, call.identity);
          for (const turn of [first, ...(this.#open.get(runId)?.drain() ?? [])]) turn.settle({ runId, failure });
        },
      )
      .finally(() => {
        this.#first.delete(runId);
        this.#open.delete(runId);
        this.#inFlight.delete(done);
      });
    this.#inFlight.add(done);
    return first.outcome;
  }

  /**
   * Adds a call to an open run of the same tenant. A run that is unknown or another tenant's is a
   * 404 (which of the two is not said); one that has ended, or is not open in this process, a 409.
   */
  async join(call: GatewayCall): Promise<CallOutcome> {
    const { runId } = call;
    const open = this.#open.get(runId);
    if (open !== undefined && open.tenant === call.identity.tenant) {
      if (open.model !== call.target.name) {
        return { runId, failure: { kind: 'invalid-request', message: `run ${runId} calls model ${open.model}; a call joining it must name the same model, not ${call.target.name}`, param: 'keel-run-id', code: 'run_model_mismatch' } };
      }
      const turn = new Turn(call);
      if (open.push(turn)) return turn.outcome;
    }
    const run = await this.#engine.store.getRun(runId);
    if (run === undefined || run.tenant !== call.identity.tenant) {
      return { runId, failure: { kind: 'not-found', message: `no run ${runId} of tenant ${call.identity.tenant}`, param: 'keel-run-id', code: 'run_not_found' } };
    }
    if (terminal.has(run.status) || open !== undefined) {
      return { runId, failure: { kind: 'conflict', message: `run ${runId} has ended${terminal.has(run.status) ? ` (${run.status})` : ''}: start another with keel-run-id: new`, param: 'keel-run-id', code: 'run_ended' } };
    }
    return {
      runId,
      failure: {
        kind: 'conflict',
        message: `run ${runId} does not take calls here: only a run opened with keel-run-id: new takes more, in the gateway process that opened it`,
        param: 'keel-run-id',
        code: 'run_not_open',
      },
    };
  }

  /** Ends every open run once its call in progress is answered; calls after this open new runs only. */
  closeOpenRuns(): void {
    for (const open of this.#open.values()) open.end();
  }

  /**
   * Stops every run still going here (a shutdown whose grace is over): each ends `failed`
   * (run-stopped), journaled, and its calls are told so. A run that ends meanwhile is left as it ended.
   */
  async stopInFlight(reason: string): Promise<void> {
    await Promise.all([...this.#first.keys()].map((runId) => this.#engine.stop(runId, { by: 'keel-gateway', reason }).catch(() => undefined)));
  }

  /** Resolves once every run started so far has ended (streams whose client left, open runs included). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #register(target: CatalogModel): void {
    if (this.#engine.tasks.serves(target.task)) return;
    this.#engine.tasks.register(
      defineTask({
        name: target.task,
        version: '1',
        config: { gateway: 1, model: target.name, route: target.route },
        run: (context) => this.#execute(context),
      }),
    );
  }

  async #execute(context: RunContext): Promise<JsonValue> {
    const first = this.#first.get(context.runId);
    // Gateway runs are executed only by the process that received them, while it holds the request.
    if (first === undefined) throw new KeelError('internal', `gateway run ${context.runId} has no request in this process: the client that sent it is gone`);
    const open = this.#open.get(context.runId);
    if (open === undefined) {
      const { result, cachedFrom } = await this.#serve(context, first.call);
      first.result = result;
      // A cached answer used no tokens in this run: its output says whose answer it was instead.
      if ('embeddings' in result) {
        if (cachedFrom !== undefined) return { embeddings: result.embeddings.length, usage: { inputTokens: 0, outputTokens: 0 }, cachedFrom };
        return { embeddings: result.embeddings.length, usage: { inputTokens: result.usage.inputTokens, outputTokens: 0 } };
      }
      if (cachedFrom !== undefined) return { finishReason: result.finishReason, usage: { inputTokens: 0, outputTokens: 0 }, cachedFrom };
      return { finishReason: result.finishReason, usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens } };
    }
    let turn: Turn | undefined = first;
    let calls = 0;
    while (turn !== undefined) {
      calls += 1;
      let outcome: CallOutcome;
      try {
        outcome = { runId: context.runId, result: (await this.#serve(context, turn.call)).result };
      } catch (error) {
        // Losing the run (its lease, a shutdown) ends it; anything else was this call's failure alone.
        if (error instanceof KeelError && (error.code === 'lease-lost' || error.code === 'deadline-exceeded')) throw error;
        outcome = { runId: context.runId, failure: this.#failureOf(toErrorData(error), undefined, turn.call.identity) };
      }
      // A checkpoint commits the call's events: durable before its client hears, as a one-call run's are at its end.
      await context.checkpoint(`call-${calls}`, { calls });
      turn.settle(outcome);
      turn = await open.next(this.#idleMs);
    }
    return { calls };
  }

  /**
   * One call: journaled as received, decided by policy, then answered from the cache where it is on
   * and holds the answer, else by the model step, with the key's budgets in force.
   */
  async #serve(context: RunContext, call: GatewayCall): Promise<Served> {
    const { identity } = call;
    context.record('request-receive', {
      api: call.api,
      model: call.target.name,
      stream: streams(call),
      principal: identity.principal,
      ...(identity.key === undefined ? {} : { key: identity.key.keyId }),
      ...(identity.traceparent === undefined ? {} : { traceparent: identity.traceparent }),
      ...(identity.metadata === undefined ? {} : { metadata: identity.metadata }),
    });
    if (identity.key !== undefined) this.#authorize(context, call, this.#keyPolicies, true);
    if (this.#policies !== undefined) this.#authorize(context, call, this.#policies, false);
    const budgets = keyBudgets(identity);
    const cache = this.#cache;
    const asker = { tenant: identity.tenant, principal: identity.principal, model: call.target.name };
    const cacheKey = cache?.keyOf(call.kind === 'embed' ? { ...asker, embed: call.embed } : { ...asker, options: call.options });
    const kept = cache !== undefined && cacheKey !== undefined ? await this.#lookUp(context, cache, cacheKey) : undefined;
    if (call.kind === 'embed') {
      if (kept?.hit === true) return { result: keptAnswer(kept, 'embed'), cachedFrom: kept.fromRun };
      const embedded = () => context.embed(call.api, call.target.model, call.embed);
      const result = await (budgets === undefined ? embedded() : withCallBudgets(budgets, embedded));
      // Every answer of an embeddings model is whole: there is no finish to judge it by.
      if (cache !== undefined && cacheKey !== undefined) await cache.put(cacheKey, result, context.runId);
      return { result };
    }
    if (kept?.hit === true) {
      const result = keptAnswer(kept, 'generate');
      if (call.onPart !== undefined) for (const part of streamPartsOf(result)) await call.onPart(part);
      const undelivered = call.undelivered?.();
      if (undelivered !== undefined) throw new KeelError('model-aborted', undelivered);
      return { result, cachedFrom: kept.fromRun };
    }
    const streaming = call.onPart === undefined ? undefined : { onPart: call.onPart };
    const model = () => context.model(call.api, call.target.model, call.options, streaming);
    const result = await (budgets === undefined ? model() : withCallBudgets(budgets, model));
    // The call is settled from its usage either way; the run says its answer was not delivered.
    const undelivered = call.undelivered?.();
    if (undelivered !== undefined) throw new KeelError('model-aborted', undelivered);
    // Kept before the run ends, so the client that hears the answer finds it on its next request.
    if (cache !== undefined && cacheKey !== undefined && cacheableFinish.has(result.finishReason)) await cache.put(cacheKey, result, context.runId);
    return { result };
  }

  /** The cache lookup, as a step: a replay meets the same answer (or the same miss) the run met, whatever the cache holds then. */
  async #lookUp(context: RunContext, cache: ResponseCache, key: string): Promise<CacheLookup> {
    return context.step<CacheLookup>(
      responseCacheStep,
      async () => {
        const kept = await cache.get(key);
        return kept === undefined ? { hit: false } : { hit: true, fromRun: kept.runId, ageMs: Math.max(0, Date.now() - kept.storedAt), answer: kept.result as unknown as JsonValue };
      },
      { idempotent: true, input: { key } },
    );
  }

  /** `call-model` on `Model::"<name>"` is decided, and journaled, before the call. */
  #authorize(context: RunContext, call: GatewayCall, policies: PolicyEngineV1, keyed: boolean): void {
    const { identity } = call;
    const request = modelCallRequest(identity, call.target, context.task);
    const decision = policies.decide(request);
    context.record('policy-decision', {
      principal: identity.principal,
      action: request.action,
      resource: `Model::${call.target.name}`,
      effect: decision.effect,
      policyIds: decision.policyIds,
      reason: decision.reason,
      engine: decision.engine,
      policySetVersion: decision.policySetVersion,
    });
    if (decision.effect !== 'allow') {
      const by = keyed && identity.key !== undefined ? ` with key ${identity.key.keyId}` : '';
      throw new KeelError('policy-denied', `${identity.principal} of tenant ${identity.tenant}${by} may not call model ${call.target.name}: ${decision.reason}`, {
        details: { policyIds: decision.policyIds, effect: decision.effect },
      });
    }
  }

  /** A key's tokens-per-minute budget running out is a rate limit (429, retry-after), not a spent budget. */
  #failureOf(error: ErrorData | undefined, reason: string | undefined, identity: RequestIdentity): GatewayFailure {
    const failure = failureOfRun(error, reason);
    const scope = error?.details?.scope;
    const key = identity.key;
    if (error?.code === 'budget-exceeded' && key !== undefined && typeof scope === 'string' && scope.startsWith(`key:${key.keyId}:minute:`)) {
      const retryAfterMs = minuteMs - (Date.now() % minuteMs);
      return { kind: 'rate-limited', message: `key ${key.keyId} allows ${key.settings.tpm ?? 0} tokens per minute: ${failure.message}`, code: 'rate_limit_exceeded', retryAfterMs };
    }
    return failure;
  }
}

/** The key's budget and tokens per minute, as `key` scopes of the store's budget book. */
function keyBudgets(identity: RequestIdentity): CallBudgets | undefined {
  const key = identity.key;
  if (key === undefined) return undefined;
  const rules: BudgetRule[] = [];
  const { budget, tpm } = key.settings;
  if (budget !== undefined) rules.push({ scope: 'key', window: budget.per, micros: budget.micros });
  if (tpm !== undefined) rules.push({ scope: 'key', window: 'minute', tokens: tpm });
  return rules.length === 0 ? undefined : { key: key.keyId, rules };
}
