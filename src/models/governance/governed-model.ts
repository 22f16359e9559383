import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorData } from '../../errors/index.ts';
import { KeelError, toErrorData } from '../../errors/index.ts';
import type { EventData } from '../../journal/index.ts';
import { currentStep } from '../../journal/index.ts';
import type { Amount, BudgetAlert, BudgetLedger, LatencyTracker, PriceTable, Reservation, ResolvedPrice, TextTokenCounter, TokenCount } from '../../cost/index.ts';
import { costOf, countPromptTokensWith, resolvePrice, textTokenCounter } from '../../cost/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, LanguageModelV1, RateLimiterV1, StreamResultV1, UsageV1 } from '../../spec/index.ts';
import type { AlertHook } from './alerts.ts';
import { raiseAlert } from './alerts.ts';
import type { AttemptEnd, AttemptShape } from './attempt-shape.ts';
import type { ModelVersionBook } from './model-versions.ts';
import { pinnedModel, reportedVersion } from './model-versions.ts';
import { generateShape } from './attempt-shape.ts';
import { resiliencePolicy } from './resilience-policy.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';
import { callResiliently, ModelAttemptsError } from './resilient-call.ts';
import type { BudgetContract, RouteConfig, RequestTraits } from './route-config.ts';
import { conditionHolds, describeCondition } from './route-config.ts';
import type { SharedGuards } from './shared-guards.ts';
import { readOpenedStream, streamShape } from './stream-attempt.ts';

export interface Governance {
  resolveModel: (name: string) => LanguageModelV1;
  prices: PriceTable;
  guards: SharedGuards;
  ledger?: BudgetLedger;
  latency?: LatencyTracker;
  alertHooks?: AlertHook[];
  /** Counts routes' per-tenant rate limits (`RouteConfig.rateLimit`); required by a route that has one. */
  rateLimiter?: RateLimiterV1;
  /** The versions provider models last answered with; an answer from another version raises `model-version-change`. */
  versions?: ModelVersionBook;
}

interface Candidate {
  name: string;
  model: LanguageModelV1;
  price: ResolvedPrice;
  count: TokenCount;
  worst: Amount;
}

// Token counts of non-OpenAI models are estimates; reserve with room so an estimate that runs
// short cannot let actual spend pass what was reserved.
const estimateMargin = 1.15;

/** What a governed call booked once it was over. */
export interface CallSettlement {
  provider: string;
  modelId: string;
  /** Integer micro-USD, and the price table that priced it. */
  cost: { micros: number; priceVersion: string };
  /** What the provider reported; absent for a stream cut short before its finish part. */
  usage?: UsageV1;
  /** `usage`: priced from reported usage. `reservation`: an interrupted stream, billed its worst case. */
  billedFrom: 'usage' | 'reservation';
}

/** A governed stream: `settlement` resolves once the stream has ended, failed or been abandoned. */
export interface GovernedStreamResult extends StreamResultV1 {
  settlement: Promise<CallSettlement>;
}

/**
 * A route as a model. Every call, whole answer or stream, goes through the governance stack in
 * `#call`, outermost first:
 *   0. rate limit     the route's per-tenant limit; a call over it waits for a slot — journaled
 *   1. routing        choose the model for this request (rules, tier, cost) — journaled
 *   2. budget         reserve the worst case before sending; follow the contract when refused
 *   3. fallback       on failure, the next model of the route — journaled
 *   then, for each attempt on one model (callResiliently):
 *   4. retry          exponential backoff with jitter, never sooner than retry-after — waits journaled
 *   5. bulkhead       cap concurrent calls per route and model (a stream holds its slot to its end)
 *   6. breaker        per provider and model; transitions journaled
 *   7. timeout        per attempt (for a stream, per wait on the provider); the caller's signal
 *                     carries the overall deadline
 *   8. adapter        the provider call itself; each attempt journaled
 * then settle: actual cost booked, thresholds and latency SLAs checked, alerts raised.
 * A stream can be retried or fall back only until its first content part reaches the caller.
 */
export class GovernedModel implements LanguageModelV1 {
  readonly specificationVersion = 'v1';
  readonly provider = 'keel';
  readonly modelId: string;
  readonly #route: RouteConfig;
  readonly #governance: Governance;
  readonly #policy: ResiliencePolicy;
  readonly #models: Map<string, LanguageModelV1>;
  readonly #tier: string | undefined;
  /** Each model's price, resolved at its first call: the table is fixed for the route's life, and the lookup tries a pattern for dated ids. */
  readonly #prices = new Map<LanguageModelV1, ResolvedPrice>();

