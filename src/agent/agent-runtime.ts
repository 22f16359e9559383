/**
 * What a deployment gives every agent it serves: the governed model routes built from the config
 * file (prices, budgets, breakers), the rate limiter its tools and routes share, and the store its
 * memory lives in. Built once per process by `createKeel`. Budgets, rate limits and breaker state
 * are the deployment's, not the process's, whenever something shared holds them: the limiter and
 * breaker state given (Redis, when KEEL_REDIS_URL is set), else the store's own, else memory.
 */
import { BudgetLedger, defaultPriceTable } from '../cost/index.ts';
import type { BudgetRule } from '../cost/index.ts';
import { buildGovernance, configHash } from '../config/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { GovernedModel, resolveModel, SharedGuards } from '../models/index.ts';
import type { Governance, ResolveModelOptions, RouteConfig } from '../models/index.ts';
import { KeelError } from '../errors/index.ts';
import type { LanguageModelV1, StoreV1 } from '../spec/index.ts';
import type { AgentSimulatorOptions } from './agent-declaration.ts';
import type { BreakerStoreV1, ConcurrencyStoreV1 } from '../spec/index.ts';
import { SlidingWindowRateLimiter } from '../tools/index.ts';
import { JournalVersionBook } from '../monitor/index.ts';
import type { RateLimiterV1 } from '../tools/index.ts';

export interface AgentRuntime {
  store: StoreV1;
  rateLimiter: RateLimiterV1;
  /** The configuration's hash, stored with every run it governs; null without a config file. */
  configHash: string | null;
  /** The route (or concrete model) an agent names, behind the governance stack. */
  model(name: string, agent: { task: string; simulator?: AgentSimulatorOptions }): GovernedModel;
  /**
   * A route (or one model) with some of its models built outside Keel (an AI SDK model adapted to
   * LanguageModelV1), by their `provider:model` names; the others resolve as `model` resolves them.
   * A supplied model the route does not list is a wiring mistake and throws `config-invalid`.
   */
  governedRoute(name: string, supplied: ReadonlyMap<string, LanguageModelV1>): GovernedModel;
  /** A concrete `provider:model` as this deployment resolves it (the config's providers, its environment), without governance: a replay's candidate. */
  resolveModel(name: string, simulator?: AgentSimulatorOptions): LanguageModelV1;
}

export interface AgentRuntimeOptions {
  store: StoreV1;
  config?: KeelConfig;
  /** Where API keys and endpoints are read from. */
  environment: Record<string, string | undefined>;
  /** Per-run budgets agents declare, as ledger rules matched by task. */
  agentBudgets?: BudgetRule[];
  /** Default the store's shared windows (StoreV1.rateLimits), else one in this process's memory. */
  rateLimiter?: RateLimiterV1;
  /** Default the store's shared breaker state (StoreV1.breakers), else breakers in this process's memory. */
  breakers?: BreakerStoreV1;
  /** Default the store's shared bulkhead slots (StoreV1.concurrency), else bulkheads in this process's memory. */
  concurrency?: ConcurrencyStoreV1;
  /** Keep a ledger even without budget rules, for budgets a call brings with it (a gateway key's). */
  callBudgets?: boolean;
}

export function createAgentRuntime(options: AgentRuntimeOptions): AgentRuntime {
  const config: KeelConfig = options.config ?? { version: 1, routes: [] };
  const budgets = [...(config.budgets ?? []), ...(options.agentBudgets ?? [])];
  // Routes are built (and so checked: keys, providers, prices) at start, with every budget in one
  // ledger whose accounts live in the store when it offers them, so every process on the store
  // spends from the same budgets.
  const rateLimiter = options.rateLimiter ?? options.store.rateLimits ?? new SlidingWindowRateLimiter();
  const breakers = options.breakers ?? options.store.breakers;
  const concurrency = options.concurrency ?? options.store.concurrency;
  const guarded = { ...(breakers === undefined ? {} : { breakers }), ...(concurrency === undefined ? {} : { concurrency }) };
  const shared = { rateLimiter, ...guarded };
  const built = options.config === undefined ? undefined : buildGovernance(config, { environment: options.environment, ...shared });
  const book = options.store.budgets;
  const expiry = config.budgetReservationExpiryMs === undefined ? {} : { reservationExpiryMs: config.budgetReservationExpiryMs };
  const ledger = budgets.length === 0 && options.callBudgets !== true ? undefined : new BudgetLedger(budgets, book === undefined ? expiry : { book, ...expiry });
  const governance: Omit<Governance, 'resolveModel'> = {
    prices: built?.prices ?? defaultPriceTable,
    guards: built?.guards ?? new SharedGuards(guarded),
    alertHooks: built?.alertHooks ?? [],
    rateLimiter,
    // Each answer's reported model version against the last the journal shows: a provider's silent update raises an alert.
    versions: new JournalVersionBook(options.store),
  };
  if (ledger !== undefined) governance.ledger = ledger;
  if (built?.latency !== undefined) governance.latency = built.latency;
  const routes = new Map((config.routes ?? []).map((route) => [route.name, route as RouteConfig]));
  // The config's own providers: a concrete `vllm:…` an agent or a gateway client names resolves as a route's does.
  const resolveOptions: ResolveModelOptions = { environment: options.environment, ...(config.providers === undefined ? {} : { providers: config.providers }) };
  const models = new Map<string, GovernedModel>();
  return {
    store: options.store,
    rateLimiter,
    configHash: options.config === undefined ? null : configHash(options.config),
    model(name, agent) {
      const key = `${agent.task}\u0000${name}`;
      const known = models.get(key);
      if (known !== undefined) return known;
      const simulator = agent.simulator;
      const route: RouteConfig = routes.get(name) ?? { name, models: [name] };
      const model = new GovernedModel(route, {
        ...governance,
        resolveModel: (modelName) => resolveModel(modelName, { ...resolveOptions, ...(simulator === undefined ? {} : { simulator }) }),
      });
      models.set(key, model);
      return model;
    },
    governedRoute(name, supplied) {
      const route: RouteConfig = routes.get(name) ?? { name, models: [name] };
      const foreign = [...supplied.keys()].filter((model) => !route.models.includes(model));
      if (foreign.length > 0) throw new KeelError('config-invalid', `route ${name} does not list ${foreign.join(', ')} (its models: ${route.models.join(', ')})`);
      return new GovernedModel(route, { ...governance, resolveModel: (modelName) => supplied.get(modelName) ?? resolveModel(modelName, resolveOptions) });
    },
    resolveModel(name, simulator) {
      return resolveModel(name, { ...resolveOptions, ...(simulator === undefined ? {} : { simulator }) });
    },
  };
}
