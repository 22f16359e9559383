import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { defaultPriceTable } from '../cost/index.ts';
import type { RunContext, RunOutcome } from '../engine/index.ts';
import { defineTask, Engine } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { EventOf, JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { FaultPlan, ResiliencePolicy, SimulatorScript } from '../models/index.ts';
import { GovernedModel, resolveModel, SharedGuards } from '../models/index.ts';
import type { GenerateOptionsV1, JsonValue, LanguageModelV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { AttemptParameters, FailureContract, FailureContractRunner, FailureDecision } from './index.ts';
import { classifyFailure, defineFailureContract, defineOutputContract, generateWithContract, modelSteps, requestWithParameters, withFailureContract } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-failure-contract-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const triage = defineOutputContract({
  name: 'ticket-triage',
  version: '1',
  schema: z.object({ category: z.enum(['billing', 'shipping', 'other']), summary: z.string().min(3), confidence: z.number().min(0).max(1) }),
  confidence: { field: 'confidence', minimum: 0.8 },
});
type Triage = z.infer<typeof triage.schema>;

const sure: Triage = { category: 'shipping', summary: 'parcel arrived damaged', confidence: 0.95 };
const instant = { firstTokenMs: 0, perOutputTokenMs: 0, jitter: 0 };

function answering(answer: unknown): SimulatorScript {
  return () => ({ type: 'text', text: JSON.stringify(answer) });
}

/** A route of simulated models, each with its own faults; failures surface after one attempt. */
function route(name: string, models: string[], setup: { faults?: Record<string, FaultPlan>; script?: SimulatorScript; resilience?: Partial<ResiliencePolicy> } = {}): GovernedModel {
  return new GovernedModel(
    { name, models, resilience: { maxAttempts: 1, initialDelayMs: 1, ...setup.resilience } },
    {
      prices: defaultPriceTable,
      guards: new SharedGuards(),
      resolveModel: (model) => resolveModel(model, { simulator: { script: setup.script ?? answering(sure), faults: setup.faults?.[model] ?? [], latency: instant } }),
    },
  );
}

function ticketRequest(ticket: string): GenerateOptionsV1 {
  return { messages: [{ role: 'system', content: 'Triage the support ticket.' }, { role: 'user', content: [{ type: 'text', text: ticket }] }] };
}

/** One attempt at the `triage` point: the contract's model call, every check journaled as output-validation. */
function askTriage(context: RunContext, usual: LanguageModelV1, ticket: string, maxRepairs = 2) {
  return (parameters: AttemptParameters) => {
    let check = 0;
    return generateWithContract(modelSteps(context, parameters.model ?? usual), requestWithParameters(ticketRequest(ticket), parameters), triage, {
      label: `triage-${parameters.attempt}`,
      maxRepairs,
      onCheck: (result) => {
        check += 1;
        context.record('output-validation', {
          contract: result.contract,
          version: result.contractVersion,
          attempt: check,
          ok: result.violations.length === 0,
          violations: result.violations,
          ...(result.lowConfidence === undefined ? {} : { lowConfidence: result.lowConfidence }),
        });
      },
    });
  };
}

let taskCounter = 0;

/** Runs `run` as a real task on the engine; the decisions made go into its output, hence into the journal. */
async function runTask(run: (context: RunContext, decisions: FailureDecision[]) => Promise<JsonValue>): Promise<{ outcome: RunOutcome; events: JournalEvent[]; decisions: FailureDecision[] }> {
  taskCounter += 1;
  const decisions: FailureDecision[] = [];
  const task = defineTask({
    name: `failure-contract-${taskCounter}`,
    version: '1',
    run: async (context) => ({ result: await run(context, decisions), decisions: decisions as unknown as JsonValue }),
  });
  const outcome = await new Engine({ store, tasks: [task] }).start(task.name, null, { principal: 'user:test', tenant: 'acme' });
  return { outcome, events: (await loadRun(store, outcome.runId)).events, decisions };
}

function eventsOf<Type extends JournalEvent['type']>(events: JournalEvent[], type: Type): EventOf<Type>[] {
  return events.filter((event): event is EventOf<Type> => event.type === type);
}

function contractFor(on: FailureContract<Triage>['on']): FailureContract<Triage> {
  return defineFailureContract({ point: 'triage', on });
}

const onDecision = (decisions: FailureDecision[]) => ({ onDecision: (decision: FailureDecision) => void decisions.push(decision) });

describe('failure contracts on engine runs with simulator faults', () => {
  test('off-schema output is repaired by the output contract; the failure contract is not needed', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'malformed-json' } }] } });
    const { outcome, events, decisions } = await runTask((context, decisions) =>
      withFailureContract(context, contractFor({ malformed: { action: 'fail' } }), askTriage(context, model, 'My parcel arrived crushed.'), onDecision(decisions)),
    );
    assert.equal(outcome.status, 'ok');
    assert.deepEqual((outcome.output as { result: unknown }).result, sure);
    assert.deepEqual(decisions, []);
    assert.deepEqual(eventsOf(events, 'output-validation').map((event) => event.data.ok), [false, true]);
    assert.equal(eventsOf(events, 'output-validation')[0]?.data.violations[0]?.code, 'json-invalid');
    assert.equal(eventsOf(events, 'fault-injection').length, 1);
  });

  test('drift after a "model update" is caught as malformed and retried on another model', async () => {
    // The primary model is silently updated after its second call: answers lose `summary`.
    const primary = route('triage-primary', ['sim:default'], { faults: { 'sim:default': [{ on: { afterCall: 2 }, fault: { type: 'schema-drift', drop: ['summary'] } }] } });
    const secondary = route('triage-secondary', ['sim:fast']);
    const contract = contractFor({ malformed: { action: 'retry', with: { model: secondary }, then: { action: 'escalate' } } });
    const tickets = ['Where is order A-1?', 'Where is order A-2?', 'Where is order A-3?'];
    const { outcome, events, decisions } = await runTask(async (context, decisions) => {
      const results: Triage[] = [];
      for (const ticket of tickets) results.push(await withFailureContract(context, contract, askTriage(context, primary, ticket, 0), onDecision(decisions)));
      return results;
    });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.deepEqual((outcome.output as { result: unknown }).result, [sure, sure, sure]);
    assert.deepEqual(decisions.map(({ kind, action }) => `${kind}:${action}`), ['malformed:retry']);
    assert.match(decisions[0]?.detail ?? '', /attempt 2 with model keel:triage-secondary after output-contract-violated: .*\$\.summary \(missing-field\)/);
    assert.deepEqual(eventsOf(events, 'route-decision').map((event) => event.data.modelId), ['default', 'default', 'default', 'fast'], 'the journal shows both models');
    assert.deepEqual(eventsOf(events, 'output-validation').map((event) => event.data.violations.map((violation) => violation.code).join(',') || 'ok'), ['ok', 'ok', 'missing-field', 'ok']);
  });

  test('a retry changes temperature and instruction, then escalates when it is spent', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'malformed-json' } }] } });
    const contract = contractFor({
      malformed: { action: 'retry', with: { temperature: 0, instruction: 'Answer with the JSON object only.' }, then: { action: 'escalate', reason: 'triage keeps breaking its contract' } },
    });
    const { outcome, events, decisions } = await runTask((context, decisions) => withFailureContract(context, contract, askTriage(context, model, 'Refund?', 0), onDecision(decisions)));
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /^triage keeps breaking its contract \(point triage, malformed: output-contract-violated: /);
    assert.deepEqual(decisions.map(({ action }) => action), ['retry', 'escalate']);
    const retried = eventsOf(events, 'step-start').find((event) => event.data.name === 'triage-2')?.data.input as { request: GenerateOptionsV1 } | undefined;
    assert.equal(retried?.request.temperature, 0);
    assert.deepEqual(retried?.request.messages[0], { role: 'system', content: 'Triage the support ticket.\n\nAnswer with the JSON object only.' });
  });

  test('retrieval down: the knowledge base fails and the declared fallback answers', async () => {
    const knowledgeBase = defineFailureContract<string[]>({
      point: 'knowledge-base',
      on: { unavailable: { action: 'fallback', to: async () => ['cached: refunds within 30 days'] }, timeout: { action: 'default', value: [] } },
    });
    const { outcome, events, decisions } = await runTask((context, decisions) =>
      withFailureContract(
        context,
        knowledgeBase,
        async () => ({
          value: await context.tool('search-knowledge-base', { query: 'refund policy' }, (): string[] => {
            // What src/context's retrieveForContext reports for a retriever that is down.
            throw new KeelError('retriever-unavailable', 'retriever kb is unavailable: connection refused', { details: { retriever: 'kb' } });
          }),
        }),
        onDecision(decisions),
      ),
    );
    assert.equal(outcome.status, 'ok');
    assert.deepEqual((outcome.output as { result: unknown }).result, ['cached: refunds within 30 days']);
    assert.deepEqual(decisions.map(({ kind, action }) => `${kind}:${action}`), ['unavailable:fallback']);
    const failed = eventsOf(events, 'step-end').find((event) => event.data.name === 'search-knowledge-base');
    assert.equal(failed?.data.outcome.ok === false && failed.data.outcome.error.code, 'retriever-unavailable');
  });

  test('a model route that is down (every model failing) takes the declared default', async () => {
    const model = route('triage', ['sim:default', 'sim:fast'], {
      faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'server-error' } }], 'sim:fast': [{ on: { every: 1 }, fault: { type: 'overloaded' } }] },
    });
    const general: Triage = { category: 'other', summary: 'sent to the general queue', confidence: 0 };
    const { outcome, decisions } = await runTask((context, decisions) =>
      withFailureContract(context, contractFor({ unavailable: { action: 'default', value: general } }), askTriage(context, model, 'Hello?'), onDecision(decisions)),
    );
    assert.equal(outcome.status, 'ok');
    assert.deepEqual((outcome.output as { result: unknown }).result, general);
    assert.match(decisions[0]?.detail ?? '', /^used the declared default after route-exhausted: /);
  });

  test('timeout: the attempt times out and the declared default is used, visibly', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'timeout' } }] }, resilience: { attemptTimeoutMs: 50 } });
    const general: Triage = { category: 'other', summary: 'triage timed out; general queue', confidence: 0 };
    const { outcome, events, decisions } = await runTask((context, decisions) =>
      withFailureContract(context, contractFor({ timeout: { action: 'default', value: general } }), askTriage(context, model, 'Hello?'), onDecision(decisions)),
    );
    assert.equal(outcome.status, 'ok');
    assert.deepEqual((outcome.output as { result: unknown }).result, general);
    assert.deepEqual(decisions.map(({ kind, action }) => `${kind}:${action}`), ['timeout:default']);
    assert.deepEqual(eventsOf(events, 'model-attempt-end').map((event) => event.data.error?.code), ['model-timeout']);
    const end = eventsOf(events, 'run-end')[0]?.data.output as { decisions: FailureDecision[] } | undefined;
    assert.equal(end?.decisions[0]?.action, 'default', 'the decision is in the journal');
  });

  test('low confidence: degrade returns the answer and the run ends degraded with the marker', async () => {
    const unsure: Triage = { category: 'billing', summary: 'maybe a double charge', confidence: 0.3 };
    const model = route('triage', ['sim:default'], { script: answering(unsure) });
    const contract = contractFor({ 'low-confidence': { action: 'degrade', confidence: 0.5, reason: 'triage is unsure of the category' } });
    const { outcome, events } = await runTask((context) => withFailureContract(context, contract, askTriage(context, model, 'I was charged twice?')));
    assert.equal(outcome.status, 'degraded');
    assert.deepEqual((outcome.output as { result: unknown }).result, unsure);
    assert.deepEqual(outcome.confidence, [{ subject: 'triage', confidence: 0.3, reason: 'triage is unsure of the category (low-confidence: confidence 0.3 is below the minimum 0.8)' }]);
    assert.deepEqual(eventsOf(events, 'output-validation')[0]?.data.lowConfidence, { field: 'confidence', value: 0.3, minimum: 0.8 });
  });

  test('refusal: the model declines and the run is escalated with the reason', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { calls: [1] }, fault: { type: 'refusal', message: 'I cannot assess account takeovers.' } }] } });
    const contract = contractFor({ refusal: { action: 'escalate', reason: 'a person must review a refused ticket' } });
    const { outcome } = await runTask((context) => withFailureContract(context, contract, askTriage(context, model, 'Someone took over my account')));
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /^a person must review a refused ticket \(point triage, refusal: model-refused: .*I cannot assess account takeovers\./);
  });

  test('fail: the run fails with the declared reason', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'overloaded' } }] } });
    const contract = contractFor({ unavailable: { action: 'fail', reason: 'triage needs a model; no answer beats a guess' } });
    const { outcome } = await runTask((context) => withFailureContract(context, contract, askTriage(context, model, 'Hello?')));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', /^triage needs a model; no answer beats a guess \(point triage, unavailable: route-exhausted: /);
    assert.equal(outcome.error?.code, 'route-exhausted');
  });

  test('a kind with no declared action fails the run loudly, naming the point and the kind', async () => {
    const model = route('triage', ['sim:default'], { faults: { 'sim:default': [{ on: { every: 1 }, fault: { type: 'malformed-json' } }] } });
    const contract = contractFor({ timeout: { action: 'default', value: sure } });
    const { outcome, decisions } = await runTask((context, decisions) => withFailureContract(context, contract, askTriage(context, model, 'Hello?', 0), onDecision(decisions)));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'failure-contract-missing');
    assert.match(outcome.reason ?? '', /^point triage has no failure contract for malformed \(output-contract-violated: output contract ticket-triage@1 still violated/);
    assert.deepEqual(decisions.map(({ action }) => action), ['missing']);
  });
});

