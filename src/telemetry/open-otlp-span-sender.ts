import type { SpanSender } from './otlp-span-sender.ts';

/**
 * The OTLP span sender, with the OpenTelemetry SDK behind it loaded on demand: a gateway or worker
 * that exports no spans never loads its few hundred modules.
 */
export async function openOtlpSpanSender(options: { serviceName?: string; tracerVersion?: string; url?: string } = {}): Promise<SpanSender> {
  const { createOtlpSpanSender } = await import('./otlp-span-sender.ts');
  return createOtlpSpanSender(options);
}
