/**
 * `KeelTraceProcessor`: an Agents SDK tracing processor that writes the SDK's spans (agent turns,
 * tool calls, guardrails, handoffs, Keel's model generations) into the journal of the Keel run
 * they belong to, as `span-end` events. A trace belongs to a run once a Keel model or governed
 * tool of that run is called inside it (they bind the current trace); spans that end before that
 * wait, in order, and are written with the first span after it. A trace no Keel run touched is
 * not journaled anywhere, nor are spans that end after the run was stopped inside a tool (parked
 * for an approval, escalated): the run takes no more events from this process. Prompts and answers are left out of generation spans: the run's model
 * steps journal them already.
 */
import type { Span, SpanData, Trace, TracingProcessor } from '@openai/agents';
import { getCurrentTrace } from '@openai/agents';
import type { RunContext } from '../engine/index.ts';
import type { EventData } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { jsonOf, sessionOf } from '../framework/index.ts';

/**
 * Which run a trace belongs to, by trace id (the SDK hands processors and code inside the trace
 * different copies of a trace). Kept only while a KeelTraceProcessor is listening, whose
 * `onTraceEnd` forgets the trace again.
 */
const runsOfTraces = new Map<string, RunContext>();
let listening = 0;

/** Called by Keel's model and governed tools: the trace under way (if any) belongs to `run`. */
export function bindCurrentTrace(run: RunContext): void {
  if (listening === 0) return;
  const trace = getCurrentTrace();
  if (trace !== null && !runsOfTraces.has(trace.traceId)) runsOfTraces.set(trace.traceId, run);
}

/** Spans kept for a trace not yet bound to a run; more than this many and the oldest go. */
const maxWaitingSpans = 1_000;

export class KeelTraceProcessor implements TracingProcessor {
  readonly #waiting = new Map<string, Span<SpanData>[]>();
  #listening = true;

  constructor() {
    listening += 1;
  }

  async onTraceStart(): Promise<void> {}

  async onTraceEnd(trace: Trace): Promise<void> {
    this.#flush(trace.traceId);
    this.#waiting.delete(trace.traceId);
    runsOfTraces.delete(trace.traceId);
  }

  async onSpanStart(): Promise<void> {}

  async onSpanEnd(span: Span<SpanData>): Promise<void> {
    const waiting = this.#waiting.get(span.traceId) ?? [];
    waiting.push(span);
    if (waiting.length > maxWaitingSpans) waiting.shift();
    this.#waiting.set(span.traceId, waiting);
    this.#flush(span.traceId);
  }

  async shutdown(): Promise<void> {
    for (const traceId of this.#waiting.keys()) this.#flush(traceId);
    this.#waiting.clear();
    if (this.#listening) listening -= 1;
    this.#listening = false;
  }

  async forceFlush(): Promise<void> {
    for (const traceId of this.#waiting.keys()) this.#flush(traceId);
  }

  #flush(traceId: string): void {
    const run = runsOfTraces.get(traceId);
    const waiting = this.#waiting.get(traceId);
    if (run === undefined || waiting === undefined) return;
    this.#waiting.delete(traceId);
    // A run stopped inside a tool (parked for approval, escalated) takes no more events from this process.
    if (sessionOf(run).interruption !== undefined) return;
    for (const span of waiting) run.record('span-end', spanEventOf(span));
  }
}

/** Fields of a span's data that repeat what the run's model steps journal (prompts, answers). */
const repeated = new Set(['input', 'output', '_input', '_response']);

export function spanEventOf(span: Span<SpanData>): EventData['span-end'] {
  const spanData = span.spanData;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spanData)) {
    if (key === 'type') continue;
    // A function span's input and output are the tool's arguments and result: small, and what a reader wants.
    if (spanData.type !== 'function' && repeated.has(key)) continue;
    kept[key] = value;
  }
  const event: EventData['span-end'] = { source: 'openai-agents', traceId: span.traceId, spanId: span.spanId, kind: spanData.type, name: nameOf(spanData), data: jsonOf(kept) };
  if (span.parentId !== null) event.parentId = span.parentId;
  if (span.startedAt !== null) event.startedAt = span.startedAt;
  if (span.endedAt !== null) event.endedAt = span.endedAt;
  const error = span.error;
  if (error !== null) event.error = error.data === undefined ? { message: error.message } : { message: error.message, data: jsonOf(error.data) };
  return event;
}

function nameOf(data: SpanData): string {
  switch (data.type) {
    case 'handoff':
      return `${data.from_agent ?? '?'} -> ${data.to_agent ?? '?'}`;
    case 'generation':
      return data.model ?? 'model';
    case 'turn':
      return `${data.agent_name} turn ${data.turn}`;
    case 'response':
      return data.response_id ?? 'response';
    default: {
      const name: JsonValue | undefined = 'name' in data && typeof data.name === 'string' ? data.name : undefined;
      return typeof name === 'string' ? name : data.type;
    }
  }
}
