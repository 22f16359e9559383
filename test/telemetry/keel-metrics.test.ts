import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JournalWriter, genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';
import { KeelMetrics, observeStore } from '../../src/telemetry/index.ts';

// The metrics of one process, fed by a real SQLite store through the observing wrapper: what is
// appended is counted once durable; budget settlements set what each scope has left.
const folder = mkdtempSync(join(tmpdir(), 'keel-metrics-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((entry) => entry.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test('appends through the observed store count runs, model calls, tokens, cost, denials, alerts and breaker states; settlements set budget remaining', async () => {
  const raw = await openStore({ database: join(folder, 'keel.db'), create: true, environment: {} });
  const metrics = new KeelMetrics({ store: raw, processMetrics: false });
  const store = observeStore(raw, metrics);
  try {
    const first = sealEvent({ runId: 'run_1', seq: 1, prevHash: genesisHash }, 'run-start', { task: 'refund', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'c', config: null });
    await store.createRun({ run: { id: 'run_1', task: 'refund', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first: toRecord(first) });
    const writer = new JournalWriter({ store, runId: 'run_1', lastSeq: 1, lastHash: first.hash });
    await writer.commit([
      writer.build('step-start', { step: 1, name: 'turn-1', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }),
      writer.build('route-decision', { step: 1, route: 'support', provider: 'openai', modelId: 'gpt-5-mini', reason: 'first', estimatedInputTokens: 10, estimated: false }),
      writer.build('breaker-transition', { step: 1, breaker: 'openai:gpt-5-mini', from: 'closed', to: 'open' }),
      writer.build('model-attempt-end', { step: 1, attempt: 1, provider: 'openai', modelId: 'gpt-5-mini', latencyMs: 40, outcome: 'ok', usage: { inputTokens: 10, outputTokens: 4 } }),
      writer.build('alert-raise', { kind: 'latency-sla', scope: 'task:refund', message: 'slow', threshold: 10, value: 40 }),
      writer.build('step-end', { step: 1, name: 'turn-1', kind: 'model-call', epoch: 0, durationMs: 42, outcome: { ok: true, value: 'hi' }, usage: { inputTokens: 10, outputTokens: 4 }, cost: { micros: 77, priceVersion: 'v1' } }),
      writer.build('policy-decision', { principal: 'p', action: 'call-tool', resource: 'Tool::"refund"', effect: 'deny', policyIds: ['no'], reason: 'no', engine: 'cedar', policySetVersion: 'v' }),
      writer.build('policy-decision', { principal: 'p', action: 'call-tool', resource: 'Tool::"lookup"', effect: 'allow', policyIds: ['yes'], reason: 'yes', engine: 'cedar', policySetVersion: 'v' }),
      // What a dead process left, billed at a takeover: labelled as its journal named it, else unknown.
      writer.build('reservation-bill', { reservationId: 'left-1', step: 1, model: 'openai:gpt-5-mini', route: 'support', from: 'reservation', cost: { micros: 23, priceVersion: 'budget-book' }, tokens: 0, reason: 'left' }),
      writer.build('reservation-bill', { reservationId: 'left-2', from: 'reservation', cost: { micros: 5, priceVersion: 'budget-book' }, tokens: 0, reason: 'left' }),
      // The gateway's response-cache lookups: one hit, one miss.
      writer.build('step-start', { step: 2, name: 'response-cache', kind: 'step', idempotent: true, attempt: 1, epoch: 0 }),
      writer.build('step-end', { step: 2, name: 'response-cache', kind: 'step', epoch: 0, durationMs: 1, outcome: { ok: true, value: { hit: true, fromRun: 'run_0', ageMs: 5, answer: null } } }),
      writer.build('step-start', { step: 3, name: 'response-cache', kind: 'step', idempotent: true, attempt: 1, epoch: 0 }),
      writer.build('step-end', { step: 3, name: 'response-cache', kind: 'step', epoch: 0, durationMs: 1, outcome: { ok: true, value: { hit: false } } }),
      writer.build('run-end', { status: 'degraded' }),
    ], { status: 'degraded' });

    // A refused append is not counted: its events never reached the journal.
    await assert.rejects(store.append({ runId: 'run_1', records: [toRecord(sealEvent({ runId: 'run_1', seq: 3, prevHash: first.hash }, 'run-end', { status: 'ok' }))], summary: { status: 'ok' } }));

    const book = store.budgets;
    assert.ok(book !== undefined);
    const limits = [{ key: 'tenant:t', micros: 1_000, tokens: null }, { key: 'run:run_1', micros: 500, tokens: null }];
    assert.deepEqual(await book.reserveBudget({ reservationId: 'r1', limits, amount: { micros: 300, tokens: 0 }, expiresInMs: 60_000 }), { ok: true });
    await book.settleBudget({ reservationId: 'r1', actual: { micros: 120, tokens: 0 } });

    const text = await metrics.render();
    assert.equal(sample(text, 'keel_runs_started_total{task="refund"}'), 1);
    assert.equal(sample(text, 'keel_gateway_cache_lookups_total{result="hit"}'), 1);
    assert.equal(sample(text, 'keel_gateway_cache_lookups_total{result="miss"}'), 1);
    assert.equal(sample(text, 'keel_runs_ended_total{task="refund",status="degraded"}'), 1);
    assert.equal(sample(text, 'keel_runs_ended_total{task="refund",status="ok"}'), undefined);
    assert.equal(sample(text, 'keel_model_calls_total{route="support",model="openai:gpt-5-mini",outcome="ok"}'), 1);
    assert.equal(sample(text, 'keel_model_tokens_total{route="support",model="openai:gpt-5-mini",direction="input"}'), 10);
    assert.equal(sample(text, 'keel_model_tokens_total{route="support",model="openai:gpt-5-mini",direction="output"}'), 4);
    assert.equal(sample(text, 'keel_model_cost_micro_usd_total{route="support",model="openai:gpt-5-mini"}'), 77 + 23);
    assert.equal(sample(text, 'keel_model_cost_micro_usd_total{route="unknown",model="unknown"}'), 5);
    assert.equal(sample(text, 'keel_model_call_duration_seconds_bucket{le="0.05",route="support",model="openai:gpt-5-mini"}'), 1);
    assert.equal(sample(text, 'keel_policy_denials_total{action="call-tool",engine="cedar"}'), 1);
    assert.equal(sample(text, 'keel_alerts_total{kind="latency-sla"}'), 1);
    assert.equal(sample(text, 'keel_breaker_state{breaker="openai:gpt-5-mini"}'), 2);
    assert.equal(sample(text, 'keel_budget_remaining_micro_usd{scope="tenant:t"}'), 880);
    assert.equal(sample(text, 'keel_budget_remaining_micro_usd{scope="run:run_1"}'), undefined, 'no series per run');
    assert.equal(sample(text, 'keel_escalations_waiting'), 0);
  } finally {
    await raw.close();
  }
});