  constructor(route: RouteConfig, governance: Governance, tier?: string, models?: Map<string, LanguageModelV1>) {
    this.#route = route;
    this.#governance = governance;
    this.#policy = resiliencePolicy(route.resilience);
    this.#tier = tier;
    this.modelId = tier === undefined ? route.name : `${route.name}@${tier}`;
    // Resolve and price every model now: a missing key or an unpriced model fails at start.
    if (route.rateLimit !== undefined && governance.rateLimiter === undefined) {
      throw new KeelError('config-invalid', `route ${route.name} has a rateLimit, but no rate limiter was given to count it`);
    }
    this.#models = models ?? new Map(route.models.map((name) => [name, resolvePinned(route, name, governance)]));
    if (models === undefined) for (const model of this.#models.values()) resolvePrice(governance.prices, model.provider, model.modelId);
  }

  /** The same route for a sub-task of a given tier (`simple`, `complex`): rules may route it elsewhere. */
  forTier(tier: string): GovernedModel {
    return new GovernedModel(this.#route, this.#governance, tier, this.#models);
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const call = await this.#call(options, generateShape);
    const settlement = await call.settlement;
    return { ...call.value, cost: settlement.cost };
  }

  /**
   * Why this route cannot make embeddings (none of its models does), or undefined when one of its
   * models can: a gateway asks before it opens a run, so such a request reserves nothing.
   */
  embeddingsRefusal(): string | undefined {
    if (this.#route.models.some((name) => this.#models.get(name)?.doEmbed !== undefined)) return undefined;
    const [only] = this.#route.models;
    if (this.#route.models.length === 1 && only === this.#route.name) return `${only} makes no embeddings`;
    return `route ${this.#route.name}: none of its models (${this.#route.models.join(', ')}) makes embeddings`;
  }

  /**
   * Embeddings through the same stack as an answer: the route's rate limit, routing, the budget
   * reserved for the values' tokens (an embedding has no output), fallback, retries, bulkhead,
   * breaker and timeout; settled from the input tokens the provider reports. Only the route's
   * models that make embeddings are candidates, so none is reserved for that cannot take the call;
   * a route with none fails `model-unsupported` before anything (rate limit, routing, budget).
   */
  async doEmbed(options: EmbedOptionsV1): Promise<EmbedResultV1> {
    const refusal = this.embeddingsRefusal();
    if (refusal !== undefined) throw new KeelError('model-unsupported', refusal);
    const { values, dimensions, headers } = options;
    // What the budget and routing see: the values as a prompt, and nothing to generate.
    const planned: GenerateOptionsV1 = {
      messages: values.map((value) => ({ role: 'user', content: [{ type: 'text', text: value }] })),
      maxOutputTokens: 0,
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    };
    const embedShape: AttemptShape<EmbedResultV1> = {
      open: (model, request) => {
        if (model.doEmbed === undefined) return Promise.reject(new KeelError('model-unsupported', `${model.provider}:${model.modelId} makes no embeddings`));
        return model.doEmbed({
          values,
          ...(dimensions === undefined ? {} : { dimensions }),
          ...(headers === undefined ? {} : { headers }),
          ...(request.abortSignal === undefined ? {} : { abortSignal: request.abortSignal }),
        });
      },
      ended: (result) => Promise.resolve({ ok: true, usage: { inputTokens: result.usage.inputTokens, outputTokens: 0 }, responseId: result.response.id, response: result.response }),
    };
    const call = await this.#call(planned, embedShape, makesEmbeddings);
    const settlement = await call.settlement;
    return { ...call.value, cost: settlement.cost };
  }

  /**
   * The stream of the first attempt that produced content. Read it to its end, or stop with
   * `return()` (as `break` in `for await` does): until then the attempt holds its bulkhead slot
   * and its budget reservation.
   */
  async doStream(options: GenerateOptionsV1): Promise<GovernedStreamResult> {
    const call = await this.#call(options, streamShape);
    // Handled here so a caller that never asks for the settlement cannot crash the process with it.
    call.settlement.catch(() => undefined);
    return { stream: readOpenedStream(call.value), settlement: call.settlement };
  }

  /** The governance stack, written once for every call shape; `takes` narrows the route's models to those that can take the call. */
  async #call<Opened>(options: GenerateOptionsV1, shape: AttemptShape<Opened>, takes?: (model: LanguageModelV1) => boolean): Promise<{ value: Opened; settlement: Promise<CallSettlement> }> {
    const step = currentStep();
    if (this.#governance.ledger !== undefined && step === undefined) {
      throw new KeelError(
        'model-call-outside-step',
        `route ${this.#route.name} has a budget, and a budgeted model call must be reserved against its run: call it through context.model(...) inside a run, not directly`,
      );
    }
    // Copied only to set the route's default: nothing below changes the request.
    const request = options.maxOutputTokens !== undefined ? options : { ...options, maxOutputTokens: this.#route.maxOutputTokens ?? 1024 };
    // Without a limit there is nothing to wait for: no await, so no turn of the event loop's microtasks.
    if (this.#route.rateLimit !== undefined) await this.#awaitRateLimit(request.abortSignal);
    const order = this.#plan(request, takes);
    const attempts: ErrorData[] = [];
    let refusal: { scope: string; reason: string } | undefined;
    let refusedAtMicros = Number.POSITIVE_INFINITY;
    let previous: string | undefined;
    let lastReason = '';
    for (const candidate of order) {
      if (refusal !== undefined && candidate.worst.micros >= refusedAtMicros) continue;
      if (previous !== undefined) step?.record('model-fallback', { from: previous, to: candidate.name, reason: lastReason });
      previous = candidate.name;
      const reservation = await this.#reserve(candidate);
      if (reservation === 'refused') {
        refusal = this.#lastRefusal;
        refusedAtMicros = Math.min(refusedAtMicros, candidate.worst.micros);
        lastReason = `budget: ${refusal?.reason ?? 'refused'}`;
        if (this.#contract !== 'downgrade') throw this.#budgetExceeded(this.#contract);
        continue;
      }
      const began = performance.now();
      try {
        const opened = await callResiliently({ route: this.#route.name, name: candidate.name, model: candidate.model, request, policy: this.#policy, guards: this.#governance.guards, shape });
        const settlement = opened.ended.then((end) => this.#settle(candidate, reservation, end, performance.now() - began));
        return { value: opened.value, settlement };
      } catch (error) {
        // Nothing reached the caller: a provider does not bill a request it failed. A call its run's
        // stop cut short is another matter: the provider may generate, and bill, all of it, and no
        // usage says otherwise, so it is billed its reservation (the stop journals what the book booked).
        if (reservation !== undefined) await this.#release(reservation, stoppedByPerson(request.abortSignal) ? reservation.amount : { micros: 0, tokens: 0 });
        if (error instanceof KeelError && error.code === 'deadline-exceeded') throw error;
        attempts.push(...(error instanceof ModelAttemptsError ? error.attempts : [toErrorData(error)]));
        lastReason = error instanceof Error ? error.message : String(error);
      }
    }
    if (attempts.length === 0 && refusal !== undefined) throw this.#budgetExceeded('stop');
    throw new KeelError('route-exhausted', `route ${this.#route.name}: every model failed; last: ${lastReason}`, { details: { attempts: attempts } });
  }

  /**
   * Takes a slot of the route's per-tenant window, waiting (journaled as a `retry-wait`) as long as
   * the limiter says until one frees; a wait the call's deadline cuts short ends it.
   */
  async #awaitRateLimit(signal: AbortSignal | undefined): Promise<void> {
    const limit = this.#route.rateLimit?.perTenant;
    const limiter = this.#governance.rateLimiter;
    if (limit === undefined || limiter === undefined) return;
    const step = currentStep();
    if (step === undefined) {
      throw new KeelError('model-call-outside-step', `route ${this.#route.name} has a per-tenant rate limit, which needs the run's tenant: call it through context.model(...) inside a run`);
    }
    const key = `model:${this.#route.name}:tenant:${step.tenant}`;
    for (;;) {
      const decision = await limiter.acquire([{ key, limit: limit.limit, windowMs: limit.windowMs }]);
      if (decision.allowed) return;
      step.record('retry-wait', { attempt: 0, waitMs: decision.retryAfterMs, reason: 'rate-limit' });
      try {
        await delay(decision.retryAfterMs, undefined, signal === undefined ? {} : { signal });
      } catch (error) {
        if (signal?.aborted !== true) throw error;
        throw new KeelError('deadline-exceeded', `route ${this.#route.name}: the call's deadline passed while it waited for tenant ${step.tenant}'s rate limit (${limit.limit} per ${limit.windowMs} ms)`);
      }
    }
  }

  get #contract(): BudgetContract {
    return this.#route.onBudgetExceeded ?? 'downgrade';
  }

  #lastRefusal: { scope: string; reason: string } | undefined;

  #plan(request: GenerateOptionsV1, takes: ((model: LanguageModelV1) => boolean) | undefined): Candidate[] {
    // Models counted by the same tokenizer (a route's models are often one family) share a count.
    let lastCounter: TextTokenCounter | undefined;
    let lastCount: TokenCount | undefined;
    const names = takes === undefined ? this.#route.models : this.#route.models.filter((name) => takes(this.#models.get(name) as LanguageModelV1));
    const candidates = names.map((name) => {
      const model = this.#models.get(name) as LanguageModelV1;
      const counter = textTokenCounter(model.provider, model.modelId);
      const count = counter === lastCounter && lastCount !== undefined ? lastCount : countPromptTokensWith(counter, request);
      lastCounter = counter;
      lastCount = count;
      let price = this.#prices.get(model);
      if (price === undefined) {
        price = resolvePrice(this.#governance.prices, model.provider, model.modelId);
        this.#prices.set(model, price);
      }
      const inputTokens = Math.ceil(count.tokens * (count.estimated ? estimateMargin : 1.02)) + 16;
      const outputTokens = request.maxOutputTokens ?? 0;
      return { name, model, price, count, worst: { micros: costOf(price.price, { inputTokens, outputTokens }), tokens: inputTokens + outputTokens } };
    });
    const first = candidates[0];
    if (first === undefined) throw new KeelError('config-invalid', `route ${this.#route.name} has no models`);
    const traits: RequestTraits = {
      inputTokens: first.count.tokens,
      tools: (request.tools?.length ?? 0) > 0,
      structuredOutput: request.responseFormat !== undefined,
      tier: this.#tier,
    };
    let primary = first;
    let reason = 'first model of the route';
    const rule = this.#route.rules?.find((candidate) => conditionHolds(candidate.when, traits));
    // A rule whose model cannot take this call (it makes no embeddings) routes nothing.
    const ruled = rule === undefined ? undefined : candidates.find((candidate) => candidate.name === rule.use);
    if (rule !== undefined && ruled !== undefined) {
      primary = ruled;
      reason = rule.reason ?? `rule: ${describeCondition(rule.when)}`;
    } else if (this.#route.strategy === 'cheapest') {
      primary = candidates.reduce((cheapest, candidate) => (candidate.worst.micros < cheapest.worst.micros ? candidate : cheapest));
      reason = `cheapest worst case (${primary.worst.micros} micro-USD)`;
    }
    currentStep()?.record('route-decision', {
      route: this.#route.name,
      provider: primary.model.provider,
      modelId: primary.model.modelId,
      reason,
      estimatedInputTokens: primary.count.tokens,
      estimated: primary.count.estimated,
    });
    return [primary, ...candidates.filter((candidate) => candidate !== primary)];
  }

  /** A reservation, `undefined` when no budget applies, or `refused`. */
  async #reserve(candidate: Candidate): Promise<Reservation | undefined | 'refused'> {
    const ledger = this.#governance.ledger;
    const step = currentStep();
    if (ledger === undefined || step === undefined) return undefined;
    const outcome = await ledger.reserve({ runId: step.runId, task: step.task, tenant: step.tenant }, candidate.worst);
    const { provider, modelId } = candidate.model;
    if (outcome.ok) {
      const decision: Omit<EventData['budget-decision'], 'step'> = { provider, modelId, reservedMicros: candidate.worst.micros, reservedTokens: candidate.worst.tokens, outcome: 'reserved' };
      // Journaled only when the book holds it: an id with no book entry would settle nothing.
      if (outcome.reservation.keys.length > 0) decision.reservationId = outcome.reservation.id;
      step.record('budget-decision', decision);
      return outcome.reservation;
    }
    step.record('budget-decision', { provider, modelId, reservedMicros: candidate.worst.micros, reservedTokens: candidate.worst.tokens, outcome: 'refused', scope: outcome.scope, reason: outcome.reason });
    this.#lastRefusal = { scope: outcome.scope, reason: outcome.reason };
    return 'refused';
  }

  async #settle(candidate: Candidate, reservation: Reservation | undefined, end: AttemptEnd, latencyMs: number): Promise<CallSettlement> {
    // A stream reports usage only in its finish part, so one that failed or was abandoned after
    // content reached the caller has no usage to go by: it is billed pessimistically, its
    // reservation (the worst case), since the provider bills what it generated.
    const spent: Amount = end.ok ? { micros: costOf(candidate.price.price, end.usage), tokens: end.usage.inputTokens + end.usage.outputTokens } : candidate.worst;
    const hooks = this.#governance.alertHooks ?? [];
    if (reservation !== undefined) {
      const alerts = await this.#release(reservation, spent);
      for (const alert of alerts) raiseAlert({ kind: 'budget-threshold', ...alert }, hooks);
    }
    const step = currentStep();
    if (step !== undefined && end.ok) {
      const slow = this.#governance.latency?.record(step.task, Math.round(latencyMs));
      if (slow !== undefined) raiseAlert({ kind: 'latency-sla', ...slow }, hooks);
    }
    if (end.ok && end.response !== undefined && this.#governance.versions !== undefined) await this.#watchVersion(candidate, reportedVersion(end.response), step?.runId, hooks);
    const settlement: CallSettlement = {
      provider: candidate.model.provider,
      modelId: candidate.model.modelId,
      cost: { micros: spent.micros, priceVersion: candidate.price.priceVersion },
      billedFrom: end.ok ? 'usage' : 'reservation',
    };
    if (end.ok) settlement.usage = end.usage;
    return settlement;
  }

  /**
   * Settles a reservation. A book that cannot be written (its database unreachable) must not fail
   * a call the provider has already answered: the reservation stays in the book and is booked at
   * its full amount when it expires, which can only overstate the spend, never understate it.
   */
  async #release(reservation: Reservation, actual: Amount): Promise<BudgetAlert[]> {
    try {
      return (await this.#governance.ledger?.settle(reservation, actual)) ?? [];
    } catch {
      return [];
    }
  }

  /** Compares the answer's reported version with the last one seen; a book that cannot be read says nothing, and fails no call. */
  async #watchVersion(candidate: Candidate, version: string, runId: string | undefined, hooks: readonly AlertHook[]): Promise<void> {
    const book = this.#governance.versions;
    if (book === undefined) return;
    const { provider, modelId } = candidate.model;
    const previous = await book.observe({ route: this.#route.name, provider, modelId, version, runId }).catch(() => undefined);
    if (previous === undefined) return;
    raiseAlert(
      {
        kind: 'model-version-change',
        scope: `model:${provider}:${modelId}`,
        message: `${provider}:${modelId} (route ${this.#route.name}) answered as ${version}; it last answered as ${previous}. To roll back, pin the route: "pin": { "${candidate.name}": "${previous.split(' (')[0] ?? previous}" }`,
        threshold: 0,
        value: 1,
      },
      hooks,
    );
  }

  #budgetExceeded(contract: BudgetContract): KeelError {
    const refusal = this.#lastRefusal;
    return new KeelError('budget-exceeded', `route ${this.#route.name}: ${refusal?.reason ?? 'budget exhausted'}`, {
      details: { contract: contract === 'downgrade' ? 'stop' : contract, scope: refusal?.scope ?? null },
    });
  }
}

/** The route's model, or its pinned version (`RouteConfig.pin`) under the route's name for it. */
function resolvePinned(route: RouteConfig, name: string, governance: Governance): LanguageModelV1 {
  const pin = route.pin?.[name];
  if (pin === undefined) return governance.resolveModel(name);
  const separator = name.indexOf(':');
  const listed = governance.resolveModel(name);
  return pinnedModel(governance.resolveModel(`${name.slice(0, separator)}:${pin}`), { provider: listed.provider, modelId: listed.modelId });
}

function makesEmbeddings(model: LanguageModelV1): boolean {
  return model.doEmbed !== undefined;
}

/** Whether the call's signal was aborted because a person stopped its run (execute-run.ts gives that reason). */
function stoppedByPerson(signal: AbortSignal | undefined): boolean {
  const reason: unknown = signal?.aborted === true ? signal.reason : undefined;
  return reason instanceof KeelError && reason.code === 'run-stopped';
}
