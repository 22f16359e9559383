import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { BudgetRule, PriceTable } from '../../cost/index.ts';
import { BudgetLedger, costOf, defaultPriceTable } from '../../cost/index.ts';
import type { RunContext } from '../../engine/index.ts';
import { defineTask, Engine } from '../../engine/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { EventOf, JournalEvent } from '../../journal/index.ts';
import { loadRun } from '../../journal/index.ts';
import type { GenerateOptionsV1, JsonValue, StreamPartV1 } from '../../spec/index.ts';
import { SqliteStore } from '../../store/index.ts';
import { OpenAIWireServer } from '../openai/testing/openai-wire-server.ts';
import { resolveModel } from '../resolve-model.ts';
import type { FaultPlan } from '../simulator/index.ts';
import type { CallSettlement, Governance, RouteConfig } from './index.ts';
import { GovernedModel, SharedGuards } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-governed-stream-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const request: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is my order A-1001?' }] }] };
const fastRetries = { initialDelayMs: 5, maxDelayMs: 50 };

function governanceFor(setup: { faults?: Record<string, FaultPlan>; environment?: Record<string, string>; budgets?: BudgetRule[]; prices?: PriceTable }): Governance {
  const governance: Governance = {
    prices: setup.prices ?? defaultPriceTable,
    guards: new SharedGuards(),
    resolveModel: (name) => resolveModel(name, { environment: setup.environment ?? {}, simulator: { faults: setup.faults?.[name] ?? [] } }),
  };
  if (setup.budgets !== undefined) governance.ledger = new BudgetLedger(setup.budgets);
  return governance;
}

/** What a streamed call gave its reader: the parts it got, the error that ended it, if any, and what was booked. */
interface StreamRead {
  parts: StreamPartV1[];
  error: KeelError | undefined;
  settlement: CallSettlement;
}

async function readStream(model: GovernedModel, stopAfter?: number): Promise<StreamRead> {
  const result = await model.doStream(request);
  const parts: StreamPartV1[] = [];
  let error: KeelError | undefined;
  try {
    for await (const part of result.stream) {
      parts.push(part);
      if (parts.length === stopAfter) break;
    }
  } catch (thrown) {
    assert.ok(thrown instanceof KeelError, `expected a KeelError, got ${String(thrown)}`);
    error = thrown;
  }
  return { parts, error, settlement: await result.settlement };
}

