/**
 * The translations between the AI SDK's LanguageModelV4 and Keel's LanguageModelV1, part by part:
 * requests, answers, streams and failures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { APICallError, UnsupportedFunctionalityError } from '@ai-sdk/provider';
import { KeelError } from '../errors/index.ts';
import { ModelCallError } from '../models/index.ts';
import type { StreamPartV1 } from '../spec/index.ts';
import { aiSdkErrorOf, modelCallErrorOf } from './ai-sdk-error.ts';
import { keelRequestOf } from './call-options.ts';
import { aiSdkResultOf, keelResultOf } from './generate-result.ts';
import { AiSdkStreamWriter, keelPartsOf, streamPartsOf } from './stream-parts.ts';

const model = { provider: 'openai', modelId: 'gpt-4o-mini' };

function streamOf(parts: LanguageModelV4StreamPart[]): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

describe('requests', () => {
  test('a conversation with tools becomes Keel’s request, tool results and errors included', () => {
    const options: LanguageModelV4CallOptions = {
      prompt: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Refund A-1' }] },
        { role: 'assistant', content: [{ type: 'reasoning', text: 'thinking' }, { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { orderId: 'A-1' } }] },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'c1', toolName: 'lookup', output: { type: 'json', value: { total: 5 } } },
            { type: 'tool-result', toolCallId: 'c2', toolName: 'refund', output: { type: 'error-text', value: 'refused' } },
            { type: 'tool-result', toolCallId: 'c3', toolName: 'refund', output: { type: 'execution-denied', reason: 'no' } },
          ],
        },
      ],
      tools: [{ type: 'function', name: 'lookup', description: 'Look up.', inputSchema: { type: 'object', properties: { orderId: { type: 'string' } } } }],
      toolChoice: { type: 'tool', toolName: 'lookup' },
      responseFormat: { type: 'json', name: 'answer' },
      maxOutputTokens: 100,
      temperature: 0,
      headers: { 'x-trace': 'abc', 'x-unset': undefined },
    };
    assert.deepEqual(keelRequestOf(options), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Refund A-1' }] },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { orderId: 'A-1' } }] },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'c1', toolName: 'lookup', output: { total: 5 } },
            { type: 'tool-result', toolCallId: 'c2', toolName: 'refund', output: 'refused', isError: true },
            { type: 'tool-result', toolCallId: 'c3', toolName: 'refund', output: 'no', isError: true },
          ],
        },
      ],
      tools: [{ name: 'lookup', description: 'Look up.', inputSchema: { type: 'object', properties: { orderId: { type: 'string' } } } }],
      toolChoice: { toolName: 'lookup' },
      responseFormat: { type: 'json', name: 'answer' },
      maxOutputTokens: 100,
      temperature: 0,
      headers: { 'x-trace': 'abc' },
    });
  });

  test('a file or a provider-defined tool is refused with one error naming it', () => {
    assert.throws(
      () => keelRequestOf({ prompt: [{ role: 'user', content: [{ type: 'file', mediaType: 'image/png', data: { type: 'url', url: new URL('https://example.com/a.png') } }] }] }),
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error) && /image\/png/.test(error.message),
    );
    assert.throws(
      () => keelRequestOf({ prompt: [], tools: [{ type: 'provider', id: 'openai.web_search', name: 'web_search', args: {} }] }),
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error) && /web_search/.test(error.message),
    );
  });
});

describe('answers', () => {
  test('Keel’s answer as the AI SDK’s and back; the cost rides in providerMetadata.keel', () => {
    const keel = {
      content: [
        { type: 'text' as const, text: 'Looking.' },
        { type: 'tool-call' as const, toolCallId: 'c1', toolName: 'lookup', input: { orderId: 'A-1' } },
      ],
      finishReason: 'tool-calls' as const,
      usage: { inputTokens: 40, outputTokens: 12, cachedInputTokens: 8 },
      response: { id: 'r1', modelId: 'default' },
      cost: { micros: 38, priceVersion: 'v1' },
    };
    const aiSdk = aiSdkResultOf(keel);
    assert.deepEqual(aiSdk.content[1], { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{"orderId":"A-1"}' });
    assert.deepEqual(aiSdk.usage.inputTokens, { total: 40, noCache: 32, cacheRead: 8, cacheWrite: undefined });
    assert.deepEqual(aiSdk.finishReason, { unified: 'tool-calls', raw: 'tool-calls' });
    assert.deepEqual(aiSdk.providerMetadata, { keel: { answeredBy: 'default', responseId: 'r1', costMicros: 38, priceVersion: 'v1' } });
    const { cost: _cost, ...withoutCost } = keel;
    assert.deepEqual(keelResultOf(aiSdk, 'default'), withoutCost);
  });

  test('a refusal keeps its raw reason both ways', () => {
    const aiSdk = aiSdkResultOf({ content: [], finishReason: 'refusal', usage: { inputTokens: 1, outputTokens: 0 }, response: { id: 'r', modelId: 'm' }, refusal: 'no' });
    assert.deepEqual(aiSdk.finishReason, { unified: 'other', raw: 'refusal' });
    assert.equal(keelResultOf(aiSdk, 'm').finishReason, 'refusal');
  });
});

describe('streams', () => {
  test('Keel’s parts become text and tool-input blocks, and the finish carries the cost known at its end', () => {
    const settled: { cost?: { micros: number; priceVersion: string } } = {};
    const writer = new AiSdkStreamWriter(() => settled.cost);
    const parts: StreamPartV1[] = [
      { type: 'response-start', response: { id: 'r1', modelId: 'default' } },
      { type: 'text-delta', delta: 'Hel' },
      { type: 'text-delta', delta: 'lo' },
      { type: 'tool-call-delta', toolCallId: 'c1', toolName: 'lookup', inputDelta: '{"orderId"' },
      { type: 'tool-call-delta', toolCallId: 'c1', toolName: 'lookup', inputDelta: ':"A-1"}' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { orderId: 'A-1' } },
    ];
    const written = parts.flatMap((part) => writer.write(part));
    settled.cost = { micros: 7, priceVersion: 'v1' };
    written.push(...writer.write({ type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 5, outputTokens: 3 } }));
    assert.deepEqual(
      written.map((part) => part.type),
      ['response-metadata', 'text-start', 'text-delta', 'text-delta', 'text-end', 'tool-input-start', 'tool-input-delta', 'tool-input-delta', 'tool-input-end', 'tool-call', 'finish'],
    );
    const finish = written.at(-1);
    assert.ok(finish?.type === 'finish');
    assert.deepEqual(finish.providerMetadata, { keel: { answeredBy: 'default', responseId: 'r1', costMicros: 7, priceVersion: 'v1' } });
  });

  test('a whole answer is written as the stream it would have been', () => {
    const parts = streamPartsOf({ content: [{ type: 'text', text: 'Hi' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, response: { id: 'r', modelId: 'm' } });
    assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-delta', 'finish']);
  });

  test('an AI SDK model’s stream becomes Keel’s parts; an error part throws a classified ModelCallError', async () => {
    const usage = { inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 2, text: 2, reasoning: undefined } };
    const collected: StreamPartV1[] = [];
    for await (const part of keelPartsOf(
      streamOf([
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: 'r1', modelId: 'gpt-4o-mini' },
        { type: 'text-start', id: '0' },
        { type: 'text-delta', id: '0', delta: 'Hi' },
        { type: 'text-end', id: '0' },
        { type: 'tool-input-start', id: 'c1', toolName: 'lookup' },
        { type: 'tool-input-delta', id: 'c1', delta: '{}' },
        { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{}' },
        { type: 'finish', usage, finishReason: { unified: 'tool-calls', raw: 'tool_calls' } },
      ]),
      model,
      undefined,
    )) {
      collected.push(part);
    }
    assert.deepEqual(collected, [
      { type: 'response-start', response: { id: 'r1', modelId: 'gpt-4o-mini' } },
      { type: 'text-delta', delta: 'Hi' },
      { type: 'tool-call-delta', toolCallId: 'c1', toolName: 'lookup', inputDelta: '{}' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: {} },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 5, outputTokens: 2 } },
    ]);

    const overloaded = new APICallError({ message: 'overloaded', url: 'https://api', requestBodyValues: {}, statusCode: 529 });
    await assert.rejects(
      (async () => {
        for await (const part of keelPartsOf(streamOf([{ type: 'error', error: overloaded }]), model, undefined)) collected.push(part);
      })(),
      (error: unknown) => error instanceof ModelCallError && error.code === 'model-overloaded' && error.isRetryable && error.status === 529,
    );
  });
});

describe('failures', () => {
  test('an AI SDK provider failure is classified as Keel’s adapters classify it, retry-after included', () => {
    const limited = new APICallError({ message: 'slow down', url: 'https://api', requestBodyValues: {}, statusCode: 429, responseHeaders: { 'retry-after-ms': '1500' } });
    const classified = modelCallErrorOf(limited, model, undefined);
    assert.ok(classified instanceof ModelCallError);
    assert.equal(classified.code, 'model-rate-limited');
    assert.equal(classified.retryAfterMs, 1500);
    assert.equal(classified.isRetryable, true);
    assert.equal(modelCallErrorOf(new TypeError('bug'), model, undefined).isRetryable, false);
    const aborted = new AbortController();
    aborted.abort(new DOMException('late', 'TimeoutError'));
    assert.equal(modelCallErrorOf(new Error('aborted'), model, aborted.signal).code, 'model-timeout');
  });

  test('a Keel failure is both the AI SDK’s APICallError and a KeelError with its code', () => {
    const failure = aiSdkErrorOf(new KeelError('budget-exceeded', 'route r: run budget exhausted'), { url: 'keel:r', keepRetryable: false });
    assert.ok(APICallError.isInstance(failure));
    assert.ok(failure instanceof KeelError);
    assert.equal(failure.code, 'budget-exceeded');
    assert.equal(failure.statusCode, 402);
    assert.equal(failure.isRetryable, false);
    const signal = new Error('not a KeelError');
    assert.equal(aiSdkErrorOf(signal, { url: 'keel:r', keepRetryable: false }), signal, 'anything else passes through untouched');
  });
});
