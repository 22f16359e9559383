/**
 * A run's journal as OpenTelemetry spans: the run (`invoke_agent`), each model call (`chat`), each
 * tool call (`execute_tool`), every other step, and each policy decision. Spans are derived after
 * the fact, from event times, with ids derived from (run id, seq), so deriving them twice from the
 * same journal gives the same spans. Plain data: the exporter turns them into SDK spans.
 */
import type { EventData } from '../journal/index.ts';
import type { JournalRecordV1, JsonValue } from '../spec/index.ts';
import { genAi, operation } from './gen-ai-attributes.ts';
import type { RemoteParent } from './span-ids.ts';
import { frameworkSpanIdOf, parseTraceparent, spanIdOf, traceIdOf } from './span-ids.ts';

export type SpanAttributeValue = string | number | boolean | string[];
export type SpanAttributes = Record<string, SpanAttributeValue>;

export interface JournalSpan {
  traceId: string;
  spanId: string;
  /** The run's span for its children; the caller's span (from `traceparent`) for the run's. */
  parentSpanId?: string;
  parentIsRemote?: boolean;
  name: string;
  kind: 'internal' | 'client';
  startTime: string;
  endTime: string;
  attributes: SpanAttributes;
  events: { name: string; time: string; attributes: SpanAttributes }[];
  links: { traceId: string; spanId: string; attributes: SpanAttributes }[];
  status: { code: 'unset' | 'error'; message?: string };
  /** The journal event that completed the span: once sent, the exporter's cursor may pass it. */
  seq: number;
}

export interface JournalSpanOptions {
  /**
   * Prompts and outputs stay in the journal; with this, spans name the journal events that hold
   * them (seq and hash) so a reader with access to the store can fetch them.
   */
  captureContent?: boolean;
}

type Data<Type extends keyof EventData> = EventData[Type];

interface OpenStep {
  start: JournalRecordV1;
  details: JournalRecordV1[];
}

const stepDetailTypes = new Set(['route-decision', 'budget-decision', 'model-attempt-end', 'retry-wait', 'breaker-transition', 'model-fallback', 'alert-raise', 'fault-injection']);
const runEventTypes = new Set(['approval-request', 'human-decision', 'output-validation', 'failure-decision', 'loop-guard', 'checkpoint', 'rollback', 'retrieval-signal', 'run-resume']);

