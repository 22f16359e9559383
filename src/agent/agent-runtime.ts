/**
 * What a deployment gives every agent it serves: the governed model routes built from the config
 * file (prices, budgets, breakers shared by every agent of the process), the rate limiter its tools
 * share, and the store its memory lives in. Built once per process by `createKeel`.
 */
import { BudgetLedger, defaultPriceTable } from '../cost/index.ts';
import type { BudgetRule } from '../cost/index.ts';
import { buildGovernance, configHash } from '../config/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { GovernedModel, resolveModel, SharedGuards } from '../models/index.ts';
import type { Governance, RouteConfig } from '../models/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { AgentSimulatorOptions } from './agent-declaration.ts';
import { SlidingWindowRateLimiter } from '../tools/index.ts';
import type { RateLimiterV1 } from '../tools/index.ts';

export interface AgentRuntime {
  store: StoreV1;
  rateLimiter: RateLimiterV1;
  /** The configuration's hash, stored with every run it governs; null without a config file. */
  configHash: string | null;
  /** The route (or concrete model) an agent names, behind the governance stack. */
  model(name: string, agent: { task: string; simulator?: AgentSimulatorOptions }): GovernedModel;
}

export interface AgentRuntimeOptions {
  store: StoreV1;
  config?: KeelConfig;
  /** Where API keys and endpoints are read from. */
  environment: Record<string, string | undefined>;
  /** Per-run budgets agents declare, as ledger rules matched by task. */
  agentBudgets?: BudgetRule[];
  rateLimiter?: RateLimiterV1;
}

export function createAgentRuntime(options: AgentRuntimeOptions): AgentRuntime {
  const config: KeelConfig = options.config ?? { version: 1, routes: [] };
  const budgets = [...(config.budgets ?? []), ...(options.agentBudgets ?? [])];
  // Routes are built (and so checked: keys, providers, prices) at start, with every budget in one
  // ledger whose accounts live in the store when it offers them, so every process on the store
  // spends from the same budgets.
  const built = options.config === undefined ? undefined : buildGovernance(config, { environment: options.environment });
  const book = options.store.budgets;
  const expiry = config.budgetReservationExpiryMs === undefined ? {} : { reservationExpiryMs: config.budgetReservationExpiryMs };
  const ledger = budgets.length === 0 ? undefined : new BudgetLedger(budgets, book === undefined ? expiry : { book, ...expiry });
  const governance: Omit<Governance, 'resolveModel'> = {
    prices: built?.prices ?? defaultPriceTable,
    guards: built?.guards ?? new SharedGuards(),
    alertHooks: built?.alertHooks ?? [],
  };
  if (ledger !== undefined) governance.ledger = ledger;
  if (built?.latency !== undefined) governance.latency = built.latency;
  const routes = new Map((config.routes ?? []).map((route) => [route.name, route as RouteConfig]));
  const models = new Map<string, GovernedModel>();
  return {
    store: options.store,
    rateLimiter: options.rateLimiter ?? new SlidingWindowRateLimiter(),
    configHash: options.config === undefined ? null : configHash(options.config),
    model(name, agent) {
      const key = `${agent.task}\u0000${name}`;
      const known = models.get(key);
      if (known !== undefined) return known;
      const simulator = agent.simulator;
      const route: RouteConfig = routes.get(name) ?? { name, models: [name] };
      const model = new GovernedModel(route, {
        ...governance,
        resolveModel: (modelName) => resolveModel(modelName, { environment: options.environment, ...(simulator === undefined ? {} : { simulator }) }),
      });
      models.set(key, model);
      return model;
    },
  };
}
