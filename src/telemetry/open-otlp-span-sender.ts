import type { createOtlpSpanSender, SpanSender } from './otlp-span-sender.ts';

/**
 * The OTLP span sender, with the OpenTelemetry SDK behind it loaded on demand: a gateway or worker
 * that exports no spans never loads its few hundred modules.
 */
export async function openOtlpSpanSender(options: Parameters<typeof createOtlpSpanSender>[0] = {}): Promise<SpanSender> {
  const { createOtlpSpanSender: create } = await import('./otlp-span-sender.ts');
  return create(options);
}
