import type { OpenedAuditLog } from '../../audit/index.ts';
import type { RunAbandoned, RunOutcome } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { StoreV1 } from '../../spec/index.ts';
import type { KeelMetrics, MetricsServer, SpanExport } from '../../telemetry/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { deadGatewayRuns } from '../dead-gateway-runs.ts';
import { paintStatus } from '../format/text.ts';
import type { Deployment } from '../open-deployment.ts';
import { openDeployment } from '../open-deployment.ts';
import { startRetentionSchedule } from '../retention-job.ts';
import { servedFrom, unservedRuns } from '../unserved-runs.ts';
import type { WorkerOversight } from '../worker-oversight.ts';
import { startWorkerOversight } from '../worker-oversight.ts';

/** How long in-flight runs get to finish after SIGTERM/SIGINT before their steps are aborted and their runs released. */
const drainMs = 10_000;

/**
 * `keel worker`: serves runs of the served tasks until SIGTERM or SIGINT. It claims queued runs
 * and runs whose worker's lease expired, renews its leases while it executes (the engine does),
 * and on a signal stops claiming, lets in-flight runs finish (for up to 10 s, or until a second
 * signal), releases what is still running so another worker resumes it, and exits 0. It also
 * ends the runs of dead `keel serve` processes, at start and every lease length, as a gateway does.
 */
