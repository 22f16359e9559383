import { KeelError } from '../errors/index.ts';
import { BudgetLedger, LatencyTracker } from '../cost/index.ts';
import type { PriceTable } from '../cost/index.ts';
import { GovernedModel, resiliencePolicy, resolveModel, SharedGuards } from '../models/index.ts';
import type { AlertHook, Governance, ResolveModelOptions, RouteConfig } from '../models/index.ts';
import type { BreakerStoreV1, ConcurrencyStoreV1, RateLimiterV1 } from '../spec/index.ts';
import { SlidingWindowRateLimiter } from '../tools/index.ts';
import { configHash } from './config-hash.ts';
import type { KeelConfig, RouteSetting } from './config-schema.ts';
import { mergePrices } from './merge-prices.ts';
import { webhookAlertHook } from './webhook-alert-hook.ts';

export interface BuildGovernanceOptions {
  /** Where API keys and endpoints are read from: passed explicitly, so a test never reads the real ones. */
  environment: Record<string, string | undefined>;
  /** For `sim:` models: the seed and scenario script. */
  simulator?: ResolveModelOptions['simulator'];
  /** Names the config in messages (its file path); omitted: messages start with the route. */
  source?: string;
  /** Counts routes' per-tenant rate limits; default one in this process's memory. */
  rateLimiter?: RateLimiterV1;
  /** Breaker state shared by the deployment's processes; default each process its own. */
  breakers?: BreakerStoreV1;
  /** Bulkhead slots shared by the deployment's processes; default each process its own. */
  concurrency?: ConcurrencyStoreV1;
}

export interface BuiltGovernance {
  /** Route name → the route as a model. */
  routes: Map<string, GovernedModel>;
  /** The built-in table with the config's entries over it. */
  prices: PriceTable;
  ledger?: BudgetLedger;
  latency?: LatencyTracker;
  guards: SharedGuards;
  rateLimiter: RateLimiterV1;
  alertHooks: AlertHook[];
  /** configHash of the config, to store with every run. */
  hash: string;
}

/**
 * Builds every route's GovernedModel now, so an unknown provider, a missing API key or an unpriced
 * model fails at start, naming the route, rather than at a run's first call to it.
 */
export function buildGovernance(config: KeelConfig, options: BuildGovernanceOptions): BuiltGovernance {
  const prices = mergePrices(config.prices);
  const guards = new SharedGuards({ ...(options.breakers === undefined ? {} : { breakers: options.breakers }), ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) });
  const rateLimiter = options.rateLimiter ?? new SlidingWindowRateLimiter();
  const alertHooks = (config.alerts?.webhooks ?? []).map(webhookAlertHook);
  const ledger = config.budgets === undefined || config.budgets.length === 0 ? undefined : new BudgetLedger(config.budgets, config.budgetReservationExpiryMs === undefined ? {} : { reservationExpiryMs: config.budgetReservationExpiryMs });
  const latency = config.latencySlas === undefined || config.latencySlas.length === 0 ? undefined : new LatencyTracker(config.latencySlas);
  const resolveOptions: ResolveModelOptions = { environment: options.environment };
  if (options.simulator !== undefined) resolveOptions.simulator = options.simulator;
  if (config.providers !== undefined) resolveOptions.providers = config.providers;
  const governance: Governance = { resolveModel: (name) => resolveModel(name, resolveOptions), prices, guards, alertHooks, rateLimiter };
  if (ledger !== undefined) governance.ledger = ledger;
  if (latency !== undefined) governance.latency = latency;

  const routes = new Map<string, GovernedModel>();
  config.routes.forEach((route, index) => {
    try {
      routes.set(route.name, new GovernedModel(routeConfig(route), governance));
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
      const prefix = options.source === undefined ? '' : `${options.source}: `;
      throw new KeelError('config-invalid', `${prefix}routes[${index}] (${route.name}): ${reason}`, { cause: error });
    }
  });

  const built: BuiltGovernance = { routes, prices, guards, rateLimiter, alertHooks, hash: configHash(config) };
  if (ledger !== undefined) built.ledger = ledger;
  if (latency !== undefined) built.latency = latency;
  return built;
}

/** The config's route as GovernedModel takes it: resilience with every default filled in. */
function routeConfig(route: RouteSetting): RouteConfig {
  const { resilience, ...rest } = route;
  if (resilience === undefined) return rest;
  const { breaker, bulkhead, ...flat } = resilience;
  const policy = resiliencePolicy(flat);
  // A bulkhead the config declares is a deployment's limit, held across processes; the default one is a per-process safety cap.
  return { ...rest, resilience: { ...policy, breaker: { ...policy.breaker, ...breaker }, bulkhead: bulkhead === undefined ? policy.bulkhead : { ...policy.bulkhead, shared: true, ...bulkhead } } };
}