function textOf(parts: StreamPartV1[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
}

let taskCounter = 0;

/** Runs one run whose steps are `calls`, each a streamed (or generated) call journaled as a step. */
async function inRun(calls: ((context: RunContext) => Promise<JsonValue>)[]): Promise<{ status: string; output: JsonValue | undefined; journal: JournalEvent[] }> {
  taskCounter += 1;
  const task = defineTask({
    name: `governed-stream-${taskCounter}`,
    version: '1',
    run: async (context) => {
      const outputs: JsonValue[] = [];
      for (const call of calls) outputs.push(await call(context));
      return outputs;
    },
  });
  const engine = new Engine({ store, tasks: [task] });
  const outcome = await engine.start(task.name, null, { principal: 'user:test', tenant: 'acme' });
  return { status: outcome.status, output: outcome.output, journal: (await loadRun(store, outcome.runId)).events };
}

/** A streamed call as a step of its own, so its governance events are journaled into it. */
function streamedStep(model: GovernedModel, name = 'stream') {
  return (context: RunContext) =>
    context.step(
      name,
      async () => {
        const read = await readStream(model);
        return { text: textOf(read.parts), error: read.error?.code ?? null, cost: read.settlement.cost.micros, billedFrom: read.settlement.billedFrom };
      },
      { idempotent: true },
    );
}

function eventsOf<Type extends JournalEvent['type']>(journal: JournalEvent[], type: Type): EventOf<Type>[] {
  return journal.filter((event): event is EventOf<Type> => event.type === type);
}

/** The governance decisions of a journal, without timings (which differ from run to run). */
function decisions(journal: JournalEvent[]): string[] {
  return journal.flatMap((event) => {
    switch (event.type) {
      case 'route-decision':
        return [`route ${event.data.route} → ${event.data.provider}:${event.data.modelId} (${event.data.reason})`];
      case 'budget-decision':
        return [`budget ${event.data.modelId} ${event.data.outcome} ${event.data.reservedMicros}`];
      case 'model-attempt-end':
        return [`attempt ${event.data.attempt} ${event.data.modelId} ${event.data.outcome} ${event.data.error?.code ?? ''} ${JSON.stringify(event.data.usage ?? null)} ${event.data.responseId ?? ''}`];
      case 'retry-wait':
        return [`wait ${event.data.attempt} ${event.data.reason}`];
      case 'breaker-transition':
        return [`breaker ${event.data.breaker} ${event.data.from}->${event.data.to}`];
      case 'model-fallback':
        return [`fallback ${event.data.from} → ${event.data.to}`];
      case 'fault-injection':
        return [`fault ${JSON.stringify(event.data.fault)} on call ${event.data.call}`];
      default:
        return [];
    }
  });
}

describe('streams go through the governance stack', () => {
  test('a stream whose first attempt is answered 429 with retry-after is retried after it, then streams', async () => {
    const wire = await OpenAIWireServer.start();
    try {
      wire.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after-ms': '150' } }, { fixture: 'chat-text-stream.sse' });
      // A local server is an `openai-compatible` provider, free in the built-in table: price it here.
      const price = { inputPerMillion: 2_500_000, outputPerMillion: 10_000_000 };
      const prices: PriceTable = { ...defaultPriceTable, version: 'wire-test', models: { ...defaultPriceTable.models, 'openai-compatible:gpt-4o': price } };
      const model = new GovernedModel(
        { name: 'wire-retry', models: ['openai:gpt-4o'], resilience: fastRetries },
        governanceFor({ environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: wire.baseURL }, budgets: [{ scope: 'run', micros: 1_000_000 }], prices }),
      );
      const { status, output, journal } = await inRun([streamedStep(model)]);
      assert.equal(status, 'ok');
      // The fixture's finish reports 19 prompt and 10 completion tokens.
      const cost = costOf(price, { inputTokens: 19, outputTokens: 10 });
      assert.ok(cost > 0);
      assert.deepEqual(output, [{ text: 'Hello! How can I help you today?', error: null, cost, billedFrom: 'usage' }]);
      assert.equal(wire.requests.length, 2);
      const attempts = eventsOf(journal, 'model-attempt-end').map((event) => [event.data.attempt, event.data.outcome, event.data.error?.code]);
      assert.deepEqual(attempts, [[1, 'error', 'model-rate-limited'], [2, 'ok', undefined]]);
      const [wait] = eventsOf(journal, 'retry-wait');
      assert.equal(wait?.data.reason, 'retry-after');
      assert.ok((wait?.data.waitMs ?? 0) >= 150, `waited ${wait?.data.waitMs} ms`);
      assert.deepEqual(eventsOf(journal, 'budget-decision').map((event) => event.data.outcome), ['reserved']);
    } finally {
      await wire.close();
    }
  });

  test('a route whose first model refuses connections falls back to the second and streams from it', async () => {
    const closedPort = await unusedPort();
    const model = new GovernedModel(
      { name: 'refused', models: ['openai:gpt-4o-mini', 'sim:fast'], resilience: { ...fastRetries, maxAttempts: 2 } },
      governanceFor({ environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}/v1` } }),
    );
    const { status, output, journal } = await inRun([streamedStep(model)]);
    assert.equal(status, 'ok');
    assert.match((output as { text: string }[])[0]?.text ?? '', /Where is my order A-1001\?/);
    const attempts = eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.modelId}:${event.data.error?.code ?? 'ok'}`);
    assert.deepEqual(attempts, ['gpt-4o-mini:model-connection-failed', 'gpt-4o-mini:model-connection-failed', 'fast:ok']);
    const [fallback] = eventsOf(journal, 'model-fallback');
    assert.equal(fallback?.data.from, 'openai:gpt-4o-mini');
    assert.equal(fallback?.data.to, 'sim:fast');
    assert.match(fallback?.data.reason ?? '', /after 2 attempts/);
  });

  test('the breaker opens on repeated stream failures and then sheds streams to the fallback', async () => {
    const model = new GovernedModel(
      { name: 'stream-breaker', models: ['sim:smart', 'sim:fast'], resilience: { ...fastRetries, maxAttempts: 1, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } } },
      governanceFor({ faults: { 'sim:smart': [{ on: { every: 1 }, fault: { type: 'server-error', status: 502 } }] } }),
    );
    const { status, journal } = await inRun([streamedStep(model, 'first'), streamedStep(model, 'second'), streamedStep(model, 'third')]);
    assert.equal(status, 'ok');
    assert.deepEqual(eventsOf(journal, 'breaker-transition').map((event) => `${event.data.breaker}:${event.data.from}->${event.data.to}`), ['sim:smart:closed->open']);
    const attempts = eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.step}:${event.data.modelId}:${event.data.error?.code ?? 'ok'}`);
    assert.deepEqual(attempts, ['1:smart:model-server-error', '1:fast:ok', '2:smart:model-server-error', '2:fast:ok', '3:smart:breaker-open', '3:fast:ok']);
  });

  test('streams that fail after their first content part count against the breaker too', async () => {
    const model = new GovernedModel(
      { name: 'midstream-breaker', models: ['sim:default'], resilience: { ...fastRetries, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } } },
      governanceFor({ faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'truncated-stream', afterParts: 2 } }] } }),
    );
    const first = await readStream(model);
    const second = await readStream(model);
    assert.equal(first.error?.code, 'model-stream-truncated');
    assert.equal(second.error?.code, 'model-stream-truncated');
    await assert.rejects(model.doStream(request), (error: unknown) => error instanceof KeelError && error.code === 'route-exhausted' && /circuit breaker is open/.test(error.message));
  });

  test('a streamed call journals the same decisions as a generated one: route, budget, attempts, waits, fallback', async () => {
    const setup = {
      faults: {
        'sim:smart': [{ on: { every: 1 }, fault: { type: 'server-error' } }],
        'sim:fast': [{ on: { calls: [1] }, fault: { type: 'rate-limit', retryAfterMs: 20 } }],
      } satisfies Record<string, FaultPlan>,
      budgets: [{ scope: 'run', micros: 1_000_000 }] satisfies BudgetRule[],
    };
    const route: RouteConfig = { name: 'same', models: ['sim:smart', 'sim:fast'], maxOutputTokens: 200, resilience: { ...fastRetries, maxAttempts: 2 } };
    const generating = new GovernedModel(route, governanceFor(setup));
    const streaming = new GovernedModel(route, governanceFor(setup));
    const generated = await inRun([
      async (context) => {
        const result = await context.model('call', generating, request);
        return { text: result.content.map((part) => (part.type === 'text' ? part.text : '')).join(''), cost: result.cost?.micros ?? null };
      },
    ]);
    const streamed = await inRun([streamedStep(streaming, 'call')]);
    assert.equal(generated.status, 'ok');
    assert.equal(streamed.status, 'ok');
    const [generatedOutput] = generated.output as { text: string; cost: number }[];
    const [streamedOutput] = streamed.output as { text: string; cost: number }[];
    assert.equal(streamedOutput?.text, generatedOutput?.text);
    assert.equal(streamedOutput?.cost, generatedOutput?.cost);
    const expected = decisions(generated.journal);
    assert.ok(expected.some((line) => line.startsWith('fallback sim:smart → sim:fast')) && expected.some((line) => line.startsWith('wait 1 retry-after')), expected.join('\n'));
    assert.deepEqual(decisions(streamed.journal), expected);
  });
});

describe('a stream cut short after content reached its reader', () => {
  test('is not retried: the error reaches the reader, and the call is billed its reservation', async () => {
    const governance = governanceFor({ faults: { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'truncated-stream', afterParts: 3 } }] }, budgets: [{ scope: 'run', micros: 1_000_000 }] });
    const model = new GovernedModel({ name: 'cut', models: ['sim:default'], maxOutputTokens: 300, resilience: fastRetries }, governance);
    let runId = '';
    const { status, output, journal } = await inRun([
      (context) => {
        runId = context.runId;
        return streamedStep(model)(context);
      },
    ]);
    assert.equal(status, 'ok');
    const [read] = output as { text: string; error: string; cost: number; billedFrom: string }[];
    assert.equal(read?.error, 'model-stream-truncated');
    assert.ok((read?.text.length ?? 0) > 0, 'content reached the reader before the cut');
    assert.equal(read?.billedFrom, 'reservation');
    const [reserved] = eventsOf(journal, 'budget-decision');
    assert.equal(read?.cost, reserved?.data.reservedMicros);
    assert.equal((await governance.ledger?.spent(`run:${runId}`))?.micros, reserved?.data.reservedMicros);
    assert.deepEqual(eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.attempt}:${event.data.error?.code ?? 'ok'}`), ['1:model-stream-truncated']);
    assert.equal(eventsOf(journal, 'retry-wait').length, 0);
  });

  test('a reader that stops early ends the attempt (journaled as aborted), is billed its reservation and does not trip the breaker', async () => {
    const model = new GovernedModel(
      { name: 'early-stop', models: ['sim:default'], resilience: { ...fastRetries, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } } },
      governanceFor({}),
    );
    const { status, output, journal } = await inRun([
      (context) =>
        context.step(
          'stop-early',
          async () => {
            const read = await readStream(model, 2);
            return { parts: read.parts.length, billedFrom: read.settlement.billedFrom };
          },
          { idempotent: true },
        ),
      streamedStep(model, 'after'),
    ]);
    assert.equal(status, 'ok');
    assert.deepEqual((output as JsonValue[])[0], { parts: 2, billedFrom: 'reservation' });
    assert.deepEqual(eventsOf(journal, 'model-attempt-end').map((event) => `${event.data.step}:${event.data.error?.code ?? 'ok'}`), ['1:model-aborted', '2:ok']);
    assert.equal(eventsOf(journal, 'breaker-transition').length, 0);
  });
});

