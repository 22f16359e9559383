import { createHash } from 'node:crypto';

/**
 * Span and trace ids derived from the journal, so a span sent again after a crash is the same span:
 * a backend keyed on (trace id, span id) sees one span, not two.
 */
export function spanIdOf(runId: string, seq: number): string {
  return nonZero(createHash('sha256').update(`keel-span\n${runId}\n${seq}`).digest('hex').slice(0, 16));
}

/** A framework's span (journaled as `span-end`) by the framework's own id, so parents and children agree. */
export function frameworkSpanIdOf(runId: string, source: string, frameworkSpanId: string): string {
  return nonZero(createHash('sha256').update(`keel-framework-span\n${runId}\n${source}\n${frameworkSpanId}`).digest('hex').slice(0, 16));
}

/** The trace of a run no caller traced. */
export function traceIdOf(runId: string): string {
  return nonZero(createHash('sha256').update(`keel-trace\n${runId}`).digest('hex').slice(0, 32));
}

// All-zero ids are invalid in W3C trace context; a hash that starts with them is nudged.
function nonZero(id: string): string {
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}

export interface RemoteParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

/** A W3C `traceparent` header (version 00 and later versions' first four fields), or undefined when malformed. */
export function parseTraceparent(value: string): RemoteParent | undefined {
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(value.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}