describe('classifyFailure', () => {
  const kindOf = (error: unknown) => classifyFailure(error)?.kind;

  test('maps Keel error codes to kinds and leaves the rest to propagate', () => {
    assert.equal(kindOf(new KeelError('output-contract-violated', 'x')), 'malformed');
    assert.equal(kindOf(new KeelError('model-timeout', 'x')), 'timeout');
    assert.equal(kindOf(new KeelError('model-refused', 'x')), 'refusal');
    assert.equal(kindOf(new KeelError('breaker-open', 'x')), 'unavailable');
    assert.equal(kindOf(new KeelError('tool-timeout', 'x', { details: { reason: 'timeout' } })), 'timeout');
    assert.equal(kindOf(new KeelError('tool-timeout', 'x', { retryable: false })), 'timeout', 'an effect that timed out is still a timeout');
    assert.equal(kindOf(new KeelError('tool-output-invalid', 'x', { details: { reason: 'output-invalid' } })), 'malformed');
    assert.equal(kindOf(new KeelError('retriever-unavailable', 'x')), 'unavailable');
    assert.equal(kindOf(new KeelError('tool-error', 'x', { details: { reason: 'timeout' } })), 'timeout', 'a journal from before tool-timeout replays alike');
    assert.equal(kindOf(new KeelError('tool-error', 'x', { details: { reason: 'output-invalid' } })), 'malformed');
    assert.equal(kindOf(new KeelError('tool-error', 'x', { retryable: true })), 'unavailable');
    assert.equal(kindOf(new KeelError('tool-error', 'x')), undefined, 'an arbitrary tool exception is not an outage');
    assert.equal(kindOf(new KeelError('deadline-exceeded', 'x')), undefined, "the run's deadline is the engine's");
    assert.equal(kindOf(new KeelError('budget-exceeded', 'x')), undefined);
    assert.equal(kindOf(new KeelError('model-auth-failed', 'x')), undefined);
    assert.equal(kindOf(new TypeError('x')), undefined);
    assert.deepEqual(classifyFailure({ value: 1, lowConfidence: { field: 'confidence', value: 0.2, minimum: 0.5 } })?.kind, 'low-confidence');
    assert.equal(classifyFailure({ value: 1 }), undefined);
  });

  test('a route is classified by what its attempts agree on', () => {
    const exhausted = (...codes: string[]) => new KeelError('route-exhausted', 'x', { details: { attempts: codes.map((code) => ({ code, message: code, retryable: true })) } });
    assert.equal(kindOf(exhausted('model-timeout', 'model-timeout')), 'timeout');
    assert.equal(kindOf(exhausted('model-timeout', 'model-server-error')), 'unavailable');
    assert.equal(kindOf(exhausted('model-server-error', 'model-auth-failed')), undefined, 'a configuration error is not hidden behind a fallback');
    assert.equal(kindOf(new KeelError('route-exhausted', 'x')), 'unavailable');
  });
});

