/**
 * The span exporter as a process runs it (`keel serve`, `keel worker`, `keel telemetry export`):
 * configured by the standard OpenTelemetry variables, holding its cursor under an id this machine's
 * worker registry can vouch for, so an exporter restarted after a crash takes over at once.
 */
import { LocalWorkerRegistry, newWorkerId } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { ExportPass } from './journal-span-exporter.ts';
import { JournalSpanExporter } from './journal-span-exporter.ts';
import { openOtlpSpanSender } from './open-otlp-span-sender.ts';

export { otlpTracesConfigured, otlpTracesEndpoint } from './otlp-traces-environment.ts';

type Environment = Record<string, string | undefined>;

export interface SpanExport {
  readonly exporter: JournalSpanExporter;
  /** One pass now (what `--once` runs). */
  exportOnce(): Promise<ExportPass>;
  /** Tails the journal until `stop`. */
  start(options?: { onError?: (error: unknown) => void }): void;
  /** Stops tailing, sends what has ended meanwhile, and gives the cursor up. */
  stop(): Promise<void>;
}

export async function openSpanExport(options: { store: StoreV1; environment: Environment; version?: string; onBatch?: (batch: { spans: number; runs: number }) => void }): Promise<SpanExport> {
  const { environment } = options;
  const holder = newWorkerId();
  const registry = new LocalWorkerRegistry();
  let holding = true;
  const registration = await registry.register(holder, () => holding);
  const sender = await openOtlpSpanSender({ serviceName: environment.OTEL_SERVICE_NAME?.trim() || 'keel', ...(options.version === undefined ? {} : { tracerVersion: options.version }) });
  const exporter = new JournalSpanExporter({
    store: options.store,
    sender,
    holder,
    name: environment.KEEL_TELEMETRY_EXPORTER?.trim() || 'otlp',
    maxBatchSpans: wholeNumber(environment, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512,
    captureContent: environment.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true',
    isHolderDead: (id) => registry.isDead(id),
    ...(options.onBatch === undefined ? {} : { onBatch: options.onBatch }),
  });
  const intervalMs = wholeNumber(environment, 'OTEL_BSP_SCHEDULE_DELAY') ?? 5_000;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  let onError: ((error: unknown) => void) | undefined;
  return {
    exporter,
    exportOnce: () => exporter.exportOnce(),
    start: (startOptions) => {
      onError = startOptions?.onError;
      running ??= exporter.run({ signal: stopping.signal, intervalMs, ...(startOptions?.onError === undefined ? {} : { onError: startOptions.onError }) });
    },
    stop: async () => {
      stopping.abort();
      await running;
      try {
        // A receiver that is down at shutdown loses nothing: the cursor stays where it was acknowledged.
        await exporter.exportOnce().catch((error: unknown) => onError?.(error));
        await exporter.release();
      } finally {
        holding = false;
        await sender.close();
        registration?.removeIfIdle();
      }
    },
  };
}


function wholeNumber(environment: Environment, name: string): number | undefined {
  const value = environment[name]?.trim();
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new KeelError('config-invalid', `${name} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
  return Number(value);
}
