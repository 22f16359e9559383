import type { ErrorData } from '../../errors/index.ts';
import { KeelError, toErrorData } from '../../errors/index.ts';
import { currentStep } from '../../journal/index.ts';
import type { Amount, BudgetLedger, LatencyTracker, PriceTable, Reservation, ResolvedPrice, TokenCount } from '../../cost/index.ts';
import { costOf, countPromptTokens, resolvePrice } from '../../cost/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamPartV1, StreamResultV1 } from '../../spec/index.ts';
import type { AlertHook } from './alerts.ts';
import { raiseAlert } from './alerts.ts';
import { resiliencePolicy } from './resilience-policy.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';
import { callResiliently, ModelAttemptsError } from './resilient-call.ts';
import type { BudgetContract, RouteConfig, RequestTraits } from './route-config.ts';
import { conditionHolds, describeCondition } from './route-config.ts';
import type { SharedGuards } from './shared-guards.ts';

export interface Governance {
  resolveModel: (name: string) => LanguageModelV1;
  prices: PriceTable;
  guards: SharedGuards;
  ledger?: BudgetLedger;
  latency?: LatencyTracker;
  alertHooks?: AlertHook[];
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

/**
 * A route as a model. Every call goes through the governance stack, outermost first:
 *   1. routing        choose the model for this request (rules, tier, cost) — journaled
 *   2. budget         reserve the worst case before sending; follow the contract when refused
 *   3. fallback       on failure, the next model of the route — journaled
 *   4. bulkhead       cap concurrent calls per route and model
 *   5. breaker        per provider and model; transitions journaled
 *   6. retry          exponential backoff with jitter, never sooner than retry-after — waits journaled
 *   7. timeout        per attempt; the caller's signal carries the overall deadline
 *   8. adapter        the provider call itself; each attempt journaled
 * then settle: actual cost booked, thresholds and latency SLAs checked, alerts raised.
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

  constructor(route: RouteConfig, governance: Governance, tier?: string, models?: Map<string, LanguageModelV1>) {
    this.#route = route;
    this.#governance = governance;
    this.#policy = resiliencePolicy(route.resilience);
    this.#tier = tier;
    this.modelId = tier === undefined ? route.name : `${route.name}@${tier}`;
    // Resolve and price every model now: a missing key or an unpriced model fails at start.
    this.#models = models ?? new Map(route.models.map((name) => [name, governance.resolveModel(name)]));
    if (models === undefined) for (const model of this.#models.values()) resolvePrice(governance.prices, model.provider, model.modelId);
  }

  /** The same route for a sub-task of a given tier (`simple`, `complex`): rules may route it elsewhere. */
  forTier(tier: string): GovernedModel {
    return new GovernedModel(this.#route, this.#governance, tier, this.#models);
  }

  async doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
    const request = { ...options, maxOutputTokens: options.maxOutputTokens ?? this.#route.maxOutputTokens ?? 1024 };
    const order = this.#plan(request);
    const step = currentStep();
    const attempts: ErrorData[] = [];
    let refusal: { scope: string; reason: string } | undefined;
    let refusedAtMicros = Number.POSITIVE_INFINITY;
    let previous: string | undefined;
    let lastReason = '';
    for (const candidate of order) {
      if (refusal !== undefined && candidate.worst.micros >= refusedAtMicros) continue;
      if (previous !== undefined) step?.record('model-fallback', { from: previous, to: candidate.name, reason: lastReason });
      previous = candidate.name;
      const reservation = this.#reserve(candidate);
      if (reservation === 'refused') {
        refusal = this.#lastRefusal;
        refusedAtMicros = Math.min(refusedAtMicros, candidate.worst.micros);
        lastReason = `budget: ${refusal?.reason ?? 'refused'}`;
        if (this.#contract !== 'downgrade') throw this.#budgetExceeded(this.#contract);
        continue;
      }
      const began = performance.now();
      try {
        const result = await callResiliently({ route: this.#route.name, name: candidate.name, model: candidate.model, request, policy: this.#policy, guards: this.#governance.guards });
        return this.#settle(candidate, reservation, result, performance.now() - began);
      } catch (error) {
        if (reservation !== undefined) this.#governance.ledger?.settle(reservation, { micros: 0, tokens: 0 });
        if (error instanceof KeelError && error.code === 'deadline-exceeded') throw error;
        attempts.push(...(error instanceof ModelAttemptsError ? error.attempts : [toErrorData(error)]));
        lastReason = error instanceof Error ? error.message : String(error);
      }
    }
    if (attempts.length === 0 && refusal !== undefined) throw this.#budgetExceeded('stop');
    throw new KeelError('route-exhausted', `route ${this.#route.name}: every model failed; last: ${lastReason}`, { details: { attempts: attempts } });
  }

  async doStream(options: GenerateOptionsV1): Promise<StreamResultV1> {
    // Streams are governed like calls up to their first part; a stream that fails midway is not
    // retried (its text may already be on someone's screen), it errors to the caller.
    const request = { ...options, maxOutputTokens: options.maxOutputTokens ?? this.#route.maxOutputTokens ?? 1024 };
    const [candidate] = this.#plan(request);
    if (candidate === undefined) throw new KeelError('route-exhausted', `route ${this.#route.name} has no models`);
    const reservation = this.#reserve(candidate);
    if (reservation === 'refused') throw this.#budgetExceeded(this.#contract === 'escalate' ? 'escalate' : 'stop');
    const began = performance.now();
    const opened = await candidate.model.doStream(request);
    const settle = (result: GenerateResultV1) => this.#settle(candidate, reservation, result, performance.now() - began);
    const release = () => {
      if (reservation !== undefined) this.#governance.ledger?.settle(reservation, { micros: 0, tokens: 0 });
    };
    return { stream: settledStream(opened.stream, settle, release) };
  }

  get #contract(): BudgetContract {
    return this.#route.onBudgetExceeded ?? 'downgrade';
  }

  #lastRefusal: { scope: string; reason: string } | undefined;

  #plan(request: GenerateOptionsV1): Candidate[] {
    const candidates = this.#route.models.map((name) => {
      const model = this.#models.get(name) as LanguageModelV1;
      const count = countPromptTokens(model.provider, model.modelId, request);
      const price = resolvePrice(this.#governance.prices, model.provider, model.modelId);
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
    if (rule !== undefined) {
      primary = candidates.find((candidate) => candidate.name === rule.use) ?? first;
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
  #reserve(candidate: Candidate): Reservation | undefined | 'refused' {
    const ledger = this.#governance.ledger;
    const step = currentStep();
    if (ledger === undefined || step === undefined) return undefined;
    const outcome = ledger.reserve({ runId: step.runId, task: step.task, tenant: step.tenant }, candidate.worst);
    const decision = { provider: candidate.model.provider, modelId: candidate.model.modelId, reservedMicros: candidate.worst.micros, reservedTokens: candidate.worst.tokens };
    if (outcome.ok) {
      step.record('budget-decision', { ...decision, outcome: 'reserved' });
      return outcome.reservation;
    }
    step.record('budget-decision', { ...decision, outcome: 'refused', scope: outcome.scope, reason: outcome.reason });
    this.#lastRefusal = { scope: outcome.scope, reason: outcome.reason };
    return 'refused';
  }

  #settle(candidate: Candidate, reservation: Reservation | undefined, result: GenerateResultV1, latencyMs: number): GenerateResultV1 {
    const micros = costOf(candidate.price.price, result.usage);
    const hooks = this.#governance.alertHooks ?? [];
    if (reservation !== undefined) {
      const alerts = this.#governance.ledger?.settle(reservation, { micros, tokens: result.usage.inputTokens + result.usage.outputTokens }) ?? [];
      for (const alert of alerts) raiseAlert({ kind: 'budget-threshold', ...alert }, hooks);
    }
    const step = currentStep();
    if (step !== undefined) {
      const slow = this.#governance.latency?.record(step.task, Math.round(latencyMs));
      if (slow !== undefined) raiseAlert({ kind: 'latency-sla', ...slow }, hooks);
    }
    return { ...result, cost: { micros, priceVersion: candidate.price.priceVersion } };
  }

  #budgetExceeded(contract: BudgetContract): KeelError {
    const refusal = this.#lastRefusal;
    return new KeelError('budget-exceeded', `route ${this.#route.name}: ${refusal?.reason ?? 'budget exhausted'}`, {
      details: { contract: contract === 'downgrade' ? 'stop' : contract, scope: refusal?.scope ?? null },
    });
  }
}

async function* settledStream(
  stream: AsyncIterable<StreamPartV1>,
  settle: (result: GenerateResultV1) => GenerateResultV1,
  release: () => void,
): AsyncGenerator<StreamPartV1> {
  let settled = false;
  let response: GenerateResultV1['response'] = { id: '', modelId: '' };
  try {
    for await (const part of stream) {
      if (part.type === 'response-start') response = part.response;
      if (part.type === 'finish') {
        settle({ content: [], finishReason: part.finishReason, usage: part.usage, response });
        settled = true;
      }
      yield part;
    }
  } finally {
    if (!settled) release();
  }
}
