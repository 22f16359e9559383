import { LocalWorkerRegistry } from '../engine/index.ts';
import type { OrphanedRuns } from '../gateway/index.ts';
import type { CommandContext } from './command.ts';
import type { Deployment } from './open-deployment.ts';

/**
 * The runs of dead `keel serve` processes, for `keel worker` and `keel resume` to end as `keel
 * serve` does (src/gateway/orphaned-runs.ts): a gateway run is executed only by the process that
 * received its request, so once that process is gone and no gateway runs any more, nothing else
 * would end it, and its reservation would wait for its expiry. The cost of a call billed its
 * reservation is labelled with this deployment's price version, the config's prices, as `keel
 * serve` on the same config labels it.
 */
export async function deadGatewayRuns(context: CommandContext, deployment: Deployment): Promise<OrphanedRuns> {
  // Loaded only by the commands that end them: the gateway and the config are not otherwise needed here.
  const { OrphanedRuns } = await import('../gateway/index.ts');
  const { loadConfig, mergePrices } = await import('../config/index.ts');
  const configPath = context.options.config ?? context.environment.KEEL_CONFIG;
  const config = configPath === undefined ? undefined : loadConfig(configPath);
  const { engine, audit } = deployment.keel;
  return new OrphanedRuns({
    engine,
    priceVersion: mergePrices(config?.prices).version,
    registry: new LocalWorkerRegistry(),
    anchor: audit === undefined ? undefined : (runId) => audit.log.anchor([runId]),
  });
}
