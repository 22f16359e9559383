import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';

/**
 * `keel telemetry export`: tails the journal and sends its spans over OTLP/HTTP, where the standard
 * OTEL_EXPORTER_OTLP_* variables say, from the cursor it keeps in the store, until SIGTERM or
 * SIGINT (then it sends what has ended meanwhile and gives the cursor up). `--once`: one pass, and
 * exit 1 if the receiver did not acknowledge it.
 */
export const telemetryExportCommand: Command = async (context) => {
  const { environment } = context;
  // Loaded on demand: the OpenTelemetry SDK is for this command and the serving ones only.
  const telemetry = await import('../../telemetry/index.ts');
  if (!telemetry.otlpTracesConfigured(environment)) {
    throw new KeelError('usage-invalid', 'keel telemetry export needs OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), with traces not turned off by OTEL_TRACES_EXPORTER or OTEL_SDK_DISABLED');
  }
  const store = await openStore({ database: context.options.db, create: false, environment });
  try {
    const spanExport = await telemetry.openSpanExport({
      store,
      environment,
      onBatch: (batch) => context.output.stdout(`sent    ${batch.spans} span(s) of ${batch.runs} run(s)\n`),
    });
    const name = spanExport.exporter.name;
    if (context.options.once) {
      try {
        const pass = await spanExport.exportOnce();
        context.output.stdout(
          pass.standby ? `keel telemetry: exporter ${name} is held by another live process; nothing sent\n` : `keel telemetry: ${pass.spans} span(s) sent in ${pass.batches} batch(es) to ${telemetry.otlpTracesEndpoint(environment)}\n`,
        );
      } finally {
        await spanExport.stop();
      }
      return 0;
    }
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      const stop = (received: NodeJS.Signals) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve(received);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    let lastProblem = '';
    spanExport.start({
      onError: (error) => {
        // Said once per distinct problem: a receiver that stays down is not a line every few seconds.
        const problem = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
        if (problem !== lastProblem) context.output.stderr(`keel telemetry: ${problem}; trying again\n`);
        lastProblem = problem;
      },
    });
    context.output.stdout(`keel telemetry exporting spans of ${store.location} to ${telemetry.otlpTracesEndpoint(environment)} as exporter ${name}\n`);
    const signal = await signalled;
    context.output.stdout(`keel telemetry stopping (${signal})\n`);
    await spanExport.stop();
    context.output.stdout('keel telemetry stopped\n');
    return 0;
  } finally {
    await store.close();
  }
};
