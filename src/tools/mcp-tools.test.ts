import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { McpServerConnection, McpToolGovernance, ToolCallOutcome } from './index.ts';
import { callTool, connectMcpServer, registerMcpTools, SlidingWindowRateLimiter, ToolRegistry } from './index.ts';
import { startWeatherHttpServer } from './testing/weather-mcp-http.ts';
import { RecordingRunContext } from './testing/recording-run-context.ts';

const governance: Record<string, McpToolGovernance> = {
  lookup_weather: { scopes: ['weather:read'], sideEffect: 'read', timeoutMs: 5_000, rateLimit: { perTenant: { limit: 100, windowMs: 60_000 } } },
  send_message: {
    scopes: ['messages:send'],
    sideEffect: 'write',
    deduplicatesOnKey: true,
    timeoutMs: 5_000,
    owner: 'team-comms',
    constraints: [{ id: 'internal-recipients-only', check: (args) => (typeof args.to === 'string' && args.to.endsWith('@example.com')) || 'messages may only go to example.com' }],
  },
  slow_echo: { scopes: [], sideEffect: 'read', timeoutMs: 100 },
};

let connection: McpServerConnection;
const registry = new ToolRegistry();
const rateLimiter = new SlidingWindowRateLimiter();

before(async () => {
  connection = await connectMcpServer({ transport: { type: 'stdio', command: process.execPath, args: [join(import.meta.dirname, 'testing', 'weather-mcp-stdio.ts')] } });
});
after(async () => {
  await connection.close();
});

function call(run: RecordingRunContext, name: string, args: JsonValue, grantedScopes = ['weather:read', 'messages:send']): Promise<ToolCallOutcome> {
  return callTool({ registry, rateLimiter, run, name, args, grantedScopes });
}

test('a real MCP server’s tools register as governed tools; one without governance is skipped', async () => {
  const registration = await registerMcpTools({ registry, client: connection.client, owner: 'team-weather', governance, namePrefix: 'wx_' });
  assert.deepEqual(registration, {
    registered: ['wx_lookup_weather', 'wx_send_message', 'wx_slow_echo'],
    skipped: [{ name: 'undeclared_tool', reason: 'no governance given' }],
  });
  const weather = registry.lookup('wx_lookup_weather');
  assert.equal(weather?.version, '1.2.0', 'the server’s version, since MCP tools carry none');
  assert.equal(weather?.owner, 'team-weather');
  assert.equal(registry.lookup('wx_send_message')?.owner, 'team-comms');
  assert.deepEqual(registry.definitionsFor(['wx_lookup_weather'])[0]?.inputSchema, {
    type: 'object',
    properties: { city: { type: 'string', minLength: 1 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  });
});

test('a read through MCP returns the server’s structured output', async () => {
  const outcome = await call(new RecordingRunContext(), 'wx_lookup_weather', { city: 'Paris', unit: 'celsius' });
  assert.deepEqual(outcome, { status: 'ok', tool: 'wx_lookup_weather', version: '1.2.0', output: { city: 'Paris', temperature: 17, unit: 'celsius', conditions: 'cloudy' } });
});

test('bad arguments for an MCP tool are caught by its JSON Schema before the server sees them', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'wx_lookup_weather', { city: 42, unit: 'kelvin' });
  assert.equal(outcome.status, 'arguments-invalid');
  assert.deepEqual(outcome.status === 'arguments-invalid' && outcome.validationErrors.map((error) => error.path), ['$.city', '$.unit']);
  assert.equal(run.steps.length, 1, 'only the decision step; no call went out');
});

test('MCP tools are denied like local ones: a missing scope, a violated constraint', async () => {
  const run = new RecordingRunContext();
  const unscoped = await call(run, 'wx_send_message', { to: 'ada@example.com', body: 'hi' }, ['weather:read']);
  assert.equal(unscoped.status === 'denied' && unscoped.reason, 'scope-missing');
  const outside = await call(run, 'wx_send_message', { to: 'eve@evil.test', body: 'hi' });
  assert.equal(outside.status === 'denied' && outside.constraintId, 'internal-recipients-only');
});

test('an effect through MCP carries the step’s idempotency key to the server, which deduplicates on it', async () => {
  const run = new RecordingRunContext({ runId: 'run-mcp' });
  const outcome = await call(run, 'wx_send_message', { to: 'ada@example.com', body: 'Your refund is on its way.' });
  assert.equal(outcome.status, 'ok');
  const text = outcome.status === 'ok' ? (outcome.output as { content: { text: string }[] }).content[0]?.text : undefined;
  const sent = JSON.parse(text ?? '{}') as { messageId: string; idempotencyKey: string; repeated: boolean };
  assert.equal(sent.idempotencyKey, 'run-mcp:0:2');
  assert.equal(run.steps[1]?.idempotent, true, 'a write the server deduplicates may be retried after a crash');
  // The same key again, as a resume would send it: the server answers with the first message.
  const tool = registry.lookup('wx_send_message');
  const again = (await tool?.execute({ to: 'ada@example.com', body: 'Your refund is on its way.' }, {
    runId: 'run-mcp', task: 'test-task', tenant: 'acme', principal: 'user:ada', idempotencyKey: 'run-mcp:0:2', attempt: 2, signal: new AbortController().signal,
  })) as { content: { text: string }[] };
  assert.deepEqual(JSON.parse(again.content[0]?.text ?? '{}'), { ...sent, repeated: true });
});

test('an MCP call past its timeout is cancelled and fails', async () => {
  const outcome = await call(new RecordingRunContext(), 'wx_slow_echo', { text: 'hello' });
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'tool-timeout');
  assert.deepEqual(outcome.status === 'failed' && outcome.error.details, { reason: 'timeout', timeoutMs: 100 });
});

test('governance for a tool the server does not have is a configuration error', async () => {
  await assert.rejects(
    registerMcpTools({ registry: new ToolRegistry(), client: connection.client, owner: 'x', governance: { ...governance, delete_everything: governance.slow_echo! } }),
    (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && /delete_everything/.test(error.message),
  );
});

test('the same server over Streamable HTTP registers and answers the same way', async () => {
  const server = await startWeatherHttpServer();
  const http = await connectMcpServer({ transport: { type: 'streamable-http', url: server.url } });
  try {
    const httpRegistry = new ToolRegistry();
    const registration = await registerMcpTools({ registry: httpRegistry, client: http.client, owner: 'team-weather', governance: { lookup_weather: governance.lookup_weather! } });
    assert.deepEqual(registration.registered, ['lookup_weather']);
    const outcome = await callTool({ registry: httpRegistry, rateLimiter, run: new RecordingRunContext(), name: 'lookup_weather', args: { city: 'Oslo', unit: 'fahrenheit' }, grantedScopes: ['weather:read'] });
    assert.deepEqual(outcome.status === 'ok' && outcome.output, { city: 'Oslo', temperature: 60.8, unit: 'fahrenheit', conditions: 'cloudy' });
  } finally {
    await http.close();
    await server.close();
  }
});
