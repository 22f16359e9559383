import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { GenerateOptionsV1, ToolDefinitionV1 } from '../../spec/index.ts';
import { OpenAIResponsesModel } from './openai-responses-model.ts';
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

describe('OpenAIResponsesModel over the Responses API wire format', () => {
  let server: OpenAIWireServer;
  let model: OpenAIResponsesModel;

  before(async () => {
    server = await OpenAIWireServer.start();
    model = new OpenAIResponsesModel('gpt-4.1', { apiKey: 'sk-test-key', baseURL: server.baseURL });
  });
  after(async () => server.close());
  beforeEach(() => server.reset());

  test('generates text and reports usage, ids and the request id', async () => {
    server.reply({ fixture: 'responses-text.json', headers: { 'x-request-id': 'req_r1' } });
    const result = await model.doGenerate({ ...question, maxOutputTokens: 200, temperature: 0.2, topP: 0.9, seed: 7, headers: { 'x-keel-run': 'run-1' } });

    assert.deepEqual(result, {
      content: [{ type: 'text', text: 'The capital of France is Paris.' }],
      finishReason: 'stop',
      usage: { inputTokens: 1310, outputTokens: 8, cachedInputTokens: 1152 },
      response: { id: 'resp_68a1c2f3b4d5e6f708192a3b4c5d6e7f0a1b2c3d4e5f6a7b', modelId: 'gpt-4.1-2025-04-14', requestId: 'req_r1' },
    });
    const request = server.lastRequest;
    assert.equal(request.path, '/v1/responses');
    assert.equal(request.headers.authorization, 'Bearer sk-test-key');
    assert.equal(request.headers['x-keel-run'], 'run-1');
    // seed has no Responses equivalent and is dropped.
    assert.deepEqual(request.body, {
      model: 'gpt-4.1',
      instructions: 'You are terse.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the capital of France?' }] }],
      store: false,
      max_output_tokens: 200,
      temperature: 0.2,
      top_p: 0.9,
    });
  });

  test('sends function tools and tool_choice, and parses function_call items', async () => {
    server.reply({ fixture: 'responses-tool-calls.json' });
    const result = await model.doGenerate({ ...question, tools: [weatherTool], toolChoice: { toolName: 'get_weather' } });

    assert.deepEqual(result.content, [
      { type: 'tool-call', toolCallId: 'call_Ab3dE5fG7hI9jK1lM3nO5pQ7', toolName: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
      { type: 'tool-call', toolCallId: 'call_Rs2tU4vW6xY8zA0bC2dE4fG6', toolName: 'get_weather', input: { city: 'Tokyo', unit: 'celsius' } },
    ]);
    assert.equal(result.finishReason, 'tool-calls');
    assert.deepEqual(result.usage, { inputTokens: 140, outputTokens: 64, cachedInputTokens: 0 });
    const body = server.lastRequest.body as Record<string, unknown>;
    assert.deepEqual(body['tools'], [{ type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.inputSchema, strict: false }]);
    assert.deepEqual(body['tool_choice'], { type: 'function', name: 'get_weather' });
  });

  test('asks for structured output with text.format json_schema', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, date: { type: 'string' }, participants: { type: 'array', items: { type: 'string' } } },
      required: ['name', 'date', 'participants'],
      additionalProperties: false,
    };
    server.reply({ fixture: 'responses-structured.json' }, { fixture: 'responses-text.json' });
    const result = await model.doGenerate({ ...question, responseFormat: { type: 'json', name: 'calendar_event', schema } });

    assert.deepEqual((server.lastRequest.body as Record<string, unknown>)['text'], { format: { type: 'json_schema', name: 'calendar_event', schema, strict: true } });
    const [part] = result.content;
    assert.deepEqual(JSON.parse(part?.type === 'text' ? part.text : ''), { name: 'Science Fair', date: 'Friday', participants: ['Alice', 'Bob'] });

    await model.doGenerate({ ...question, responseFormat: { type: 'json' } });
    assert.deepEqual((server.lastRequest.body as Record<string, unknown>)['text'], { format: { type: 'json_object' } });
  });

  test('maps a multi-turn conversation to message, function_call and function_call_output items', async () => {
    server.reply({ fixture: 'responses-text.json' });
    await model.doGenerate({
      messages: [
        { role: 'system', content: 'You are a weather assistant.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Tokyo?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking both.' },
            { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_weather', input: { city: 'Tokyo' } },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: { temperature: 18 } },
            { type: 'tool-result', toolCallId: 'call_2', toolName: 'get_weather', output: 'service down', isError: true },
          ],
        },
        { role: 'system', content: 'Answer in one sentence.' },
        { role: 'assistant', content: [{ type: 'text', text: 'Paris is 18°C.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Thanks!' }] },
      ],
    });

    assert.deepEqual(server.lastRequest.body, {
      model: 'gpt-4.1',
      instructions: 'You are a weather assistant.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris and Tokyo?' }] },
        { type: 'message', role: 'assistant', content: 'Checking both.' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temperature":18}' },
        { type: 'function_call_output', call_id: 'call_2', output: '{"error":"service down"}' },
        { type: 'message', role: 'system', content: 'Answer in one sentence.' },
        { type: 'message', role: 'assistant', content: 'Paris is 18°C.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Thanks!' }] },
      ],
      store: false,
    });
  });

  test('reports a refusal', async () => {
    server.reply({ fixture: 'responses-refusal.json' });
    const result = await model.doGenerate(question);
    assert.deepEqual(result.content, []);
    assert.equal(result.finishReason, 'refusal');
    assert.equal(result.refusal, "I'm sorry, I can't assist with that request.");
  });

  test('an incomplete response for max_output_tokens finishes with length', async () => {
    server.reply({ fixture: 'responses-incomplete.json' });
    const result = await model.doGenerate({ ...question, maxOutputTokens: 10 });
    assert.equal(result.finishReason, 'length');
    assert.deepEqual(result.content, [{ type: 'text', text: 'Once upon a time, in a land far' }]);
  });

  test('stop sequences are refused: the Responses API has none', async () => {
    const error = await modelCallErrorOf(() => model.doGenerate({ ...question, stopSequences: ['END'] }));
    assert.equal(error.code, 'model-request-invalid');
    assert.equal(server.requests.length, 0);
  });

  describe('streaming', () => {
    test('streams output_text deltas, then finish with usage', async () => {
      server.reply({ fixture: 'responses-text-stream.sse', headers: { 'x-request-id': 'req_rs1' } });
      const parts = await collectParts(await model.doStream(question));

      assert.deepEqual(parts[0], { type: 'response-start', response: { id: 'resp_68a1c7e0f1a2b3c4d5e6f7a8b9c0d1e20f1a2b3c4d5e6f7a', modelId: 'gpt-4.1-2025-04-14', requestId: 'req_rs1' } });
      assert.equal(parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join(''), 'Hello! How can I help you today?');
      assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'stop', usage: { inputTokens: 19, outputTokens: 10, cachedInputTokens: 0 } });
      assert.equal((server.lastRequest.body as Record<string, unknown>)['stream'], true);
    });

    test('reassembles function calls from argument deltas', async () => {
      server.reply({ fixture: 'responses-tool-calls-stream.sse' });
      const parts = await collectParts(await model.doStream({ ...question, tools: [weatherTool] }));

      const deltas = parts.filter((part) => part.type === 'tool-call-delta');
      assert.ok(deltas.length > 10, 'arguments arrive in many pieces');
      const argumentsOf = (id: string): string => deltas.flatMap((part) => (part.toolCallId === id ? [part.inputDelta] : [])).join('');
      assert.equal(argumentsOf('call_Ab3dE5fG7hI9jK1lM3nO5pQ7'), '{"city":"Paris","unit":"celsius"}');
      assert.equal(argumentsOf('call_Rs2tU4vW6xY8zA0bC2dE4fG6'), '{"timezone":"Asia/Tokyo"}');
      assert.deepEqual(
        parts.filter((part) => part.type === 'tool-call'),
        [
          { type: 'tool-call', toolCallId: 'call_Ab3dE5fG7hI9jK1lM3nO5pQ7', toolName: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
          { type: 'tool-call', toolCallId: 'call_Rs2tU4vW6xY8zA0bC2dE4fG6', toolName: 'get_time', input: { timezone: 'Asia/Tokyo' } },
        ],
      );
      assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 96, outputTokens: 48, cachedInputTokens: 64 } });
    });

    test('a connection cut mid-stream is model-stream-truncated', async () => {
      server.reply({ fixture: 'responses-text-stream.sse', cutAfterEvents: 6, headers: { 'x-request-id': 'req_cut' } });
      const error = await modelCallErrorOf(async () => collectParts(await model.doStream(question)));
      assert.equal(error.code, 'model-stream-truncated');
      assert.equal(error.isRetryable, true);
      assert.equal(error.requestId, 'req_cut');
    });

    test('a stream that closes before response.completed is model-stream-truncated', async () => {
      server.reply({ fixture: 'responses-tool-calls-stream.sse', cutAfterEvents: 8, cutMode: 'end' });
      const error = await modelCallErrorOf(async () => collectParts(await model.doStream(question)));
      assert.equal(error.code, 'model-stream-truncated');
    });

    test('response.failed is thrown as the error it carries', async () => {
      server.reply({ fixture: 'responses-failed-stream.sse' });
      const error = await modelCallErrorOf(async () => collectParts(await model.doStream(question)));
      assert.equal(error.code, 'model-server-error');
      assert.equal(error.details?.['providerCode'], 'server_error');
    });
  });

  describe('errors', () => {
    test('429 with retry-after is model-rate-limited, retryable, with the wait in ms', async () => {
      server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '2' } });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-rate-limited');
      assert.equal(error.isRetryable, true);
      assert.equal(error.retryAfterMs, 2000);
      assert.equal(server.requests.length, 1, 'the SDK must not retry on its own');
    });

    test('500 is model-server-error, 503 model-overloaded', async () => {
      server.reply({ fixture: 'error-server.json', status: 500 }, { fixture: 'error-overloaded.json', status: 503 });
      assert.equal((await modelCallErrorOf(() => model.doGenerate(question))).code, 'model-server-error');
      assert.equal((await modelCallErrorOf(() => model.doGenerate(question))).code, 'model-overloaded');
    });

    test('401 is model-auth-failed and not retryable', async () => {
      server.reply({ fixture: 'error-invalid-api-key.json', status: 401 });
      const error = await modelCallErrorOf(() => model.doGenerate(question));
      assert.equal(error.code, 'model-auth-failed');
      assert.equal(error.isRetryable, false);
    });

    test('400 context_length_exceeded is model-context-exceeded', async () => {
      server.reply({ fixture: 'error-responses-context-length.json', status: 400 });
      const error = await modelCallErrorOf(() => model.doStream(question));
      assert.equal(error.code, 'model-context-exceeded');
      assert.equal(error.isRetryable, false);
    });
  });
});
