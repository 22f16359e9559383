import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { KeelError } from '../../errors/index.ts';
import type { GenerateOptionsV1, JsonValue, StreamPartV1, StreamResultV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import { createAnthropicModel } from './index.ts';
import type { AnthropicModel } from './index.ts';
import { AnthropicWireServer } from './testing/anthropic-wire-server.ts';

const server = await AnthropicWireServer.start();
after(() => server.close());
beforeEach(() => server.reset());

function model(): AnthropicModel {
  return createAnthropicModel('claude-sonnet-5-5', { environment: { ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: server.baseURL } });
}

function hello(extra: Partial<GenerateOptionsV1> = {}): GenerateOptionsV1 {
  return { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }], ...extra };
}

async function collect(result: StreamResultV1): Promise<StreamPartV1[]> {
  const parts: StreamPartV1[] = [];
  for await (const part of result.stream) parts.push(part);
  return parts;
}

/** Runs `action`, which must fail with a ModelCallError, and returns that error. */
async function failure(action: () => Promise<unknown>): Promise<ModelCallError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof ModelCallError, `expected a ModelCallError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** Consumes a stream into `parts` until it fails, and returns the failure. */
async function streamFailure(result: StreamResultV1, parts: StreamPartV1[]): Promise<ModelCallError> {
  return failure(async () => {
    for await (const part of result.stream) parts.push(part);
  });
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a location.',
  inputSchema: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] },
} satisfies { name: string; description: string; inputSchema: JsonValue };

const weatherReportSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, temperatureCelsius: { type: 'number' }, conditions: { type: 'array', items: { type: 'string' } } },
  required: ['city', 'temperatureCelsius', 'conditions'],
  additionalProperties: false,
} satisfies JsonValue;

test('non-streaming text: the exact request, and text, finish reason, usage and ids back', async () => {
  server.reply({ fixture: 'message-text.json', headers: { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' } });
  const result = await model().doGenerate(hello({ temperature: 0.2, topP: 0.9, seed: 7, headers: { 'x-keel-run': 'run-1' } }));

  const request = server.lastRequest;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, '/v1/messages');
  // SDK 1.x speaks API version 2026-10-21 and sends the key as a bearer token, not x-api-key.
  assert.equal(request.headers['anthropic-version'], '2026-10-21');
  assert.equal(request.headers.authorization, 'Bearer sk-ant-test-key');
  assert.equal(request.headers['x-api-key'], undefined);
  assert.equal(request.headers['x-stainless-retry-count'], '0');
  assert.equal(request.headers['x-keel-run'], 'run-1');
  // No temperature, top_p or seed: that API version rejects sampling parameters outright.
  assert.deepEqual(request.body, {
    model: 'claude-sonnet-5-5',
    max_tokens: 4096,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
  });

  assert.deepEqual(result, {
    content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
    finishReason: 'stop',
    usage: { inputTokens: 12, outputTokens: 12, cachedInputTokens: 0 },
    response: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', modelId: 'claude-sonnet-5-5', requestId: 'req_011CSHoEeqs5C35K2UUqR7Fy' },
  });
});

test('tool use: tools and tool_choice go out, tool_use comes back as a tool call', async () => {
  server.reply({ fixture: 'message-tool-use.json' });
  const result = await model().doGenerate(hello({ tools: [weatherTool], toolChoice: 'required' }));

  const body = server.lastRequest.body as Record<string, unknown>;
  assert.deepEqual(body.tools, [{ name: 'get_weather', description: 'Current weather for a location.', input_schema: weatherTool.inputSchema }]);
  assert.deepEqual(body.tool_choice, { type: 'any' });

  assert.equal(result.finishReason, 'tool-calls');
  assert.deepEqual(result.content, [
    { type: 'text', text: "I'll check the current weather in San Francisco for you." },
    { type: 'tool-call', toolCallId: 'toolu_01A09q90qw90lq917835lq9', toolName: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
  ]);
});

test('tool choices map to auto, none and a named tool', async () => {
  const choices = [
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    [{ toolName: 'get_weather' }, { type: 'tool', name: 'get_weather' }],
  ] as const;
  for (const [toolChoice, expected] of choices) {
    server.reply({ fixture: 'message-text.json' });
    await model().doGenerate(hello({ tools: [weatherTool], toolChoice }));
    assert.deepEqual((server.lastRequest.body as Record<string, unknown>).tool_choice, expected);
  }
});

test('multi-turn with tool results: system on top, tool results in a user turn, same-role turns merged', async () => {
  server.reply({ fixture: 'message-after-tool-result.json' });
  const result = await model().doGenerate({
    messages: [
      { role: 'system', content: 'You are a weather assistant.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in San Francisco and Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool-call', toolCallId: 'toolu_sf', toolName: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool-call', toolCallId: 'toolu_paris', toolName: 'get_weather', input: { location: 'Paris' } },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_sf', toolName: 'get_weather', output: { temperature: 15, conditions: 'fog' } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_paris', toolName: 'get_weather', output: 'weather service unavailable', isError: true }] },
      { role: 'user', content: [{ type: 'text', text: 'Answer in one sentence.' }] },
    ],
    tools: [weatherTool],
    maxOutputTokens: 512,
    stopSequences: ['\n\nHuman:'],
  });

  assert.deepEqual(server.lastRequest.body, {
    model: 'claude-sonnet-5-5',
    max_tokens: 512,
    system: 'You are a weather assistant.',
    stop_sequences: ['\n\nHuman:'],
    tools: [{ name: 'get_weather', description: 'Current weather for a location.', input_schema: weatherTool.inputSchema }],
    tool_choice: { type: 'auto' },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in San Francisco and Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_sf', name: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool_use', id: 'toolu_paris', name: 'get_weather', input: { location: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_sf', content: '{"temperature":15,"conditions":"fog"}' },
          { type: 'tool_result', tool_use_id: 'toolu_paris', content: 'weather service unavailable', is_error: true },
          { type: 'text', text: 'Answer in one sentence.' },
        ],
      },
    ],
  });
  assert.equal(result.finishReason, 'stop');
});

test('structured output: a forced tool whose input schema is the schema; its input is the JSON text', async () => {
  server.reply({ fixture: 'message-structured-output.json' });
  const result = await model().doGenerate(hello({ responseFormat: { type: 'json', name: 'weather_report', schema: weatherReportSchema } }));

  const body = server.lastRequest.body as Record<string, unknown>;
  assert.deepEqual(body.tools, [{ name: 'weather_report', description: 'Give your final answer by calling this tool; its input is the answer.', input_schema: weatherReportSchema }]);
  assert.deepEqual(body.tool_choice, { type: 'tool', name: 'weather_report' });

  assert.equal(result.finishReason, 'stop');
  assert.equal(result.content.length, 1);
  const [part] = result.content;
  assert.equal(part?.type, 'text');
  assert.deepEqual(JSON.parse(part.type === 'text' ? part.text : ''), { city: 'San Francisco', temperatureCelsius: 15, conditions: ['fog', 'wind'] });
});

test('structured output with a non-object schema wraps it under value and unwraps the answer', async () => {
  server.reply({ fixture: 'message-structured-output.json' });
  await model().doGenerate(hello({ responseFormat: { type: 'json', schema: { type: 'array', items: { type: 'string' } } } }));
  const body = server.lastRequest.body as { tools: unknown; tool_choice: unknown };
  assert.deepEqual(body.tools, [
    {
      name: 'json_response',
      description: 'Give your final answer by calling this tool; its input is the answer.',
      input_schema: { type: 'object', properties: { value: { type: 'array', items: { type: 'string' } } }, required: ['value'], additionalProperties: false },
    },
  ]);
  assert.deepEqual(body.tool_choice, { type: 'tool', name: 'json_response' });
});

test('streaming text: response-start, text deltas, finish', async () => {
  server.reply({ fixture: 'stream-text.sse', headers: { 'request-id': 'req_stream_text' } });
  const parts = await collect(await model().doStream(hello()));

  assert.equal((server.lastRequest.body as { stream?: boolean }).stream, true);
  assert.deepEqual(parts, [
    { type: 'response-start', response: { id: 'msg_01NZdL29xx5MUA1yADyHTEsn', modelId: 'claude-sonnet-5-5', requestId: 'req_stream_text' } },
    { type: 'text-delta', delta: 'Hello' },
    { type: 'text-delta', delta: '! How can I' },
    { type: 'text-delta', delta: ' help you today?' },
    { type: 'finish', finishReason: 'stop', usage: { inputTokens: 25, outputTokens: 12, cachedInputTokens: 0 } },
  ]);
});

test('streaming tool use: input_json_delta fragments pass through and reassemble into one tool call', async () => {
  server.reply({ fixture: 'stream-tool-use.sse' });
  const parts = await collect(await model().doStream(hello({ tools: [weatherTool] })));

  const deltas = parts.filter((part) => part.type === 'tool-call-delta');
  assert.equal(deltas.length, 6);
  assert.ok(deltas.every((delta) => delta.toolCallId === 'toolu_01T1x1fJ34qAmk2tNTrN7Up6' && delta.toolName === 'get_weather'));
  assert.equal(deltas.map((delta) => delta.inputDelta).join(''), '{"location": "San Francisco, CA", "unit": "fahrenheit"}');

  assert.deepEqual(parts.at(-2), { type: 'tool-call', toolCallId: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', toolName: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } });
  assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 472, outputTokens: 89, cachedInputTokens: 0 } });
  assert.deepEqual(parts[1], { type: 'text-delta', delta: "Okay, let's check the weather for San Francisco, CA:" });
});

test('streaming structured output: the response tool streams as text, not as a tool call', async () => {
  server.reply({ fixture: 'stream-structured-output.sse' });
  const parts = await collect(await model().doStream(hello({ responseFormat: { type: 'json', name: 'weather_report', schema: weatherReportSchema } })));

  assert.ok(parts.every((part) => part.type !== 'tool-call' && part.type !== 'tool-call-delta'));
  const text = parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
  assert.deepEqual(JSON.parse(text), { city: 'San Francisco', temperatureCelsius: 15, conditions: ['fog', 'wind'] });
  assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'stop', usage: { inputTokens: 402, outputTokens: 58, cachedInputTokens: 0 } });
});

test('usage counts cache reads and writes into input tokens and reports the reads as cached', async () => {
  server.reply({ fixture: 'message-cached-usage.json' });
  const result = await model().doGenerate(hello());
  assert.deepEqual(result.usage, { inputTokens: 21 + 188 + 1802, outputTokens: 393, cachedInputTokens: 1802 });
});

test('refusal: finish reason refusal with the explanation from stop_details', async () => {
  server.reply({ fixture: 'message-refusal.json' });
  const result = await model().doGenerate(hello());
  assert.equal(result.finishReason, 'refusal');
  assert.equal(result.refusal, 'This request could enable the development of malware.');
  assert.deepEqual(result.content, []);
});

test('429 with retry-after: model-rate-limited, retryable, with retryAfterMs and the request id', async () => {
  server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '30', 'request-id': 'req_rate_limited' } });
  const error = await failure(() => model().doGenerate(hello()));
  assert.equal(error.code, 'model-rate-limited');
  assert.equal(error.isRetryable, true);
  assert.equal(error.retryAfterMs, 30_000);
  assert.equal(error.status, 429);
  assert.equal(error.requestId, 'req_rate_limited');
  assert.equal(error.provider, 'anthropic');
  assert.equal(error.modelId, 'claude-sonnet-5-5');
  assert.equal(error.details?.providerCode, 'rate_limit_error');
  assert.equal(server.requests.length, 1, 'the SDK must not retry on its own');
});

test('529 overloaded: model-overloaded, retryable', async () => {
  server.reply({ fixture: 'error-overloaded.json', status: 529 });
  const error = await failure(() => model().doGenerate(hello()));
  assert.equal(error.code, 'model-overloaded');
  assert.equal(error.isRetryable, true);
  assert.equal(error.status, 529);
  assert.equal(error.details?.providerCode, 'overloaded_error');
  assert.equal(server.requests.length, 1);
});

test('529 on a streaming call fails doStream itself', async () => {
  server.reply({ fixture: 'error-overloaded.json', status: 529 });
  const error = await failure(() => model().doStream(hello()));
  assert.equal(error.code, 'model-overloaded');
});

test('an error event mid-stream: model-overloaded, after the parts already sent', async () => {
  server.reply({ fixture: 'stream-overloaded-error.sse', headers: { 'request-id': 'req_mid_stream' } });
  const parts: StreamPartV1[] = [];
  const error = await streamFailure(await model().doStream(hello()), parts);
  assert.equal(error.code, 'model-overloaded');
  assert.equal(error.isRetryable, true);
  assert.equal(error.requestId, 'req_mid_stream');
  assert.equal(error.details?.providerCode, 'overloaded_error');
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-delta']);
});

test('401: model-auth-failed, not retryable', async () => {
  server.reply({ fixture: 'error-authentication.json', status: 401 });
  const error = await failure(() => model().doGenerate(hello()));
  assert.equal(error.code, 'model-auth-failed');
  assert.equal(error.isRetryable, false);
  assert.equal(error.details?.providerCode, 'authentication_error');
});

test('400 prompt too long: model-context-exceeded', async () => {
  server.reply({ fixture: 'error-prompt-too-long.json', status: 400 });
  const error = await failure(() => model().doGenerate(hello()));
  assert.equal(error.code, 'model-context-exceeded');
  assert.equal(error.isRetryable, false);
});

test('x-should-retry overrides the default retryability', async () => {
  server.reply({ fixture: 'error-api.json', status: 500, headers: { 'x-should-retry': 'false' } });
  const error = await failure(() => model().doGenerate(hello()));
  assert.equal(error.code, 'model-server-error');
  assert.equal(error.isRetryable, false);

  server.reply({ fixture: 'error-prompt-too-long.json', status: 400, headers: { 'x-should-retry': 'true' } });
  assert.equal((await failure(() => model().doGenerate(hello()))).isRetryable, true);
});

test('a stream cut mid-way: model-stream-truncated, retryable', async () => {
  server.reply({ fixture: 'stream-text.sse', cutAfterEvents: 4, headers: { 'request-id': 'req_cut' } });
  const parts: StreamPartV1[] = [];
  const error = await streamFailure(await model().doStream(hello()), parts);
  assert.equal(error.code, 'model-stream-truncated');
  assert.equal(error.isRetryable, true);
  assert.equal(error.requestId, 'req_cut');
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-delta']);
});

test('a stream that ends cleanly without message_stop is truncated too', async () => {
  server.reply({ fixture: 'stream-text.sse', endAfterEvents: 8 });
  const parts: StreamPartV1[] = [];
  const error = await streamFailure(await model().doStream(hello()), parts);
  assert.equal(error.code, 'model-stream-truncated');
  assert.ok(parts.every((part) => part.type !== 'finish'));
});

test('a refused connection: model-connection-failed', async () => {
  const unreachable = createAnthropicModel('claude-sonnet-5-5', { apiKey: 'sk-ant-test-key', baseURL: 'http://127.0.0.1:1', environment: {} });
  const error = await failure(() => unreachable.doGenerate(hello()));
  assert.equal(error.code, 'model-connection-failed');
  assert.equal(error.isRetryable, true);
});

test('an aborted call fails without retry', async () => {
  const error = await failure(() => model().doGenerate(hello({ abortSignal: AbortSignal.abort() })));
  assert.equal(error.code, 'model-aborted');
  assert.equal(error.isRetryable, false);
  assert.match(error.message, /aborted/);
});

test('a missing ANTHROPIC_API_KEY is config-invalid and names the variable', () => {
  assert.throws(
    () => createAnthropicModel('claude-sonnet-5-5', { environment: { ANTHROPIC_BASE_URL: server.baseURL } }),
    (error: unknown) =>
      error instanceof KeelError &&
      error.code === 'config-invalid' &&
      error.message === 'ANTHROPIC_API_KEY is not set (needed for model anthropic:claude-sonnet-5-5)',
  );
});

test('the model identifies itself', () => {
  const anthropic = model();
  assert.equal(anthropic.specificationVersion, 'v1');
  assert.equal(anthropic.provider, 'anthropic');
  assert.equal(anthropic.modelId, 'claude-sonnet-5-5');
});
