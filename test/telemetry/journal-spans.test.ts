import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventData, EventType } from '../../src/journal/index.ts';
import { genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import type { JournalRecordV1 } from '../../src/spec/index.ts';
import { journalSpans, spanIdOf, traceIdOf } from '../../src/telemetry/index.ts';

// Journals written by hand, with the events a crash or a framework leaves, and the spans they give.
function journal(runId: string, events: { [Type in EventType]: [Type, EventData[Type]] }[EventType][]): JournalRecordV1[] {
  const records: JournalRecordV1[] = [];
  const base = Date.parse('2026-12-01T10:00:00.000Z');
  for (const [index, [type, data]] of events.entries()) {
    const previous = records.at(-1);
    records.push(toRecord(sealEvent({ runId, seq: index + 1, prevHash: previous?.hash ?? genesisHash }, type, data as never, new Date(base + index * 1_000))));
  }
  return records;
}

const runStart: ['run-start', EventData['run-start']] = ['run-start', { task: 'refund', taskVersion: '2', input: null, principal: 'user:a', tenant: 't', configHash: 'c', config: { config: { limits: { budgetMicros: 1_000 } } } }];

test('a step a crash cut short ends, status error, at the resume that found it; the step run again gets its own span', () => {
  const records = journal('run_crash', [
    runStart,
    ['step-start', { step: 1, name: 'issue_refund', kind: 'tool-call', idempotent: false, attempt: 1, epoch: 0, idempotencyKey: 'run_crash:0:1' }],
    ['run-resume', { worker: 'w2', attempt: 2, found: 'interrupted' }],
    ['step-start', { step: 1, name: 'issue_refund', kind: 'tool-call', idempotent: false, attempt: 2, epoch: 0, idempotencyKey: 'run_crash:0:1' }],
    ['step-end', { step: 1, name: 'issue_refund', kind: 'tool-call', epoch: 0, durationMs: 5, outcome: { ok: false, error: { code: 'tool-error', message: 'payments down', retryable: false } } }],
    ['run-end', { status: 'failed', reason: 'issue_refund failed' }],
  ]);
  const spans = journalSpans(records);
  assert.deepEqual(spans.map((span) => [span.name, span.seq, span.status.code]), [
    ['execute_tool issue_refund', 3, 'error'],
    ['execute_tool issue_refund', 5, 'error'],
    ['invoke_agent refund', 6, 'error'],
  ]);
  const [cut, retried, run] = spans;
  assert.equal(cut?.attributes['keel.step.interrupted'], true);
  assert.equal(cut?.endTime, records[2]?.time);
  assert.equal(retried?.attributes['error.type'], 'tool-error');
  assert.equal(retried?.attributes['keel.step.attempt'], 2);
  assert.notEqual(cut?.spanId, retried?.spanId);
  assert.equal(run?.spanId, spanIdOf('run_crash', 1));
  assert.equal(run?.traceId, traceIdOf('run_crash'));
  assert.equal(run?.attributes['keel.budget.remaining_micros'], 1_000);
  assert.deepEqual(journalSpans(records), spans, 'derived twice, the same spans');
});

test('a framework’s spans (span-end) join the run’s trace: roots under the run’s span, children under their parents', () => {
  const records = journal('run_framework', [
    runStart,
    ['span-end', { source: 'openai-agents', traceId: 'trace_1', spanId: 'span_child', parentId: 'span_agent', kind: 'function', name: 'lookup_order', startedAt: '2026-12-01T10:00:01.100Z', endedAt: '2026-12-01T10:00:01.200Z', data: {} }],
    ['span-end', { source: 'openai-agents', traceId: 'trace_1', spanId: 'span_agent', kind: 'agent', name: 'Refund agent', startedAt: '2026-12-01T10:00:01.000Z', endedAt: '2026-12-01T10:00:02.500Z', error: { message: 'max turns' }, data: {} }],
    ['run-end', { status: 'ok' }],
  ]);
  const spans = journalSpans(records);
  const child = spans.find((span) => span.name === 'lookup_order');
  const agent = spans.find((span) => span.name === 'Refund agent');
  const run = spans.find((span) => span.name === 'invoke_agent refund');
  assert.ok(child !== undefined && agent !== undefined && run !== undefined);
  assert.equal(child.parentSpanId, agent.spanId);
  assert.equal(agent.parentSpanId, run.spanId);
  assert.equal(child.traceId, run.traceId);
  assert.equal(child.startTime, '2026-12-01T10:00:01.100Z');
  assert.equal(agent.status.code, 'error');
  assert.equal(agent.attributes['keel.framework.span_id'], 'span_agent');
});

test('a run still open gives the spans its events completed, and no run span yet', () => {
  const records = journal('run_open', [
    runStart,
    ['step-start', { step: 1, name: 'turn-1', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }],
    ['route-decision', { step: 1, route: 'gpt', provider: 'openai', modelId: 'gpt-5-mini', reason: 'first model of the route', estimatedInputTokens: 10, estimated: false }],
    ['budget-decision', { step: 1, provider: 'openai', modelId: 'gpt-5-mini', outcome: 'reserved', reservedMicros: 300, reservedTokens: 50 }],
    ['model-attempt-end', { step: 1, attempt: 1, provider: 'openai', modelId: 'gpt-5-mini', latencyMs: 3, outcome: 'error', error: { code: 'model-rate-limited', message: '429', retryable: true } }],
    ['retry-wait', { step: 1, attempt: 1, waitMs: 100, reason: 'retry-after' }],
    ['model-attempt-end', { step: 1, attempt: 2, provider: 'openai', modelId: 'gpt-5-mini-2026-08-07', latencyMs: 3, outcome: 'ok', usage: { inputTokens: 10, outputTokens: 4 }, responseId: 'resp_1' }],
    ['step-end', { step: 1, name: 'turn-1', kind: 'model-call', epoch: 0, durationMs: 9, outcome: { ok: true, value: 'hi' }, usage: { inputTokens: 10, outputTokens: 4 }, cost: { micros: 120, priceVersion: 'v1' } }],
    ['policy-decision', { principal: 'user:a', action: 'call-tool', resource: 'Tool::"refund"', effect: 'deny', policyIds: ['no-refunds'], reason: 'forbidden', engine: 'cedar', policySetVersion: 'p1', tool: 'refund' }],
  ]);
  const spans = journalSpans(records);
  assert.deepEqual(spans.map((span) => span.name), ['chat gpt', 'policy_decision call-tool']);
  const [chat, policy] = spans;
  assert.deepEqual(
    { ...chat?.attributes },
    {
      ...chat?.attributes,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt',
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': 'gpt-5-mini-2026-08-07',
      'gen_ai.response.id': 'resp_1',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 4,
      'keel.model.attempts': 2,
      'keel.budget.reserved_micros': 300,
      'keel.budget.remaining_micros': 1_000,
      'keel.cost.micros': 120,
    },
  );
  assert.equal(chat?.kind, 'client');
  assert.deepEqual(chat?.events.map((event) => event.name), ['keel.model_attempt_end', 'keel.retry_wait', 'keel.model_attempt_end']);
  assert.equal(chat?.events[1]?.attributes['keel.wait_ms'], 100);
  assert.equal(policy?.parentSpanId, spanIdOf('run_open', 1), 'decided outside any step: under the run');
  assert.deepEqual(policy?.attributes['keel.policy.ids'], ['no-refunds']);
  assert.equal(policy?.attributes['keel.policy.effect'], 'deny');
});
