import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { GenerateOptionsV1, ToolDefinitionV1 } from '../../spec/index.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { collectParts, modelCallErrorOf } from './openai-test-helpers.ts';
import { OpenAIWireServer } from './testing/openai-wire-server.ts';

const weatherTool: ToolDefinitionV1 = {
  name: 'get_weather',
  description: 'Current weather for a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
};

const question: GenerateOptionsV1 = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: [{ type: 'text', text: 'What is the capital of France?' }] },
  ],
};

describe('OpenAIChatModel over the Chat Completions wire format', () => {
  let server: OpenAIWireServer;
  let model: OpenAIChatModel;

  before(async () => {
    server = await OpenAIWireServer.start();
    model = new OpenAIChatModel('gpt-4o', { apiKey: 'sk-test-key', baseURL: server.baseURL });
  });
  after(async () => server.close());
  beforeEach(() => server.reset());

  test('generates text and reports usage, ids and the request id', async () => {
    server.reply({ fixture: 'chat-text.json', headers: { 'x-request-id': 'req_8f2a1c' } });
    const result = await model.doGenerate({ ...question, maxOutputTokens: 200, temperature: 0.2, topP: 0.9, stopSequences: ['\n\n'], seed: 7, headers: { 'x-keel-run': 'run-1' } });

    assert.deepEqual(result, {
      content: [{ type: 'text', text: 'The capital of France is Paris.' }],
      finishReason: 'stop',
      usage: { inputTokens: 1310, outputTokens: 8, cachedInputTokens: 1152 },
      response: { id: 'chatcmpl-BXkT6mVz0qHJf8aE2sN4rP1cLwQ9d', modelId: 'gpt-4o-2024-08-06', requestId: 'req_8f2a1c', systemFingerprint: 'fp_a288987b44' },
    });
    const request = server.lastRequest;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.headers.authorization, 'Bearer sk-test-key');
    assert.equal(request.headers['x-keel-run'], 'run-1');
    assert.deepEqual(request.body, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
      max_completion_tokens: 200,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n\n'],
      seed: 7,
    });
    assert.equal(model.provider, 'openai-compatible');
  });

  test('is provider openai on the real endpoint', () => {
    assert.equal(new OpenAIChatModel('gpt-4o', { apiKey: 'sk-test' }).provider, 'openai');
    assert.equal(new OpenAIChatModel('gpt-4o', { apiKey: 'sk-test', baseURL: 'https://api.openai.com/v1' }).provider, 'openai');
  });

  test('sends tools and tool_choice, and parses tool calls', async () => {
    server.reply({ fixture: 'chat-tool-calls.json' });
    const result = await model.doGenerate({ ...question, tools: [weatherTool], toolChoice: { toolName: 'get_weather' } });

    assert.deepEqual(result.content, [
      { type: 'tool-call', toolCallId: 'call_9pXkW2mQ4rT7vB1nH8sL3dFz', toolName: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
      { type: 'tool-call', toolCallId: 'call_4hJ6tR0yU2iO8pA5sD7fG1kL', toolName: 'get_weather', input: { city: 'Tokyo', unit: 'celsius' } },
    ]);
    assert.equal(result.finishReason, 'tool-calls');
    const body = server.lastRequest.body as Record<string, unknown>;
    assert.deepEqual(body['tools'], [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.inputSchema } }]);
    assert.deepEqual(body['tool_choice'], { type: 'function', function: { name: 'get_weather' } });
  });

  test('passes tool arguments that are not JSON through as the raw string', async () => {
    server.reply({ fixture: 'chat-tool-call-malformed.json' });
    const result = await model.doGenerate({ ...question, tools: [weatherTool], toolChoice: 'required' });
    assert.deepEqual(result.content, [{ type: 'tool-call', toolCallId: 'call_Qm3nB5vC7xZ9aS1dF3gH5jK7', toolName: 'get_weather', input: '{"city": "Paris' }]);
    assert.equal(result.finishReason, 'length');
    assert.equal((server.lastRequest.body as Record<string, unknown>)['tool_choice'], 'required');
  });

  test('asks for structured output with a strict json_schema and returns the JSON text', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, date: { type: 'string' }, participants: { type: 'array', items: { type: 'string' } } },
      required: ['name', 'date', 'participants'],
      additionalProperties: false,
    };
    server.reply({ fixture: 'chat-structured.json' });
    const result = await model.doGenerate({ ...question, responseFormat: { type: 'json', name: 'calendar_event', schema } });

    assert.deepEqual((server.lastRequest.body as Record<string, unknown>)['response_format'], { type: 'json_schema', json_schema: { name: 'calendar_event', schema, strict: true } });
    const [part] = result.content;
    assert.equal(part?.type, 'text');
    assert.deepEqual(JSON.parse(part.type === 'text' ? part.text : ''), { name: 'Science Fair', date: 'Friday', participants: ['Alice', 'Bob'] });
  });

  test('asks for json_object when no schema is given', async () => {
    server.reply({ fixture: 'chat-text.json' });
    await model.doGenerate({ ...question, responseFormat: { type: 'json' } });
    assert.deepEqual((server.lastRequest.body as Record<string, unknown>)['response_format'], { type: 'json_object' });
  });

  test('maps a multi-turn conversation with tool calls and results exactly', async () => {
    server.reply({ fixture: 'chat-text.json' });
    await model.doGenerate({
      messages: [
        { role: 'system', content: 'You are a weather assistant.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Tokyo?' }, { type: 'text', text: ' Celsius, please.' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking both.' },
            { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_weather', input: '{"city": "Tok' },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: { temperature: 18, sky: 'clear' } },
            { type: 'tool-result', toolCallId: 'call_2', toolName: 'get_weather', output: 'arguments were not JSON', isError: true },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_3', toolName: 'get_weather', input: { city: 'Tokyo' } }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_3', toolName: 'get_weather', output: 'rain, 12°C' }] },
      ],
      tools: [weatherTool],
    });

    assert.deepEqual(server.lastRequest.body, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a weather assistant.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Tokyo?' }, { type: 'text', text: ' Celsius, please.' }] },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Tok' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":18,"sky":"clear"}' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"error":"arguments were not JSON"}' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } }] },
        { role: 'tool', tool_call_id: 'call_3', content: 'rain, 12°C' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.inputSchema } }],
    });
  });

  test('reports a refusal', async () => {
    server.reply({ fixture: 'chat-refusal.json' });
    const result = await model.doGenerate(question);
    assert.deepEqual(result.content, []);
    assert.equal(result.finishReason, 'refusal');
    assert.equal(result.refusal, "I'm sorry, I can't assist with that request.");
  });

  describe('streaming', () => {
    test('streams text deltas, then finish with usage', async () => {
      server.reply({ fixture: 'chat-text-stream.sse', headers: { 'x-request-id': 'req_stream1' } });
      const parts = await collectParts(await model.doStream(question));

      assert.deepEqual(parts[0], { type: 'response-start', response: { id: 'chatcmpl-BXkY2qW4eR6tY8uI0oP2aS4dF6gH8', modelId: 'gpt-4o-2024-08-06', requestId: 'req_stream1', systemFingerprint: 'fp_a288987b44' } });
      const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
      assert.equal(text, 'Hello! How can I help you today?');
      assert.equal(parts.filter((part) => part.type === 'text-delta').length, 9);
      assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'stop', usage: { inputTokens: 19, outputTokens: 10, cachedInputTokens: 0 } });
      const body = server.lastRequest.body as Record<string, unknown>;
      assert.equal(body['stream'], true);
      assert.deepEqual(body['stream_options'], { include_usage: true });
    });

    test('reassembles tool calls split across many chunks', async () => {
      server.reply({ fixture: 'chat-tool-calls-stream.sse' });
      const parts = await collectParts(await model.doStream({ ...question, tools: [weatherTool] }));

      const deltas = parts.filter((part) => part.type === 'tool-call-delta');
      assert.ok(deltas.length > 10, 'arguments arrive in many pieces');
      const argumentsOf = (id: string): string => deltas.flatMap((part) => (part.toolCallId === id ? [part.inputDelta] : [])).join('');
      assert.equal(argumentsOf('call_Ab3dE5fG7hI9jK1lM3nO5pQ7'), '{"city":"Paris","unit":"celsius"}');
      assert.equal(argumentsOf('call_Rs2tU4vW6xY8zA0bC2dE4fG6'), '{"timezone":"Asia/Tokyo"}');
      assert.ok(deltas.every((part) => part.toolName === (part.toolCallId === 'call_Ab3dE5fG7hI9jK1lM3nO5pQ7' ? 'get_weather' : 'get_time')));

      assert.deepEqual(parts.slice(-3), [
        { type: 'tool-call', toolCallId: 'call_Ab3dE5fG7hI9jK1lM3nO5pQ7', toolName: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
        { type: 'tool-call', toolCallId: 'call_Rs2tU4vW6xY8zA0bC2dE4fG6', toolName: 'get_time', input: { timezone: 'Asia/Tokyo' } },
        { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 96, outputTokens: 48, cachedInputTokens: 64 } },
      ]);
    });

    test('streams a refusal into finish', async () => {
      server.reply({ fixture: 'chat-refusal-stream.sse' });
      const parts = await collectParts(await model.doStream(question));
      assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'refusal', usage: { inputTokens: 101, outputTokens: 11, cachedInputTokens: 0 }, refusal: "I'm sorry, I can't assist with that request." });
      assert.equal(parts.filter((part) => part.type === 'text-delta').length, 0);
    });

    test('a connection cut mid-stream is model-stream-truncated', async () => {
      server.reply({ fixture: 'chat-text-stream.sse', cutAfterEvents: 4, headers: { 'x-request-id': 'req_cut' } });
      const seen: string[] = [];
      const error = await modelCallErrorOf(async () => {
        for await (const part of (await model.doStream(question)).stream) seen.push(part.type);
      });
      assert.equal(error.code, 'model-stream-truncated');
      assert.equal(error.isRetryable, true);
      assert.equal(error.requestId, 'req_cut');
      assert.deepEqual(seen, ['response-start', 'text-delta', 'text-delta', 'text-delta']);
    });

    test('a stream that closes cleanly without a finish_reason is model-stream-truncated', async () => {
      server.reply({ fixture: 'chat-tool-calls-stream.sse', cutAfterEvents: 6, cutMode: 'end' });
      const error = await modelCallErrorOf(async () => collectParts(await model.doStream(question)));
      assert.equal(error.code, 'model-stream-truncated');
    });

    test('an error event inside the stream is classified by its type', async () => {
      server.reply({ fixture: 'chat-error-stream.sse' });
      const error = await modelCallErrorOf(async () => collectParts(await model.doStream(question)));
      assert.equal(error.code, 'model-server-error');
      assert.equal(error.details?.['providerCode'], 'server_error');
    });

    test('an HTTP error before the stream starts is thrown by doStream', async () => {
      server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '2' } });
      const error = await modelCallErrorOf(() => model.doStream(question));
      assert.equal(error.code, 'model-rate-limited');
      assert.equal(error.retryAfterMs, 2000);
    });
  });

  describe('errors', () => {
    test('429 with retry-after is model-rate-limited, retryable, with the wait in ms', async () => {
      server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '2', 'x-request-id': 'req_429' } });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-rate-limited');
      assert.equal(error.isRetryable, true);
      assert.equal(error.retryAfterMs, 2000);
      assert.equal(error.status, 429);
      assert.equal(error.requestId, 'req_429');
      assert.equal(error.provider, 'openai-compatible');
      assert.equal(error.modelId, 'gpt-4o');
      assert.equal(error.details?.['providerCode'], 'rate_limit_exceeded');
      assert.equal(server.requests.length, 1, 'the SDK must not retry on its own');
    });

    test('retry-after-ms wins over retry-after', async () => {
      server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '2', 'retry-after-ms': '1250' } });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.retryAfterMs, 1250);
    });

    test('429 insufficient_quota is not retryable', async () => {
      server.reply({ fixture: 'error-insufficient-quota.json', status: 429 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-rate-limited');
      assert.equal(error.isRetryable, false);
    });

    test('500 is model-server-error', async () => {
      server.reply({ fixture: 'error-server.json', status: 500 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-server-error');
      assert.equal(error.isRetryable, true);
      assert.equal(server.requests.length, 1, 'the SDK must not retry on its own');
    });

    test('x-should-retry overrides the default retryability', async () => {
      server.reply({ fixture: 'error-server.json', status: 500, headers: { 'x-should-retry': 'false' } }, { fixture: 'error-invalid-api-key.json', status: 400, headers: { 'x-should-retry': 'true' } });
      assert.equal((await modelCallErrorOf(() => model.doGenerate(question))).isRetryable, false);
      const invalid = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(invalid.code, 'model-request-invalid');
      assert.equal(invalid.isRetryable, true);
    });

    test('503 is model-overloaded', async () => {
      server.reply({ fixture: 'error-overloaded.json', status: 503 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-overloaded');
      assert.equal(error.isRetryable, true);
    });

    test('401 is model-auth-failed and not retryable', async () => {
      server.reply({ fixture: 'error-invalid-api-key.json', status: 401 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-auth-failed');
      assert.equal(error.isRetryable, false);
      assert.equal(error.details?.['providerCode'], 'invalid_api_key');
    });

    test('404 model_not_found is model-not-found', async () => {
      server.reply({ fixture: 'error-model-not-found.json', status: 404 });
      assert.equal((await modelCallErrorOf(() => model.doGenerate(question))).code, 'model-not-found');
    });

    test('400 context_length_exceeded is model-context-exceeded', async () => {
      server.reply({ fixture: 'error-context-length.json', status: 400 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-context-exceeded');
      assert.equal(error.isRetryable, false);
      assert.match(error.message, /maximum context length is 128000 tokens/);
    });

    test('a refused connection is model-connection-failed', async () => {
      const closed = await OpenAIWireServer.start();
      const baseURL = closed.baseURL;
      await closed.close();
      const offline = new OpenAIChatModel('gpt-4o', { apiKey: 'sk-test', baseURL });
      const error = await modelCallErrorOf(() => offline.doGenerate(question));
      assert.equal(error.code, 'model-connection-failed');
      assert.equal(error.isRetryable, true);
    });

    test("a caller's deadline is model-timeout", async () => {
      server.reply({ fixture: 'chat-text.json', delayMs: 2000 });
      const error = await modelCallErrorOf(() => model.doGenerate({ ...question, abortSignal: AbortSignal.timeout(50) }));
      assert.equal(error.code, 'model-timeout');
      assert.equal(error.isRetryable, true);
    });

    test('a deadline passing mid-stream is model-timeout, not a clean end', async () => {
      const controller = new AbortController();
      server.reply({ fixture: 'chat-text-stream.sse' });
      const error = await modelCallErrorOf(async () => {
        for await (const part of (await model.doStream({ ...question, abortSignal: controller.signal })).stream) {
          if (part.type === 'text-delta') controller.abort(new DOMException('deadline', 'TimeoutError'));
        }
      });
      assert.equal(error.code, 'model-timeout');
    });

    test('a plain abort is a non-retryable cancellation', async () => {
      server.reply({ fixture: 'chat-text.json', delayMs: 2000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const error = await modelCallErrorOf(() => model.doGenerate({ ...question, abortSignal: controller.signal }));
      assert.equal(error.code, 'model-aborted');
      assert.equal(error.isRetryable, false);
    });

    test('a schema that is not an object is rejected before sending', async () => {
      const error = await modelCallErrorOf(() => model.doGenerate({ ...question, tools: [{ ...weatherTool, inputSchema: 'nope' }] }));
      assert.equal(error.code, 'model-request-invalid');
      assert.equal(server.requests.length, 0);
    });
  });
});