describe('a budgeted model outside a run', () => {
  test('refuses to call rather than skip its reservation', async () => {
    const governance = governanceFor({ budgets: [{ scope: 'tenant', micros: 1_000 }] });
    const model = new GovernedModel({ name: 'budgeted', models: ['sim:default'] }, governance);
    const refused = (error: unknown) => {
      assert.ok(error instanceof KeelError);
      assert.equal(error.code, 'model-call-outside-step');
      assert.equal(error.isRetryable, false);
      assert.match(error.message, /route budgeted has a budget.*context\.model\(\.\.\.\) inside a run/);
      return true;
    };
    await assert.rejects(model.doGenerate(request), refused);
    await assert.rejects(model.doStream(request), refused);
    // Nothing was reserved or spent anywhere.
    assert.deepEqual(await governance.ledger?.spent('tenant:acme'), { micros: 0, tokens: 0 });
    // Without a budget there is nothing to reserve, and a direct call is allowed.
    const unbudgeted = new GovernedModel({ name: 'free', models: ['sim:default'] }, governanceFor({}));
    assert.ok((await unbudgeted.doGenerate(request)).cost !== undefined);
  });
});

describe('attempt timers', () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

  test('a finished call, whole or streamed, leaves no attempt timer behind', async () => {
    const model = new GovernedModel({ name: 'timers', models: ['sim:default'], resilience: { attemptTimeoutMs: 30_000 } }, governanceFor({}));
    const before = timeouts();
    await model.doGenerate(request);
    assert.equal(timeouts(), before);
    const read = await readStream(model);
    assert.equal(read.settlement.billedFrom, 'usage');
    assert.equal(timeouts(), before);
  });

  test('while an attempt waits on the provider its timer is pending, and it is cleared when the call ends', async () => {
    let hanging: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      hanging = resolve;
    });
    const governance: Governance = {
      prices: defaultPriceTable,
      guards: new SharedGuards(),
      resolveModel: (name) => resolveModel(name, { simulator: { faults: [{ on: { every: 1 }, fault: { type: 'timeout' } }], onFault: () => hanging() } }),
    };
    const model = new GovernedModel({ name: 'hung', models: ['sim:default'], resilience: { maxAttempts: 1, attemptTimeoutMs: 30_000 } }, governance);
    const caller = new AbortController();
    const before = timeouts();
    const call = model.doGenerate({ ...request, abortSignal: caller.signal });
    await started;
    assert.equal(timeouts(), before + 1, 'the attempt timer is pending while the provider hangs');
    caller.abort();
    await assert.rejects(call, (error: unknown) => error instanceof KeelError && error.code === 'deadline-exceeded');
    assert.equal(timeouts(), before);
  });
});

/** A port nothing listens on: bound, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
