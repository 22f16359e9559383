import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { BudgetRule, LatencySla } from '../../cost/index.ts';
import { BudgetLedger, defaultPriceTable, LatencyTracker } from '../../cost/index.ts';
import type { RunOutcome } from '../../engine/index.ts';
import { defineTask, Engine } from '../../engine/index.ts';
import type { EventOf, JournalEvent } from '../../journal/index.ts';
import { loadRun } from '../../journal/index.ts';
import type { BudgetStoreV1, GenerateOptionsV1 } from '../../spec/index.ts';
import { SqliteStore } from '../../store/index.ts';
import type { FaultPlan } from '../simulator/index.ts';
import { resolveModel } from '../resolve-model.ts';
import type { Alert, RouteConfig } from './index.ts';
import { GovernedModel, SharedGuards } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-governed-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const request: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is my order A-1001?' }] }] };

interface Setup {
  route: RouteConfig;
  faults?: Record<string, FaultPlan>;
  budgets?: BudgetRule[];
  /** Where the ledger keeps its accounts; default its own memory. */
  book?: BudgetStoreV1;
  slas?: LatencySla[];
  calls?: number;
  deadlineMs?: number;
  partial?: boolean;
  runs?: number;
  tenant?: string;
}

let taskCounter = 0;

/** Runs `runs` runs of a task making `calls` governed model calls each; returns outcomes and alerts. */
async function exercise(setup: Setup): Promise<{ outcomes: RunOutcome[]; alerts: Alert[]; ledger: BudgetLedger | undefined; journals: JournalEvent[][] }> {
  const alerts: Alert[] = [];
  const ledger = setup.budgets === undefined ? undefined : new BudgetLedger(setup.budgets, setup.book === undefined ? {} : { book: setup.book });
  const governance = {
    prices: defaultPriceTable,
    guards: new SharedGuards(),
    resolveModel: (name: string) => resolveModel(name, { simulator: { faults: setup.faults?.[name] ?? [] } }),
    alertHooks: [(alert: Alert) => void alerts.push(alert)],
    ...(ledger === undefined ? {} : { ledger }),
    ...(setup.slas === undefined ? {} : { latency: new LatencyTracker(setup.slas) }),
  };
  const model = new GovernedModel(setup.route, governance);
  taskCounter += 1;
  const task = defineTask({
    name: `governed-${taskCounter}`,
    version: '1',
    ...(setup.deadlineMs === undefined ? {} : { deadlineMs: setup.deadlineMs }),
    run: async (context) => {
      const answers: string[] = [];
      for (let call = 1; call <= (setup.calls ?? 1); call += 1) {
        const result = await context.model(`call-${call}`, model, request);
        answers.push(result.content.map((part) => (part.type === 'text' ? part.text : part.toolName)).join(''));
        if (setup.partial === true) context.setPartialOutput({ answers });
      }
      return { answers };
    },
  });
  const engine = new Engine({ store, tasks: [task] });
  const outcomes = await Promise.all(Array.from({ length: setup.runs ?? 1 }, () => engine.start(task.name, null, { principal: 'user:test', tenant: setup.tenant ?? 'acme' })));
  const journals = await Promise.all(outcomes.map(async (outcome) => (await loadRun(store, outcome.runId)).events));
  return { outcomes, alerts, ledger, journals };
}

function eventsOf<Type extends JournalEvent['type']>(journal: JournalEvent[], type: Type): EventOf<Type>[] {
  return journal.filter((event): event is EventOf<Type> => event.type === type);
}

const fastRetries = { initialDelayMs: 5, maxDelayMs: 50 };

