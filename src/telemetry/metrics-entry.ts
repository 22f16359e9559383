/**
 * The telemetry a process that serves needs before it knows whether it exports spans: metrics of
 * what it journals, and whether the environment asks for spans. A narrow entry (eslint.config.js):
 * index.ts also brings the span exporter and its GenAI conventions, megabytes of JavaScript that
 * `keel serve` without an OTLP endpoint would hold for nothing.
 */
export { KeelMetrics } from './keel-metrics.ts';
export { observeStore } from './observed-store.ts';
export { otlpTracesConfigured, otlpTracesEndpoint } from './otlp-traces-environment.ts';
