import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { openStore } from '../../src/store/index.ts';
import type { ProxyFolder } from './proxy-harness.ts';
import { childEnvironment, keel, launcher, proxyFolder, showRun, textOf } from './proxy-harness.ts';

// The official MCP client starts the real `keel mcp-proxy` over stdio, which fronts real MCP
// server processes; approvals and the journal are read by other `keel` processes on the same database.
let files: ProxyFolder;
let client: Client;
let transport: StdioClientTransport;
let stderr = '';

before(async () => {
  files = proxyFolder();
  transport = new StdioClientTransport({ command: process.execPath, args: [launcher, 'mcp-proxy', '--config', files.config, '--db', files.database], env: childEnvironment(), stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  client = new Client({ name: 'stdio-test-client', version: '1.0.0' });
  await client.connect(transport);
});
after(async () => {
  await client.close();
  files.remove();
});

type CallResult = { content: unknown; isError?: boolean; structuredContent?: unknown; _meta?: Record<string, unknown> };
const call = (name: string, args: Record<string, unknown> = {}, options: Parameters<Client['callTool']>[2] = {}) => client.callTool({ name, arguments: args }, undefined, options) as Promise<CallResult>;

test('the proxy lists the governed tools of the upstreams that started, namespaced; a server that cannot start is reported, not fatal', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['flaky__crash', 'flaky__hang', 'flaky__read_note', 'flaky__write_note', 'notes__delete_note', 'notes__publish_note', 'notes__read_note', 'notes__write_note']);
  const read = tools.find((tool) => tool.name === 'notes__read_note');
  assert.equal(read?.description, 'Read a note by name.');
  assert.deepEqual(read?.inputSchema.required, ['name']);
  assert.match(stderr, /broken is down, its tools are not served: could not start broken: spawn .*ENOENT/);
  assert.match(stderr, /stalled is down, its tools are not served: could not start stalled: .*timed out/i);
  assert.match(stderr, /notes: serving .*; not governed, so not served: hang, crash, internal_admin/);
});

test('allowed calls pass with the upstream’s results; a denied call is an MCP error naming the policy and never reaches the upstream', async () => {
  const written = await call('notes__write_note', { name: 'plan', text: 'ship the proxy' });
  assert.equal(written.isError, undefined, textOf(written));
  assert.equal(textOf(written), 'saved plan');
  const read = await call('notes__read_note', { name: 'plan' });
  assert.deepEqual(read.structuredContent, { name: 'plan', text: 'ship the proxy' });
  const runId = read._meta?.['keel.dev/run-id'];
  assert.match(String(runId), /^run_/);
  assert.equal(written._meta?.['keel.dev/run-id'], runId, 'one run for the whole session');

  const deleted = await call('notes__delete_note', { name: 'plan' });
  assert.equal(deleted.isError, true);
  assert.match(textOf(deleted), /Keel refused notes__delete_note \(policy-denied by policy no-destructive-tools\)/);
  assert.match(textOf(deleted), /tools tagged destructive are never called through the proxy/);
  assert.deepEqual(
    files.effects().map((effect) => effect.tool),
    ['write_note'],
    'the denied delete never reached the upstream',
  );
  // The write carried the step's idempotency key to the upstream.
  assert.match(String(files.effects()[0]?.idempotencyKey), new RegExp(`^${String(runId)}:0:\\d+$`));
  const invalid = await call('notes__write_note', { name: 'plan', text: 'x'.repeat(300) });
  assert.equal(invalid.isError, true);
  assert.match(textOf(invalid), /do not match its schema: \$\.text/);
});

test('writes past the tool’s rate limit are refused with the limit named', async () => {
  // One write so far this session; the limit is three per tenant in ten minutes.
  for (const name of ['b', 'c']) assert.equal((await call('notes__write_note', { name, text: name })).isError, undefined);
  const over = await call('notes__write_note', { name: 'd', text: 'd' });
  assert.equal(over.isError, true);
  assert.match(textOf(over), /rate-limited.*over its rate limit \(tool:notes__write_note:tenant:acme\)/);
  assert.equal(files.effects().filter((effect) => effect.tool === 'write_note').length, 3);
});

