import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic, { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import OpenAI, { APIError as OpenAIAPIError } from 'openai';
import type { Fault } from '../models/index.ts';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

// When the provider's failure ends the call (the route's retries spent), the client is told the
// provider's wait in the headers the official clients back off by. maxRetries 0: the clients must
// not retry here, only show what they were told.
const question = [{ role: 'user' as const, content: 'Where is order A-1001?' }];
// Every call here fails: a breaker high enough that none opens, so each failure is the provider's own.
const breaker = { consecutiveFailures: 1_000 };
const oneAttempt = { maxAttempts: 1, breaker };

/** What each official client saw: its error's status and the two headers it reads its wait from. */
interface Seen {
  status: number | undefined;
  retryAfter: string | null | undefined;
  retryAfterMs: string | null | undefined;
}

function seen(error: unknown): Seen {
  // The clients' APIError is generic over `any`; the defaults are what it holds.
  let told: { status: number | undefined; headers: Headers | undefined };
  if (error instanceof OpenAIAPIError) told = error as OpenAIAPIError;
  else if (error instanceof AnthropicAPIError) told = error as AnthropicAPIError;
  else throw new Error(`expected a client API error, got ${String(error)}`);
  return { status: told.status, retryAfter: told.headers?.get('retry-after'), retryAfterMs: told.headers?.get('retry-after-ms') };
}

/** The four ways a client meets a failure before any content: each official client, whole and streaming. */
function throughEachClient(served: TestGateway, model: string): Record<string, () => Promise<unknown>> {
  const openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } });
  const anthropic = new Anthropic({ baseURL: served.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } });
  return {
    'openai /v1/chat/completions': () => openai.chat.completions.create({ model, messages: question }),
    'openai /v1/chat/completions stream': () => openai.chat.completions.create({ model, messages: question, stream: true }),
    'anthropic /v1/messages': () => anthropic.messages.create({ model, max_tokens: 64, messages: question }),
    'anthropic /v1/messages stream': () => anthropic.messages.create({ model, max_tokens: 64, messages: question, stream: true }),
  };
}

async function failureOf(call: () => Promise<unknown>): Promise<unknown> {
  const outcome = await call().then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(outcome !== undefined, 'the call was expected to fail');
  return outcome;
}

describe('a simulated provider\'s rate limit reaches each client with its wait', () => {
  async function served(fault: Fault): Promise<TestGateway> {
    return startTestGateway({ config: { version: 1, routes: [{ name: 'limited', models: ['sim:default'], resilience: oneAttempt }] }, simulator: { faults: [{ on: { afterCall: 0 }, fault }] } });
  }

  test('a 429 whose retry-after is the provider\'s 2.5 s, rounded up to 3 s, and retry-after-ms exact, whole and streaming', async () => {
    const gateway = await served({ type: 'rate-limit', retryAfterMs: 2_500 });
    try {
      for (const [way, call] of Object.entries(throughEachClient(gateway, 'limited'))) {
        const error = await failureOf(call);
        assert.ok(error instanceof OpenAI.RateLimitError || error instanceof Anthropic.RateLimitError, `${way}: ${String(error)}`);
        assert.deepEqual(seen(error), { status: 429, retryAfter: '3', retryAfterMs: '2500' }, way);
      }
    } finally {
      await gateway.close();
    }
  });

  test('an overload the provider gave no wait for is told without one: nothing is invented', async () => {
    const gateway = await served({ type: 'overloaded' });
    try {
      for (const [way, call] of Object.entries(throughEachClient(gateway, 'limited'))) {
        const { status, retryAfter, retryAfterMs } = seen(await failureOf(call));
        assert.ok(status === 503 || status === 529, `${way}: ${String(status)}`);
        assert.deepEqual([retryAfter, retryAfterMs], [null, null], way);
      }
    } finally {
      await gateway.close();
    }
  });
});

describe('a real provider\'s retry-after header, read by its adapter, reaches the client of either format (loopback wire servers)', () => {
  let gateway: TestGateway;
  let openaiWire: OpenAIWireServer;
  let anthropicWire: AnthropicWireServer;
  before(async () => {
    openaiWire = await OpenAIWireServer.start();
    anthropicWire = await AnthropicWireServer.start();
    gateway = await startTestGateway({
      environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openaiWire.baseURL, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropicWire.baseURL },
      config: {
        version: 1,
        routes: [
          { name: 'gpt', models: ['openai:gpt-4o'], resilience: oneAttempt },
          { name: 'claude', models: ['anthropic:claude-haiku-4-5'], resilience: oneAttempt },
          // Two attempts with no backoff of its own to speak of: the wait told is the last attempt's.
          { name: 'gpt-twice', models: ['openai:gpt-4o'], resilience: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, breaker } },
        ],
      },
    });
  });
  after(async () => {
    await gateway.close();
    await openaiWire.close();
    await anthropicWire.close();
  });

  test('OpenAI\'s 429 with retry-after: 7 is a 429 with retry-after 7 and retry-after-ms 7000 for every client and endpoint', async () => {
    for (const [way, call] of Object.entries(throughEachClient(gateway, 'gpt'))) {
      openaiWire.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '7' } });
      assert.deepEqual(seen(await failureOf(call)), { status: 429, retryAfter: '7', retryAfterMs: '7000' }, way);
    }
  });

  test('Anthropic\'s 529 with retry-after-ms: 1200 is an overload with retry-after 2 and retry-after-ms 1200', async () => {
    for (const [way, call] of Object.entries(throughEachClient(gateway, 'claude'))) {
      anthropicWire.reply({ fixture: 'error-overloaded.json', status: 529, headers: { 'retry-after-ms': '1200' } });
      const told = seen(await failureOf(call));
      // Each format's own overload status: OpenAI's 503, Anthropic's 529.
      assert.deepEqual(told, { status: way.startsWith('openai') ? 503 : 529, retryAfter: '2', retryAfterMs: '1200' }, way);
    }
  });

  test('retries spent: the wait of the attempt that ended the call is the one told', async () => {
    const [way, call] = Object.entries(throughEachClient(gateway, 'gpt-twice'))[0] ?? [];
    assert.ok(way !== undefined && call !== undefined);
    const asked = openaiWire.requests.length;
    openaiWire.reply(
      { fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after-ms': '5' } },
      { fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '4' } },
    );
    assert.deepEqual(seen(await failureOf(call)), { status: 429, retryAfter: '4', retryAfterMs: '4000' }, way);
    assert.equal(openaiWire.requests.length - asked, 2, 'the route retried once before giving up');
  });

  test('a 429 without retry-after is a 429 without one', async () => {
    for (const [way, call] of Object.entries(throughEachClient(gateway, 'claude'))) {
      anthropicWire.reply({ fixture: 'error-rate-limit.json', status: 429 });
      assert.deepEqual(seen(await failureOf(call)), { status: 429, retryAfter: null, retryAfterMs: null }, way);
    }
  });
});
