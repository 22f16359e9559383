/**
 * Whether and where the standard OpenTelemetry variables ask for traces over OTLP. Apart from the
 * span exporter, so a command can ask without loading it (its GenAI conventions are megabytes of
 * JavaScript that `keel serve` would otherwise hold for nothing).
 */
type Environment = Record<string, string | undefined>;

/** True when the environment asks for traces over OTLP: an endpoint is set and traces are not turned off. */
export function otlpTracesConfigured(environment: Environment): boolean {
  if (environment.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = environment.OTEL_TRACES_EXPORTER;
  if (exporters !== undefined && exporters.trim() !== '' && !exporters.split(',').some((name) => name.trim() === 'otlp')) return false;
  return nonEmpty(environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || nonEmpty(environment.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/** Where spans go, for the lines a command prints. */
export function otlpTracesEndpoint(environment: Environment): string {
  const traces = environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (nonEmpty(traces)) return traces.trim();
  return `${(environment.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim().replace(/\/+$/, '')}/v1/traces`;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
