/**
 * Telemetry as views of the journal: OpenTelemetry spans (GenAI semantic conventions) exported over
 * OTLP/HTTP from a cursor kept in the store, and Prometheus metrics of what each process appends.
 * Loaded only by the commands that serve (the OpenTelemetry SDK and prom-client are not small).
 */
export { genAiSchemaUrl, genAiSemconvVersion } from './gen-ai-attributes.ts';
export type { JournalSpan, JournalSpanOptions, SpanAttributes } from './journal-spans.ts';
export { journalSpans } from './journal-spans.ts';
export { parseTraceparent, spanIdOf, traceIdOf } from './span-ids.ts';
export type { ExportPass, JournalSpanExporterOptions } from './journal-span-exporter.ts';
export { JournalSpanExporter } from './journal-span-exporter.ts';
export type { SpanSender } from './otlp-span-sender.ts';
export { openOtlpSpanSender } from './open-otlp-span-sender.ts';
export type { SpanExport } from './span-export.ts';
export { openSpanExport, otlpTracesConfigured, otlpTracesEndpoint } from './span-export.ts';
export { KeelMetrics } from './keel-metrics.ts';
export { observeStore } from './observed-store.ts';
export type { MetricsServer } from './metrics-server.ts';
export { listenMetrics } from './metrics-server.ts';