describe('withFailureContract outside a run', () => {
  const runner: FailureContractRunner = {
    markConfidence: () => undefined,
    escalate: (reason) => {
      throw new Error(`escalated: ${reason}`);
    },
  };

  test('errors that are not failures propagate unchanged', async () => {
    const contract = defineFailureContract<number>({ point: 'p', on: { timeout: { action: 'default', value: 0 }, unavailable: { action: 'default', value: 0 } } });
    const bug = new TypeError('undefined is not a function');
    await assert.rejects(withFailureContract(runner, contract, () => Promise.reject(bug)), (error) => error === bug);
    const late = new KeelError('deadline-exceeded', 'run deadline passed');
    await assert.rejects(withFailureContract(runner, contract, () => Promise.reject(late)), (error) => error === late);
  });

  test('a runner that can record journals every decision, in order', async () => {
    const recorded: { type: string; data: unknown }[] = [];
    const recording: FailureContractRunner = { ...runner, record: (type, data) => recorded.push({ type, data }) };
    const contract = defineFailureContract<number>({ point: 'quote', on: { timeout: { action: 'retry', with: { temperature: 0 }, then: { action: 'default', value: 7 } } } });
    const value = await withFailureContract(recording, contract, () => Promise.reject(new KeelError('model-timeout', 'slow')));
    assert.equal(value, 7);
    assert.deepEqual(
      recorded.map(({ type, data }) => [type, (data as { point: string; kind: string; action: string }).action]),
      [
        ['failure-decision', 'retry'],
        ['failure-decision', 'default'],
      ],
    );
  });

  test('contracts are checked where they are defined', () => {
    assert.throws(() => defineFailureContract({ point: 'p', on: { malformed: { action: 'retry', with: {} } } }), /a retry must change something/);
    assert.throws(() => defineFailureContract({ point: 'p', on: { timeout: { action: 'degrade', confidence: 0.5, reason: 'slow' } } }), /degrade needs a 'partial' value/);
    assert.throws(() => defineFailureContract({ point: 'p', on: { slow: { action: 'fail' } } as never }), /unknown failure kind 'slow'/);
    assert.throws(() => defineFailureContract({ point: 'p', on: { 'low-confidence': { action: 'degrade', confidence: 2, reason: 'r' } } }), /between 0 and 1/);
  });
});