test('an approval-gated call waits, durably, until keel approve from another process, then proceeds; keel deny refuses the next', async () => {
  let waitingMessage: string | undefined;
  let waitingSeen: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => (waitingSeen = resolve));
  const published = call('notes__publish_note', { name: 'welcome' }, { timeout: 30_000, onprogress: (progress) => ((waitingMessage = progress.message), waitingSeen()) });
  await waiting;
  const runId = /keel approve (run_[0-9a-f-]+)/.exec(waitingMessage ?? '')?.[1];
  assert.ok(runId !== undefined, waitingMessage);
  // Parked in the store, not just in the proxy's memory: read by this process, beside the proxy.
  const store = await openStore({ database: files.database, create: false, readOnly: true, environment: {} });
  try {
    assert.deepEqual((await store.listRuns({ statuses: ['waiting'], limit: 10 })).map((run) => run.id), [runId]);
  } finally {
    await store.close();
  }
  assert.equal(files.effects().filter((effect) => effect.tool === 'publish_note').length, 0, 'nothing published before the approval');

  const approved = await keel(['approve', runId, '--as', 'lead', '--db', files.database]);
  assert.equal(approved.code, 0, approved.stderr);
  const result = await published;
  assert.equal(result.isError, undefined, textOf(result));
  assert.equal(textOf(result), 'published welcome');
  assert.equal(files.effects().filter((effect) => effect.tool === 'publish_note').length, 1);

  // The session goes on after the wait; the next publish is denied by a person.
  let denial: ReturnType<typeof keel> | undefined;
  const refused = await call('notes__publish_note', { name: 'secret' }, { timeout: 30_000, onprogress: () => void (denial ??= keel(['deny', runId, '--reason', 'not for the public', '--db', files.database])) });
  assert.equal((await denial)?.code, 0);
  assert.equal(refused.isError, true);
  assert.match(textOf(refused), /a person denied it .*user:tester: not for the public/);
  assert.equal(files.effects().filter((effect) => effect.tool === 'publish_note').length, 1);
  assert.equal(textOf(await call('notes__read_note', { name: 'welcome' })), 'Hello from the notes server', 'the session still serves calls');
});

test('an upstream that hangs is cut off at the tool’s timeout; one that crashes fails its calls while the other servers serve on', async () => {
  const started = performance.now();
  const hung = await call('flaky__hang');
  assert.equal(hung.isError, true);
  assert.match(textOf(hung), /flaky__hang failed \(tool-timeout\)/);
  assert.ok(performance.now() - started < 5_000);

  const crashed = await call('flaky__crash');
  assert.equal(crashed.isError, true);
  assert.match(textOf(crashed), /flaky__crash failed \(tool-error\)/);
  assert.equal(textOf(await call('notes__read_note', { name: 'welcome' })), 'Hello from the notes server');
  // The next call to the crashed server starts it again.
  assert.equal(textOf(await call('flaky__read_note', { name: 'welcome' })), 'Hello from the notes server');
});

test('the session is one journaled run: every decision and call is a step, and it ends ok when the client leaves', async () => {
  const runId = String((await call('notes__read_note', { name: 'welcome' }))._meta?.['keel.dev/run-id']);
  await client.close();
  const shown = await showRun(files.database, runId);
  assert.equal(shown.chain.ok, true);
  assert.equal(shown.run.status, 'ok');
  assert.equal(shown.run.task, 'mcp-proxy');
  assert.deepEqual([shown.run.principal, shown.run.tenant], ['user:ada', 'acme']);
  const start = shown.events.find((event) => event.type === 'run-start');
  assert.deepEqual((start?.data.input as { transport: string; client: unknown }).client, { name: 'stdio-test-client', version: '1.0.0' });
  const toolSteps = shown.events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call').map((event) => event.data.name);
  assert.deepEqual(toolSteps, [
    'notes__write_note',
    'notes__read_note',
    'notes__write_note',
    'notes__write_note',
    'notes__publish_note',
    'notes__read_note',
    'flaky__hang',
    'flaky__crash',
    'notes__read_note',
    'flaky__read_note',
    'notes__read_note',
  ]);
  const denials = shown.events.filter((event) => event.type === 'policy-decision' && event.data.effect === 'deny');
  assert.deepEqual(
    denials.map((event) => event.data.policyIds),
    [['no-destructive-tools']],
  );
  const decisions = shown.events.filter((event) => event.type === 'human-decision').map((event) => [event.data.decision, event.data.decider]);
  assert.deepEqual(decisions, [
    ['approve', 'user:lead'],
    ['deny', 'user:tester'],
  ]);
  assert.equal(shown.events.at(-1)?.type, 'run-end');
});