/** Every span the journal completes, in the order their completing events were appended. */
export function journalSpans(records: readonly JournalRecordV1[], options: JournalSpanOptions = {}): JournalSpan[] {
  const first = records[0];
  if (first === undefined || first.type !== 'run-start') return [];
  const runId = first.runId;
  const start = first.data as unknown as Data<'run-start'>;
  const caller = callerOf(records);
  const traceId = caller?.traceId ?? traceIdOf(runId);
  const runSpanId = spanIdOf(runId, first.seq);
  const common = { 'keel.run.id': runId };
  const spans: JournalSpan[] = [];
  const open = new Map<number, OpenStep>();
  const runEvents: JournalSpan['events'] = [];
  const links: JournalSpan['links'] = [];
  const budgetLimit = runBudgetLimit(start.config);
  let spentMicros = 0;
  let inputTokens = 0;
  let outputTokens = 0;

  const closeInterrupted = (at: JournalRecordV1) => {
    for (const step of open.values()) spans.push(stepSpan(step, undefined, at, { traceId, runSpanId, common, budgetLimit, spentMicros, options }));
    open.clear();
  };

  for (const record of records) {
    switch (record.type) {
      case 'step-start': {
        const data = record.data as unknown as Data<'step-start'>;
        open.set(data.step, { start: record, details: [] });
        break;
      }
      case 'step-end': {
        const data = record.data as unknown as Data<'step-end'>;
        const step = open.get(data.step);
        if (step === undefined) break;
        open.delete(data.step);
        spans.push(stepSpan(step, record, record, { traceId, runSpanId, common, budgetLimit, spentMicros, options }));
        spentMicros += data.cost?.micros ?? 0;
        inputTokens += data.usage?.inputTokens ?? 0;
        outputTokens += data.usage?.outputTokens ?? 0;
        break;
      }
      case 'reservation-bill':
        // A dead process's call billed by whoever took the run over: part of the run's cost.
        spentMicros += (record.data as unknown as Data<'reservation-bill'>).cost.micros;
        runEvents.push(runEvent(record));
        break;
      case 'policy-decision':
        spans.push(policySpan(record, { traceId, parentSpanId: innermostStep(open) ?? runSpanId, common }));
        break;
      case 'request-receive': {
        const data = record.data as unknown as Data<'request-receive'>;
        const parent = data.traceparent === undefined ? undefined : parseTraceparent(data.traceparent);
        // The first caller's trace holds the run; later callers of a shared run are linked to it.
        if (parent !== undefined && !(caller !== undefined && parent.traceId === caller.traceId && parent.spanId === caller.spanId)) {
          links.push({ traceId: parent.traceId, spanId: parent.spanId, attributes: { 'keel.journal.seq': record.seq } });
        }
        runEvents.push({ name: 'keel.request_receive', time: record.time, attributes: { 'keel.api': data.api, 'keel.principal': data.principal, ...(data.key === undefined ? {} : { 'keel.key.id': data.key }) } });
        break;
      }
      case 'span-end':
        spans.push(frameworkSpan(record, { traceId, runSpanId, common }));
        break;
      case 'run-resume':
        // A step started and never ended before a worker took the run over was cut short by a crash.
        closeInterrupted(record);
        runEvents.push(runEvent(record));
        break;
      case 'run-end': {
        closeInterrupted(record);
        const data = record.data as unknown as Data<'run-end'>;
        const attributes: SpanAttributes = {
          [genAi.operationName]: operation.invokeAgent,
          [genAi.agentName]: start.task,
          [genAi.agentVersion]: start.taskVersion,
          [genAi.inputTokens]: inputTokens,
          [genAi.outputTokens]: outputTokens,
          ...common,
          'keel.principal': start.principal,
          'keel.tenant': start.tenant,
          'keel.config.hash': start.configHash,
          'keel.run.status': data.status,
          'keel.cost.micros': spentMicros,
          'keel.journal.seq': record.seq,
          'keel.journal.hash': record.hash,
          ...(data.reason === undefined ? {} : { 'keel.run.reason': data.reason }),
          ...(budgetLimit === undefined ? {} : { 'keel.budget.limit_micros': budgetLimit, 'keel.budget.remaining_micros': budgetLimit - spentMicros }),
          ...(data.confidence === undefined || data.confidence.length === 0 ? {} : { 'keel.run.confidence_markers': data.confidence.length }),
          ...(data.error === undefined ? {} : { [genAi.errorType]: data.error.code }),
          ...(options.captureContent === true ? contentReferences(first, record) : {}),
        };
        spans.push({
          traceId,
          spanId: runSpanId,
          ...(caller === undefined ? {} : { parentSpanId: caller.spanId, parentIsRemote: true }),
          name: `${operation.invokeAgent} ${start.task}`,
          kind: 'internal',
          startTime: first.time,
          endTime: record.time,
          attributes,
          events: runEvents,
          links,
          status: data.status === 'failed' ? { code: 'error', message: data.reason ?? data.error?.message ?? 'failed' } : { code: 'unset' },
          seq: record.seq,
        });
        break;
      }
      default:
        if (stepDetailTypes.has(record.type)) {
          const step = open.get((record.data as { step?: number }).step ?? -1);
          if (step !== undefined) step.details.push(record);
          else runEvents.push(runEvent(record));
        } else if (runEventTypes.has(record.type)) {
          runEvents.push(runEvent(record));
        }
    }
  }
  return spans;
}

/** The caller's span, from a `traceparent` the run received before anything it traced. */
function callerOf(records: readonly JournalRecordV1[]): RemoteParent | undefined {
  for (const record of records) {
    if (record.type === 'step-start' || record.type === 'policy-decision' || record.type === 'run-end') return undefined;
    if (record.type !== 'request-receive') continue;
    const traceparent = (record.data as unknown as Data<'request-receive'>).traceparent;
    const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
    if (parent !== undefined) return parent;
  }
  return undefined;
}

