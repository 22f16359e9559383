import { loadConfig } from '../../config/index.ts';
import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';
import { describeRetention, runRetentionJob } from '../retention-job.ts';

/**
 * `keel retention apply [--dry-run]`: deletes ended runs older than the config's `retention.runs`,
 * after journaling a signed retention record naming them; `keel worker` does the same on a schedule.
 * With --dry-run it only counts them, and writes nothing.
 */
export const retentionApplyCommand: Command = async (context) => {
  const configPath = context.options.config ?? context.environment.KEEL_CONFIG;
  if (configPath === undefined) throw new KeelError('usage-invalid', 'keel retention apply needs --config PATH (or KEEL_CONFIG) whose "retention" says how long ended runs are kept, e.g. {"runs": "180d"}');
  const config = loadConfig(configPath);
  if (config.retention === undefined) throw new KeelError('config-invalid', `${configPath} sets no retention: add "retention": {"runs": "180d"}`);
  const dryRun = context.options.dryRun;
  const store = await openStore({ database: context.options.db, create: false, readOnly: dryRun, environment: context.environment });
  try {
    const outcome = await runRetentionJob({ store, config, environment: context.environment, by: decider(undefined, context.environment), dryRun });
    if (context.options.json) printJson(context, { database: store.location, dryRun, ...outcome });
    else context.output.stdout(`${describeRetention(outcome, dryRun)}\n`);
  } finally {
    await store.close();
  }
  return 0;
};