describe('resilience, driven by simulator faults and journaled', () => {
  test('a 429 is retried after the retry-after it asked for, and the call succeeds', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'retry', models: ['sim:default'], resilience: fastRetries },
      faults: { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'rate-limit', retryAfterMs: 120 } }] },
    });
    assert.equal(outcomes[0]?.status, 'ok');
    const journal = journals[0] ?? [];
    const attempts = eventsOf(journal, 'model-attempt-end');
    assert.deepEqual(attempts.map((event) => [event.data.attempt, event.data.outcome, event.data.error?.code]), [[1, 'error', 'model-rate-limited'], [2, 'ok', undefined]]);
    const [wait] = eventsOf(journal, 'retry-wait');
    assert.equal(wait?.data.reason, 'retry-after');
    assert.ok((wait?.data.waitMs ?? 0) >= 120, `waited ${wait?.data.waitMs} ms`);
    assert.equal(eventsOf(journal, 'fault-injection')[0]?.data.call, 1);
    const end = eventsOf(journal, 'step-end')[0];
    assert.ok(end?.data.cost !== undefined && end.data.cost.micros > 0 && end.data.cost.priceVersion === defaultPriceTable.version);
  });

  test('a model that keeps failing falls back to the next one in the route', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'fallback', models: ['sim:smart', 'sim:fast'], resilience: { ...fastRetries, maxAttempts: 2 } },
      faults: { 'sim:smart': [{ on: { every: 1 }, fault: { type: 'server-error', status: 500 } }] },
    });
    assert.equal(outcomes[0]?.status, 'ok');
    const journal = journals[0] ?? [];
    const attempts = eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.modelId}:${event.data.outcome}`);
    assert.deepEqual(attempts, ['smart:error', 'smart:error', 'fast:ok']);
    const [fallback] = eventsOf(journal, 'model-fallback');
    assert.equal(fallback?.data.from, 'sim:smart');
    assert.equal(fallback?.data.to, 'sim:fast');
    assert.match(fallback?.data.reason ?? '', /after 2 attempts/);
  });

  test('when every model fails the step error keeps every attempt, and the run fails with a reason', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'exhausted', models: ['sim:smart', 'sim:fast'], resilience: { ...fastRetries, maxAttempts: 2 } },
      faults: { 'sim:smart': [{ on: { every: 1 }, fault: { type: 'overloaded' } }], 'sim:fast': [{ on: { every: 1 }, fault: { type: 'server-error' } }] },
    });
    assert.equal(outcomes[0]?.status, 'failed');
    assert.equal(outcomes[0]?.error?.code, 'route-exhausted');
    const end = eventsOf(journals[0] ?? [], 'step-end')[0];
    assert.ok(end !== undefined && !end.data.outcome.ok);
    const attempts = (end.data.outcome.ok ? [] : (end.data.outcome.error.details?.attempts as { code: string }[])).map((attempt) => attempt.code);
    assert.deepEqual(attempts, ['model-overloaded', 'model-overloaded', 'model-server-error', 'model-server-error']);
  });

  test('the breaker opens after its threshold, sheds calls to the fallback, and recovers through half-open', async () => {
    const route: RouteConfig = {
      name: 'breaker',
      models: ['sim:smart', 'sim:fast'],
      resilience: { ...fastRetries, maxAttempts: 1, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 150 } },
    };
    // smart fails its first three calls, then is healthy again.
    const governance = {
      prices: defaultPriceTable,
      guards: new SharedGuards(),
      resolveModel: (name: string) => resolveModel(name, { simulator: { faults: name === 'sim:smart' ? [{ on: { calls: [1, 2, 3] }, fault: { type: 'server-error' } }] : [] } }),
    };
    const model = new GovernedModel(route, governance);
    const task = defineTask({
      name: 'breaker-task',
      version: '1',
      run: async (context, input: { calls: number }) => {
        for (let call = 1; call <= input.calls; call += 1) await context.model(`call-${call}`, model, request);
        return 'done';
      },
    });
    const engine = new Engine({ store, tasks: [task] });
    const first = await engine.start('breaker-task', { calls: 4 }, { principal: 'user:test', tenant: 'acme' });
    assert.equal(first.status, 'ok');
    const journal = (await loadRun(store, first.runId)).events;
    const transitions = eventsOf(journal, 'breaker-transition').map((event) => `${event.data.breaker}:${event.data.from}->${event.data.to}`);
    assert.deepEqual(transitions, ['sim:smart:closed->open']);
    // The fourth call never reached smart: the open breaker sent it straight to fast.
    const fourth = journal.filter((event) => 'step' in event.data && event.data.step === 4 && event.type === 'model-attempt-end');
    assert.deepEqual(fourth.map((event) => (event.type === 'model-attempt-end' ? `${event.data.modelId}:${event.data.error?.code ?? 'ok'}` : '')), ['smart:breaker-open', 'fast:ok']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await engine.start('breaker-task', { calls: 1 }, { principal: 'user:test', tenant: 'acme' });
    const recovered = (await loadRun(store, second.runId)).events;
    assert.deepEqual(eventsOf(recovered, 'breaker-transition').map((event) => `${event.data.from}->${event.data.to}`), ['open->closed']);
    assert.deepEqual(eventsOf(recovered, 'model-attempt-end').map((event) => `${event.data.modelId}:${event.data.outcome}`), ['smart:ok']);
  });

  test('a hung attempt times out and the retry succeeds', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'attempt-timeout', models: ['sim:default'], resilience: { ...fastRetries, attemptTimeoutMs: 100 } },
      faults: { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'timeout' } }] },
    });
    assert.equal(outcomes[0]?.status, 'ok');
    assert.deepEqual(eventsOf(journals[0] ?? [], 'model-attempt-end').map((event) => event.data.error?.code ?? 'ok'), ['model-timeout', 'ok']);
  });

  test('a passed deadline ends the run failed with a clear reason', async () => {
    const { outcomes } = await exercise({
      route: { name: 'deadline', models: ['sim:default'], resilience: { ...fastRetries, attemptTimeoutMs: 10_000 } },
      faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'timeout' } }] },
      deadlineMs: 250,
    });
    assert.equal(outcomes[0]?.status, 'failed');
    assert.equal(outcomes[0]?.error?.code, 'deadline-exceeded');
    assert.match(outcomes[0]?.reason ?? '', /deadline of 250 ms exceeded/);
  });
});

describe('budgets and routing', () => {
  test('a budget too small for the primary model downgrades to a cheaper one', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'downgrade', models: ['sim:smart', 'sim:fast'], maxOutputTokens: 500, onBudgetExceeded: 'downgrade' },
      budgets: [{ scope: 'run', micros: 2_000 }],
    });
    assert.equal(outcomes[0]?.status, 'ok');
    const decisions = eventsOf(journals[0] ?? [], 'budget-decision').map((event) => `${event.data.modelId}:${event.data.outcome}`);
    assert.deepEqual(decisions, ['smart:refused', 'fast:reserved']);
    assert.match(eventsOf(journals[0] ?? [], 'model-fallback')[0]?.data.reason ?? '', /^budget: run:.* has 2000 of 2000 micro-USD left/);
  });

  test('a reservation is journaled with the id the book holds it under, so another process can settle it; a refusal has none', async () => {
    const budgets = store.budgets;
    assert.ok(budgets !== undefined);
    // The store's own book, with the ids it was asked to hold and to settle written down.
    const held: string[] = [];
    const settled: string[] = [];
    const book: BudgetStoreV1 = {
      budgetSpecificationVersion: 'v1',
      reserveBudget: async (request) => {
        const outcome = await budgets.reserveBudget(request);
        if (outcome.ok) held.push(request.reservationId);
        return outcome;
      },
      settleBudget: (request) => {
        settled.push(request.reservationId);
        return budgets.settleBudget(request);
      },
      readBudget: (key, nowMs) => budgets.readBudget(key, nowMs),
    };
    const { outcomes, journals } = await exercise({
      route: { name: 'journaled-reservation', models: ['sim:smart', 'sim:fast'], maxOutputTokens: 500, onBudgetExceeded: 'downgrade' },
      budgets: [{ scope: 'run', micros: 2_000 }],
      book,
    });
    assert.equal(outcomes[0]?.status, 'ok');
    const decisions = eventsOf(journals[0] ?? [], 'budget-decision').map((event) => ({ model: event.data.modelId, outcome: event.data.outcome, reservationId: event.data.reservationId }));
    assert.equal(held.length, 1);
    assert.deepEqual(decisions, [
      { model: 'smart', outcome: 'refused', reservationId: undefined },
      { model: 'fast', outcome: 'reserved', reservationId: held[0] },
    ]);
    assert.deepEqual(settled, held, 'the call settled the reservation it journaled');
    // Settled already: settling the journaled id again, as the ender of a dead process's run would, changes nothing.
    assert.deepEqual(await budgets.settleBudget({ reservationId: held[0] ?? '', actual: { micros: 1, tokens: 1 } }), []);
  });

  test('a call no budget scope covers reserves nothing in the book and journals no reservation id', async () => {
    const { outcomes, journals } = await exercise({
      route: { name: 'uncovered', models: ['sim:fast'], maxOutputTokens: 100 },
      budgets: [{ scope: 'tenant', match: 'someone-else', micros: 1_000 }],
      tenant: 'acme',
    });
    assert.equal(outcomes[0]?.status, 'ok');
    const [decision] = eventsOf(journals[0] ?? [], 'budget-decision');
    assert.equal(decision?.data.outcome, 'reserved');
    assert.equal(decision.data.reservationId, undefined);
    assert.ok(!('reservationId' in decision.data), 'no reservationId key at all');
  });

  test('stop returns the partial output marked degraded; escalate hands the run to a person', async () => {
    // Each call spends ~70 tokens and reserves ~150: a 400-token budget runs out a few calls in.
    const stopped = await exercise({
      route: { name: 'stop', models: ['sim:default'], maxOutputTokens: 100, onBudgetExceeded: 'stop' },
      budgets: [{ scope: 'run', tokens: 400 }],
      calls: 10,
      partial: true,
    });
    const outcome = stopped.outcomes[0];
    assert.equal(outcome?.status, 'degraded');
    assert.ok(Array.isArray((outcome?.output as { answers: string[] }).answers) && (outcome?.output as { answers: string[] }).answers.length >= 1);
    assert.equal(outcome?.confidence.at(-1)?.subject, 'completeness');
    const escalated = await exercise({
      route: { name: 'escalate', models: ['sim:default'], maxOutputTokens: 100, onBudgetExceeded: 'escalate' },
      budgets: [{ scope: 'run', tokens: 400 }],
      calls: 10,
      partial: true,
    });
    assert.equal(escalated.outcomes[0]?.status, 'escalated');
    assert.match(escalated.outcomes[0]?.reason ?? '', /budget exhausted/);
  });

  test('rules route by request traits and the decision is journaled with its reason', async () => {
    const { journals } = await exercise({
      route: { name: 'rules', models: ['sim:smart', 'sim:fast'], rules: [{ when: { maxInputTokens: 2_000, tools: false }, use: 'sim:fast', reason: 'short prompt without tools' }] },
    });
    const [decision] = eventsOf(journals[0] ?? [], 'route-decision');
    assert.equal(decision?.data.modelId, 'fast');
    assert.equal(decision?.data.reason, 'short prompt without tools');
    assert.equal(decision?.data.estimated, false);
    const cheapest = await exercise({ route: { name: 'cheapest', models: ['sim:smart', 'sim:fast', 'sim:default'], strategy: 'cheapest' } });
    assert.equal(eventsOf(cheapest.journals[0] ?? [], 'route-decision')[0]?.data.modelId, 'fast');
  });

  test('200 concurrent runs against one small budget never overspend, and all end explicitly with a result or a reason', async () => {
    const limit = 60_000;
    const { outcomes, ledger, journals } = await exercise({
      route: { name: 'crowd', models: ['sim:default'], maxOutputTokens: 300, onBudgetExceeded: 'stop' },
      budgets: [{ scope: 'tenant-day', match: 'crowd', micros: limit, alertAt: [0.5, 0.8, 1] }],
      calls: 3,
      partial: true,
      runs: 200,
      tenant: 'crowd',
    });
    const day = new Date().toISOString().slice(0, 10);
    const spent = (await ledger?.spent(`tenant:crowd:day:${day}`))?.micros ?? Number.NaN;
    const journaled = journals.flat().reduce((sum, event) => sum + (event.type === 'step-end' ? (event.data.cost?.micros ?? 0) : 0), 0);
    assert.equal(journaled, spent, 'the ledger and the journals agree on what was spent');
    assert.ok(spent <= limit, `spent ${spent} of ${limit}`);
    const counts = new Map<string, number>();
    for (const outcome of outcomes) {
      counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
      if (outcome.status === 'ok' || outcome.status === 'degraded') {
        assert.ok((outcome.output as { answers: string[] }).answers.length > 0, `run ${outcome.runId} returned an empty result`);
      } else {
        assert.equal(outcome.status, 'escalated');
        assert.match(outcome.reason ?? '', /budget exhausted/);
      }
    }
    assert.ok((counts.get('ok') ?? 0) > 0 && (counts.get('degraded') ?? 0) + (counts.get('escalated') ?? 0) > 0, JSON.stringify([...counts]));
  });

  test('budget thresholds and a latency SLA raise journaled alerts and call the hooks', async () => {
    const { alerts, journals } = await exercise({
      route: { name: 'alerts', models: ['sim:fast'], maxOutputTokens: 100 },
      budgets: [{ scope: 'run', micros: 20_000, alertAt: [0.001, 0.002] }],
      slas: [{ task: `governed-${taskCounter + 1}`, p95Ms: 1, window: 5 }],
      calls: 5,
    });
    const kinds = alerts.map((alert) => `${alert.kind}:${alert.threshold}`);
    assert.ok(kinds.includes('budget-threshold:0.001') && kinds.includes('budget-threshold:0.002'), kinds.join(', '));
    assert.ok(kinds.includes('latency-sla:1'), kinds.join(', '));
    assert.equal(eventsOf(journals[0] ?? [], 'alert-raise').length, alerts.length);
    assert.ok(alerts.every((alert) => alert.runId === journals[0]?.[0]?.runId));
  });
});
