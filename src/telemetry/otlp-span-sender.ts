/**
 * Sends journal spans over OTLP/HTTP with the official OpenTelemetry JS SDK: each span is started
 * and ended by an SDK tracer at its journal times, with the ids the journal gives it (an id
 * generator that hands out the next span's ids), then exported by the OTLP exporter, which reads
 * the standard OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout) itself.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Link } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { IdGenerator, ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { KeelError } from '../errors/index.ts';
import { genAiSchemaUrl } from './gen-ai-attributes.ts';
import type { JournalSpan } from './journal-spans.ts';

/** Where spans go; `send` resolves once the receiver acknowledged them (a 2xx), and throws otherwise. */
export interface SpanSender {
  send(spans: readonly JournalSpan[]): Promise<void>;
  close(): Promise<void>;
}

/** The ids of the span being started: the journal decides them, not a random generator. */
class JournalIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

/** Keeps each ended span for the sender to hand to the exporter itself, batch by batch. */
class EndedSpans implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `url`: the traces endpoint, when not the one the OTEL_EXPORTER_OTLP_* variables name. */
export function createOtlpSpanSender(options: { serviceName?: string; tracerVersion?: string; url?: string } = {}): SpanSender {
  const ids = new JournalIds();
  const ended = new EndedSpans();
  const resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'keel' }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ idGenerator: ids, sampler: new AlwaysOnSampler(), spanProcessors: [ended], resource });
  const tracer = provider.getTracer('keel', options.tracerVersion, { schemaUrl: genAiSchemaUrl });
  const exporter = new OTLPTraceExporter(options.url === undefined ? {} : { url: options.url });

  const toSdkSpan = (span: JournalSpan): ReadableSpan => {
    ids.traceId = span.traceId;
    ids.spanId = span.spanId;
    const parent =
      span.parentSpanId === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: span.parentIsRemote === true });
    const links: Link[] = span.links.map((link) => ({ context: { traceId: link.traceId, spanId: link.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: link.attributes }));
    const started = tracer.startSpan(span.name, { kind: span.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, startTime: new Date(span.startTime), attributes: span.attributes, links }, parent);
    for (const event of span.events) started.addEvent(event.name, event.attributes, new Date(event.time));
    if (span.status.code === 'error') started.setStatus({ code: SpanStatusCode.ERROR, ...(span.status.message === undefined ? {} : { message: span.status.message }) });
    started.end(new Date(span.endTime));
    const readable = ended.spans.pop();
    if (readable === undefined) throw new KeelError('internal', `span ${span.spanId} was not recorded`);
    return readable;
  };

  return {
    send: (spans) =>
      new Promise<void>((resolve, reject) => {
        const batch = spans.map(toSdkSpan);
        exporter.export(batch, (result) => {
          // ExportResultCode.SUCCESS (0): the receiver answered 2xx.
          if (Number(result.code) === 0) resolve();
          else reject(new KeelError('telemetry-export-failed', `OTLP export of ${batch.length} span(s) failed: ${result.error?.message ?? 'no reason given'}`));
        });
      }),
    close: async () => {
      await exporter.shutdown();
      await provider.shutdown();
    },
  };
}
