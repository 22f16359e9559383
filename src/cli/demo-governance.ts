import { buildGovernance, loadConfig } from '../config/index.ts';
import type { SupportGovernance } from '../demo/index.ts';
import { defaultDemoGovernance, supportScript } from '../demo/index.ts';
import type { RouteConfig } from '../models/index.ts';

/**
 * The governance the demo's task runs under: from `--config` / KEEL_CONFIG when given (checked
 * whole at start: a bad setting stops the command before anything runs), else the defaults.
 */
export function demoGovernance(configPath: string | undefined, environment: NodeJS.ProcessEnv): SupportGovernance {
  const path = configPath ?? environment.KEEL_CONFIG;
  if (path === undefined) return defaultDemoGovernance(environment);
  const config = loadConfig(path);
  const built = buildGovernance(config, { environment, simulator: { script: supportScript }, source: path });
  const governance: SupportGovernance = { prices: built.prices, guards: built.guards, alertHooks: built.alertHooks, configHash: built.hash, environment };
  if (built.ledger !== undefined) governance.ledger = built.ledger;
  if (built.latency !== undefined) governance.latency = built.latency;
  const route = config.routes.find((candidate) => candidate.name === 'support');
  if (route !== undefined) governance.route = route as RouteConfig;
  return governance;
}
