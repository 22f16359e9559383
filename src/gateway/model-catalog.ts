import type { AgentRuntime, AgentSimulatorOptions } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { mergePrices } from '../config/index.ts';
import type { GovernedModel } from '../models/index.ts';
import { GatewayRequestError } from './gateway-failure.ts';

/** A model a client may name: a route of the config or a concrete `provider:model`, behind the governed route. */
export interface CatalogModel {
  /** As the client names it: `support`, `sim:default`. */
  name: string;
  /** The task its runs belong to: `gateway:<name>`. */
  task: string;
  model: GovernedModel;
  /** Whose tokenizer counts its prompts: the route's first model, or the model itself. */
  counting: { provider: string; modelId: string };
  route: boolean;
}

export interface ModelCatalogOptions {
  runtime: AgentRuntime;
  config: KeelConfig | undefined;
  /** For `sim:` models: the seed, script, latency and faults. */
  simulator: AgentSimulatorOptions;
}

/**
 * The names the gateway answers to. Each resolves through the deployment's runtime, so a route is
 * built with the config's prices, budgets, breakers and retries, and a concrete model gets the same
 * stack around it (a one-model route); a name that does not resolve (an unknown route or provider,
 * a missing API key, an unpriced model) is a 404 naming the reason.
 */
export class ModelCatalog {
  readonly #options: ModelCatalogOptions;
  readonly #routes: Map<string, string>;
  readonly #resolved = new Map<string, CatalogModel>();
  #listed: CatalogModel[] | undefined;

  constructor(options: ModelCatalogOptions) {
    this.#options = options;
    this.#routes = new Map((options.config?.routes ?? []).map((route) => [route.name, route.models[0] ?? '']));
  }

  resolve(name: string): CatalogModel {
    const known = this.#resolved.get(name);
    if (known !== undefined) return known;
    const first = this.#routes.get(name);
    if (first === undefined && !name.includes(':')) {
      const routes = [...this.#routes.keys()];
      const named = routes.length === 0 ? '' : `a route of the gateway's config (${routes.join(', ')}) or `;
      throw notFound(name, `The model '${name}' does not exist: name ${named}a provider model such as sim:default or openai:gpt-4o-mini.`);
    }
    const task = `gateway:${name}`;
    let model: GovernedModel;
    try {
      model = this.#options.runtime.model(name, { task, simulator: this.#options.simulator });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw notFound(name, `The model '${name}' is not available here: ${reason}`);
    }
    const entry: CatalogModel = { name, task, model, counting: split(first ?? name), route: first !== undefined };
    this.#resolved.set(name, entry);
    return entry;
  }

  /** Every route, then every priced model this deployment can reach (its provider's key is set). */
  list(): CatalogModel[] {
    if (this.#listed !== undefined) return this.#listed;
    const prices = mergePrices(this.#options.config?.prices);
    const names = [...this.#routes.keys(), ...Object.keys(prices.models), ...(prices.free ?? []).filter((name) => !name.includes('*'))];
    const listed: CatalogModel[] = [];
    for (const name of new Set(names)) {
      try {
        listed.push(this.resolve(name));
      } catch (error) {
        if (!(error instanceof GatewayRequestError)) throw error;
      }
    }
    this.#listed = listed;
    return listed;
  }
}

function notFound(name: string, message: string): GatewayRequestError {
  return new GatewayRequestError({ kind: 'not-found', message, param: 'model', code: 'model_not_found' });
}

function split(name: string): { provider: string; modelId: string } {
  const separator = name.indexOf(':');
  return separator === -1 ? { provider: name, modelId: '' } : { provider: name.slice(0, separator), modelId: name.slice(separator + 1) };
}
