import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { PolicyDecisionV1, PolicyEngineV1, PolicyRequestV1 } from '../spec/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

/** A policy set in code: nobody called mallory may call a model. */
const policies: PolicyEngineV1 = {
  policySetVersion: 'test-1',
  decide(request: PolicyRequestV1): PolicyDecisionV1 {
    const denied = request.principal.id === 'mallory';
    return {
      effect: denied ? 'deny' : 'allow',
      policyIds: [denied ? 'no-mallory' : 'everyone-else'],
      reason: denied ? 'mallory is suspended' : 'permitted',
      engine: 'test',
      policySetVersion: 'test-1',
    };
  },
};

let served: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  // Tenant `frugal` may spend 5 micro-USD: less than any call's worst case, so every call is refused before it is sent.
  served = await startTestGateway({
    config: { version: 1, routes: [{ name: 'support', models: ['sim:default'], onBudgetExceeded: 'stop' }], budgets: [{ scope: 'tenant', match: 'frugal', micros: 5 }, { scope: 'tenant', micros: 1_000_000_000 }] },
    policies,
  });
  openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 2 });
  anthropic = new Anthropic({ baseURL: served.url, apiKey: 'not-checked-yet', maxRetries: 2 });
});
after(() => served.close());

const frugal = { headers: { 'keel-tenant': 'frugal' } };

async function journal(runId: string | null | undefined): Promise<readonly JournalEvent[]> {
  assert.ok(typeof runId === 'string', 'the error response names its run');
  return (await loadRun(served.gateway.keel.store, runId)).events;
}

describe('governance through the gateway', () => {
  test('every call, whole or streamed, through a route or a concrete model, reserves its budget before it is sent', async () => {
    for (const model of ['support', 'sim:default']) {
      for (const stream of [false, true]) {
        const { response } = await openai.chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        if (stream) await served.gateway.settled();
        const events = await journal(response.headers.get('keel-run-id'));
        const reserved = events.findIndex((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved');
        const attempted = events.findIndex((event) => event.type === 'model-attempt-end');
        assert.ok(reserved !== -1 && reserved < attempted, `${model} stream=${stream}: reservation before the attempt`);
      }
    }
  });

  test('a budget stop is a 429 insufficient_quota for OpenAI\'s client, not retried, and the run records the refusal', async () => {
    const before = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
    for (const stream of [false, true]) {
      const error = await openai.chat.completions.create({ model: 'support', stream, messages: [{ role: 'user', content: 'hi' }] }, frugal).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.type, 'insufficient_quota');
      assert.equal(error.code, 'budget_exceeded');
      assert.match(error.message, /tenant:frugal has 5 of 5 micro-USD left/);
      const events = await journal(error.headers?.get('keel-run-id'));
      assert.ok(events.some((event) => event.type === 'budget-decision' && event.data.outcome === 'refused'));
      assert.ok(!events.some((event) => event.type === 'model-attempt-end'), 'nothing was sent');
    }
    // maxRetries 2, yet one run per request: x-should-retry: false kept the client from retrying.
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 1_000 })).length, before + 2);
  });

  test('a budget stop is a 402 billing_error for Anthropic\'s client', async () => {
    const error = await anthropic.messages.create({ model: 'sim:default', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, frugal).catch((caught: unknown) => caught);
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.status, 402);
    assert.equal((error.error as { error: { type: string } }).error.type, 'billing_error');
  });

  test('a policy denial is a 403 for both clients, decided and journaled before the call', async () => {
    const denied = await openai.chat.completions.create({ model: 'sim:default', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'keel-principal': 'mallory' } }).catch((caught: unknown) => caught);
    assert.ok(denied instanceof OpenAI.PermissionDeniedError, String(denied));
    assert.equal(denied.code, 'policy_denied');
    assert.match(denied.message, /mallory of tenant default may not call model sim:default: mallory is suspended/);
    const events = await journal(denied.headers?.get('keel-run-id'));
    const decision = events.find((event) => event.type === 'policy-decision');
    assert.equal(decision?.type === 'policy-decision' ? decision.data.effect : undefined, 'deny');
    assert.ok(!events.some((event) => event.type === 'model-attempt-end'), 'nothing was sent');
    const run = await served.run(denied.headers?.get('keel-run-id') ?? null);
    assert.equal(run.status, 'failed');
    assert.equal(run.costMicros, 0);

    const refused = await anthropic.messages.stream({ model: 'sim:default', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'keel-principal': 'mallory' } }).finalMessage().catch((caught: unknown) => caught);
    assert.ok(refused instanceof Anthropic.PermissionDeniedError, String(refused));
  });
});
