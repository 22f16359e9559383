import { createKeel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { KeelError } from '../errors/index.ts';
import type { RetentionOutcome } from '../redaction/index.ts';
import { applyRetention, retentionSigningKey } from '../redaction/index.ts';
import type { StoreV1 } from '../spec/index.ts';

/**
 * Applies the config's retention once: each batch's record is journaled by a Keel bound to the same
 * store and config, so the record run is anchored (and its tree head signed) at its end.
 */
export async function runRetentionJob(options: { store: StoreV1; config: KeelConfig; environment: NodeJS.ProcessEnv; by: string; dryRun?: boolean; now?: Date }): Promise<RetentionOutcome> {
  const retention = options.config.retention;
  if (retention === undefined) throw new KeelError('config-invalid', 'the config sets no retention (add "retention": {"runs": "180d"})');
  return applyRetention({
    store: options.store,
    policy: retention.runs,
    signingKey: retentionSigningKey(options.config.audit?.signingKeyFile, options.environment),
    ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
    ...(options.now === undefined ? {} : { now: options.now }),
    start: async (task, input) => {
      const keel = await createKeel({ store: options.store, environment: options.environment, config: options.config, tasks: [task] });
      try {
        return await keel.run(task.name, input, { principal: options.by });
      } finally {
        await keel.close();
      }
    },
  });
}

export function describeRetention(outcome: RetentionOutcome, dryRun: boolean): string {
  if (dryRun) return `retention ${outcome.policy}: ${outcome.due} ended run(s) last written before ${outcome.cutoff} would be deleted (dry run: nothing written)`;
  if (outcome.due === 0) return `retention ${outcome.policy}: no ended run last written before ${outcome.cutoff}`;
  return `retention ${outcome.policy}: deleted ${outcome.deleted} of ${outcome.due} ended run(s) last written before ${outcome.cutoff}; recorded as run ${outcome.retentionRuns.join(', ')}`;
}

const defaultCheckIntervalSeconds = 3_600;

/**
 * `keel worker`'s retention schedule: once at start, then every `retention.checkIntervalSeconds`
 * (default an hour), one pass at a time. Undefined when the config sets no retention.
 */
export function startRetentionSchedule(options: { store: StoreV1; config: KeelConfig | undefined; environment: NodeJS.ProcessEnv; print: (line: string) => void }): { stop: () => Promise<void> } | undefined {
  const config = options.config;
  if (config?.retention === undefined) return undefined;
  let running: Promise<void> | undefined;
  const pass = () => {
    running ??= runRetentionJob({ store: options.store, config, environment: options.environment, by: 'system:keel-worker' })
      .then((outcome) => {
        if (outcome.due > 0) options.print(describeRetention(outcome, false));
      })
      .catch((error: unknown) => options.print(`retention failed, tried again at the next check: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`))
      .finally(() => {
        running = undefined;
      });
  };
  pass();
  const timer = setInterval(pass, (config.retention.checkIntervalSeconds ?? defaultCheckIntervalSeconds) * 1_000);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
