import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

// Every simulated stream breaks after its first two text deltas, once the client has seen content:
// too late to retry or fall back, so the failure must reach the client inside the stream.
let served: TestGateway;

before(async () => {
  served = await startTestGateway({ simulator: { faults: [{ on: { afterCall: 0 }, fault: { type: 'truncated-stream', afterParts: 3 } }] } });
});
after(() => served.close());

const question = [{ role: 'user' as const, content: 'Tell me about parcels and their journeys' }];

describe('a stream that fails after it began', () => {
  test('ends with an error event the OpenAI client raises, and its run is billed, not free', async () => {
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create({ model: 'sim:default', stream: true, messages: question }).withResponse();
    assert.equal(response.status, 200);
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.match(error.message, /stream ended after 3 parts, before finish/);
    assert.equal(text, 'Acknowledged: ', 'what came before the break reached the client');
    await served.gateway.settled();
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.status, 'failed');
    assert.ok(run.costMicros > 0, 'a stream cut short is billed its reservation');
  });

  test('ends with an error event the Anthropic client raises', async () => {
    const client = new Anthropic({ baseURL: served.url, apiKey: 'not-checked-yet', maxRetries: 0 });
    const error = await client.messages.stream({ model: 'sim:default', max_tokens: 128, messages: question }).finalMessage().catch((caught: unknown) => caught);
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal((error.error as { error: { type: string } }).error.type, 'api_error');
  });
});