export const workerCommand: Command = async (context) => {
  if (context.positionals.length > 0) throw new KeelError('usage-invalid', 'usage: keel worker [--concurrency N] [--tasks PATH]');
  const concurrency = context.options.concurrency === undefined ? 8 : Number(context.options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new KeelError('usage-invalid', `--concurrency must be a whole number of at least 1, got ${context.options.concurrency}`);
  const { environment } = context;
  // Loaded only when asked for: metrics with --metrics-port, spans with an OTLP endpoint.
  const wantsSpans = Boolean(environment.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
  const telemetry = context.options.metricsPort !== undefined || wantsSpans ? await import('../../telemetry/index.ts') : undefined;
  let metrics: KeelMetrics | undefined;
  const deployment = await openDeployment(context, {
    create: true,
    ...(telemetry === undefined || context.options.metricsPort === undefined
      ? {}
      : {
          observe: (store: StoreV1) => {
            metrics = new telemetry.KeelMetrics({ store });
            return telemetry.observeStore(store, metrics);
          },
        }),
  });
  const { engine } = deployment.keel;
  const stopping = new AbortController();
  let drainTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping.signal.aborted) {
      stopping.abort();
      context.output.stdout(`keel worker ${engine.workerId} stopping (${signal}): no new runs; runs in flight finish, or are released in ${drainMs / 1_000} s (signal again to release them now)\n`);
      drainTimer = setTimeout(() => engine.shutdown(), drainMs);
      return;
    }
    context.output.stdout(`keel worker ${engine.workerId} releasing its runs now\n`);
    engine.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Runs are anchored at their end; the schedule catches long runs' progress and any anchoring that failed.
  const audit = deployment.keel.audit;
  const anchorTimer = audit === undefined ? undefined : setInterval(() => void anchorRuns(context, audit), audit.anchorIntervalMs);
  let metricsServer: MetricsServer | undefined;
  let spans: SpanExport | undefined;
  let oversight: WorkerOversight | undefined;
  let retention: { stop: () => Promise<void> } | undefined;
  let deadGateways: Awaited<ReturnType<typeof deadGatewayRuns>> | undefined;
  try {
    // The config's monitors (scored runs, drop test, fault alerts) and scheduled drills.
    oversight = await startWorkerOversight(context, deployment);
    retention = await scheduleRetention(context, deployment);
    if (telemetry !== undefined && metrics !== undefined) {
      metricsServer = await telemetry.listenMetrics(metrics, { port: Number(context.options.metricsPort), host: context.options.host ?? '127.0.0.1' });
      context.output.stdout(`keel worker ${engine.workerId} metrics at ${metricsServer.url}\n`);
    }
    if (telemetry?.otlpTracesConfigured(environment) === true) {
      spans = await telemetry.openSpanExport({ store: deployment.keel.store, environment });
      spans.start({ onError: (error) => context.output.stderr(`keel telemetry: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; trying again\n`) });
    }
    // Runs of dead gateway processes are ended (nothing else can finish them), their holder named
    // before the dead local workers' leases are broken below; then every lease length.
    deadGateways = await deadGatewayRuns(context, deployment);
    const ended = await deadGateways.end().catch((error: unknown) => (reportDeadGatewayFailure(context, error, engine.leaseMs), []));
    for (const outcome of ended) printSettled(context, outcome);
    deadGateways.start(engine.leaseMs, { ended: (outcome) => printSettled(context, outcome), failed: (error) => reportDeadGatewayFailure(context, error, engine.leaseMs) }, { immediately: false });
    // Runs of this machine's dead processes are taken over at once, not when their lease expires.
    await engine.reclaimFromDeadLocalWorkers();
    await reportUnserved(context, deployment);
    context.output.stdout(`keel worker ${engine.workerId} serving tasks ${deployment.taskNames.join(', ')} from ${deployment.keel.store.location} (concurrency ${concurrency})\n`);
    await deployment.keel.work({
      concurrency,
      signal: stopping.signal,
      onSettled: (result) => {
        printSettled(context, result);
        oversight?.settled(result);
      },
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    clearTimeout(drainTimer);
    clearInterval(anchorTimer);
    await deadGateways?.stop();
    await oversight?.close();
    await retention?.stop();
    if (audit !== undefined) await anchorRuns(context, audit);
    await spans?.stop();
    await metricsServer?.close();
    await deployment.close();
  }
  context.output.stdout(`keel worker ${engine.workerId} stopped\n`);
  return 0;
};

/** The config's retention, applied on a schedule (src/cli/retention-job.ts); nothing without a config that sets it. */
async function scheduleRetention(context: CommandContext, deployment: Deployment): Promise<{ stop: () => Promise<void> } | undefined> {
  const configPath = context.options.config ?? context.environment.KEEL_CONFIG;
  if (configPath === undefined) return undefined;
  const { loadConfig } = await import('../../config/index.ts');
  return startRetentionSchedule({ store: deployment.keel.store, config: loadConfig(configPath), environment: context.environment, print: (line) => context.output.stdout(`${line}\n`) });
}

async function anchorRuns(context: CommandContext, audit: OpenedAuditLog): Promise<void> {
  try {
    const { anchored, treeHead } = await audit.log.anchor();
    if (anchored > 0) context.output.stdout(`audit   anchored ${anchored} run(s): tree size ${treeHead?.treeSize ?? 0}\n`);
  } catch (error) {
    context.output.stdout(`audit   anchoring failed, retried in ${audit.anchorIntervalMs / 1000} s: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
  }
}

/** One line per task this process does not serve that has open runs: they are left alone. */
async function reportUnserved(context: CommandContext, deployment: Deployment): Promise<void> {
  const counts = new Map<string, number>();
  for (const run of await unservedRuns(deployment)) counts.set(run.task, (counts.get(run.task) ?? 0) + 1);
  for (const [task, count] of counts) context.output.stdout(`left    ${count} open run(s) of task ${task}: not served here (${servedFrom(deployment)})\n`);
}

function reportDeadGatewayFailure(context: CommandContext, error: unknown, leaseMs: number): void {
  context.output.stdout(`left    the runs of dead gateway processes: ending them failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); trying again in ${leaseMs / 1_000} s\n`);
}

function printSettled(context: CommandContext, result: RunOutcome | RunAbandoned): void {
  if ('abandoned' in result) context.output.stdout(`left    ${result.runId}  ${result.detail}\n`);
  else context.output.stdout(`${paintStatus(context.paint, result.status)}  ${result.runId}  ${result.task}${result.reason === undefined ? '' : `  ${result.reason}`}\n`);
}