/** An agent's own per-run budget, as its run-start records it. */
function runBudgetLimit(config: JsonValue): number | undefined {
  const inner = isObject(config) && isObject(config.config) ? config.config : undefined;
  const limits = inner !== undefined && isObject(inner.limits) ? inner.limits : undefined;
  const micros = limits?.budgetMicros;
  return typeof micros === 'number' && Number.isSafeInteger(micros) ? micros : undefined;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The step still open that started last: the one a policy decision happens inside. */
function innermostStep(open: Map<number, OpenStep>): string | undefined {
  let latest: OpenStep | undefined;
  for (const step of open.values()) if (latest === undefined || step.start.seq > latest.start.seq) latest = step;
  return latest === undefined ? undefined : spanIdOf(latest.start.runId, latest.start.seq);
}

interface StepContext {
  traceId: string;
  runSpanId: string;
  common: SpanAttributes;
  budgetLimit: number | undefined;
  /** What the run's model calls spent before this step. */
  spentMicros: number;
  options: JournalSpanOptions;
}

/** A step's span; without `end`, the step was interrupted and `closedBy` is the event that showed it. */
function stepSpan(step: OpenStep, end: JournalRecordV1 | undefined, closedBy: JournalRecordV1, context: StepContext): JournalSpan {
  const startData = step.start.data as unknown as Data<'step-start'>;
  const endData = end?.data as unknown as Data<'step-end'> | undefined;
  const attributes: SpanAttributes = {
    ...context.common,
    'keel.step': startData.step,
    'keel.step.name': startData.name,
    'keel.step.kind': startData.kind,
    'keel.step.attempt': startData.attempt,
    'keel.step.epoch': startData.epoch,
    'keel.step.idempotent': startData.idempotent,
    'keel.journal.seq': closedBy.seq,
    'keel.journal.hash': closedBy.hash,
    ...(startData.idempotencyKey === undefined ? {} : { 'keel.idempotency_key': startData.idempotencyKey }),
    ...(endData?.cost === undefined ? {} : { 'keel.cost.micros': endData.cost.micros, 'keel.price.version': endData.cost.priceVersion }),
    ...(context.options.captureContent === true ? contentReferences(step.start, end) : {}),
  };
  let name = `step ${startData.name}`;
  let kind: JournalSpan['kind'] = 'internal';
  if (startData.kind === 'model-call') {
    kind = 'client';
    const model = modelCall(step, endData, context);
    name = model.name;
    Object.assign(attributes, model.attributes);
  } else if (startData.kind === 'tool-call') {
    name = `${operation.executeTool} ${startData.name}`;
    Object.assign(attributes, { [genAi.operationName]: operation.executeTool, [genAi.toolName]: startData.name, [genAi.toolType]: 'function' });
  }
  let status: JournalSpan['status'] = { code: 'unset' };
  if (endData === undefined) {
    status = { code: 'error', message: `interrupted: the run was ${closedBy.type === 'run-end' ? 'ended' : 'resumed'} before the step ended` };
    attributes['keel.step.interrupted'] = true;
  } else if (!endData.outcome.ok) {
    status = { code: 'error', message: endData.outcome.error.message };
    attributes[genAi.errorType] = endData.outcome.error.code;
  }
  return {
    traceId: context.traceId,
    spanId: spanIdOf(step.start.runId, step.start.seq),
    parentSpanId: context.runSpanId,
    name,
    kind,
    startTime: step.start.time,
    endTime: closedBy.time,
    attributes,
    events: step.details.filter((detail) => detail.type !== 'route-decision' && detail.type !== 'budget-decision').map(runEvent),
    links: [],
    status,
    seq: closedBy.seq,
  };
}

/** What the governed route decided and the provider answered, in GenAI terms. */
function modelCall(step: OpenStep, endData: Data<'step-end'> | undefined, context: StepContext): { name: string; attributes: SpanAttributes } {
  const input = step.start.data as unknown as Data<'step-start'>;
  const request = isObject(input.input) ? input.input : {};
  const route = step.details.find((detail) => detail.type === 'route-decision')?.data as unknown as Data<'route-decision'> | undefined;
  const budgets = step.details.filter((detail) => detail.type === 'budget-decision').map((detail) => detail.data as unknown as Data<'budget-decision'>);
  const attempts = step.details.filter((detail) => detail.type === 'model-attempt-end').map((detail) => detail.data as unknown as Data<'model-attempt-end'>);
  const answered = attempts.findLast((attempt) => attempt.outcome === 'ok') ?? attempts.at(-1);
  const requestModel = route?.route ?? (typeof request.modelId === 'string' ? request.modelId : input.name);
  const maxTokens = isObject(request.request) ? request.request.maxOutputTokens : undefined;
  const usage = endData?.usage ?? answered?.usage;
  const reserved = budgets.filter((budget) => budget.outcome === 'reserved');
  const refused = budgets.find((budget) => budget.outcome === 'refused');
  const attributes: SpanAttributes = {
    [genAi.operationName]: operation.chat,
    [genAi.requestModel]: requestModel,
    ...(answered === undefined && route === undefined ? {} : { [genAi.providerName]: answered?.provider ?? route?.provider ?? '' }),
    ...(answered === undefined ? {} : { [genAi.responseModel]: answered.modelId }),
    ...(answered?.responseId === undefined ? {} : { [genAi.responseId]: answered.responseId }),
    ...(typeof maxTokens === 'number' ? { [genAi.requestMaxTokens]: maxTokens } : {}),
    ...(usage === undefined ? {} : { [genAi.inputTokens]: usage.inputTokens, [genAi.outputTokens]: usage.outputTokens }),
    ...(route === undefined ? {} : { 'keel.route': route.route, 'keel.route.reason': route.reason }),
    'keel.model.attempts': attempts.length,
    ...(reserved.length === 0 ? {} : { 'keel.budget.reserved_micros': reserved.reduce((sum, budget) => sum + budget.reservedMicros, 0), 'keel.budget.reserved_tokens': reserved.reduce((sum, budget) => sum + budget.reservedTokens, 0) }),
    ...(refused === undefined ? {} : { 'keel.budget.refused_scope': refused.scope ?? '', 'keel.budget.refused_reason': refused.reason ?? '' }),
    ...(context.budgetLimit === undefined ? {} : { 'keel.budget.limit_micros': context.budgetLimit, 'keel.budget.remaining_micros': context.budgetLimit - context.spentMicros }),
  };
  return { name: `${operation.chat} ${requestModel}`, attributes };
}

function policySpan(record: JournalRecordV1, context: { traceId: string; parentSpanId: string; common: SpanAttributes }): JournalSpan {
  const data = record.data as unknown as Data<'policy-decision'>;
  const attributes: SpanAttributes = {
    ...context.common,
    'keel.principal': data.principal,
    'keel.policy.action': data.action,
    'keel.policy.resource': data.resource,
    'keel.policy.effect': data.effect,
    'keel.policy.ids': data.policyIds,
    'keel.policy.reason': data.reason,
    'keel.policy.engine': data.engine,
    'keel.policy.set_version': data.policySetVersion,
    'keel.journal.seq': record.seq,
    'keel.journal.hash': record.hash,
    ...(data.tool === undefined ? {} : { [genAi.toolName]: data.tool }),
    ...(data.labels === undefined ? {} : { 'keel.labels': JSON.stringify(data.labels) }),
    ...(data.shadow === undefined ? {} : { 'keel.policy.shadow.effect': data.shadow.effect, 'keel.policy.shadow.ids': data.shadow.policyIds, 'keel.policy.shadow.agrees': data.shadow.agrees }),
  };
  return {
    traceId: context.traceId,
    spanId: spanIdOf(record.runId, record.seq),
    parentSpanId: context.parentSpanId,
    name: `policy_decision ${data.action}`,
    kind: 'internal',
    startTime: record.time,
    endTime: record.time,
    attributes,
    events: [],
    links: [],
    status: { code: 'unset' },
    seq: record.seq,
  };
}

/**
 * A span of a framework's own trace (keel/openai-agents), journaled as `span-end`: it joins the run's
 * trace under the run's span, with an id derived from the framework's, so its children find it.
 */
function frameworkSpan(record: JournalRecordV1, context: { traceId: string; runSpanId: string; common: SpanAttributes }): JournalSpan {
  const data = record.data as unknown as Data<'span-end'>;
  const timeOf = (value: string | undefined) => (value !== undefined && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : record.time);
  return {
    traceId: context.traceId,
    spanId: frameworkSpanIdOf(record.runId, data.source, data.spanId),
    parentSpanId: data.parentId === undefined ? context.runSpanId : frameworkSpanIdOf(record.runId, data.source, data.parentId),
    name: data.name,
    kind: 'internal',
    startTime: timeOf(data.startedAt),
    endTime: timeOf(data.endedAt),
    attributes: {
      ...context.common,
      'keel.framework.source': data.source,
      'keel.framework.kind': data.kind,
      'keel.framework.trace_id': data.traceId,
      'keel.framework.span_id': data.spanId,
      'keel.journal.seq': record.seq,
      'keel.journal.hash': record.hash,
    },
    events: [],
    links: [],
    status: data.error === undefined ? { code: 'unset' } : { code: 'error', message: data.error.message },
    seq: record.seq,
  };
}

/** A journal event as a span event: its scalar fields, under `keel.`. */
function runEvent(record: JournalRecordV1): JournalSpan['events'][number] {
  const attributes: SpanAttributes = { 'keel.journal.seq': record.seq };
  if (isObject(record.data)) {
    for (const [key, value] of Object.entries(record.data)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attributes[`keel.${key.replaceAll(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`] = value;
    }
  }
  return { name: `keel.${record.type.replaceAll('-', '_')}`, time: record.time, attributes };
}

/** Where a span's input and output live in the journal, by seq and hash; never the content itself. */
function contentReferences(input: JournalRecordV1, output: JournalRecordV1 | undefined): SpanAttributes {
  return {
    'keel.input.journal_seq': input.seq,
    'keel.input.journal_hash': input.hash,
    ...(output === undefined ? {} : { 'keel.output.journal_seq': output.seq, 'keel.output.journal_hash': output.hash }),
  };
}
