import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ProxyFolder } from './proxy-harness.ts';
import { childEnvironment, keel, launcher, proxyFolder, showRun, startNotesHttpServer, textOf } from './proxy-harness.ts';

// The real `keel mcp-proxy --http` process, the official client over Streamable HTTP.
let files: ProxyFolder;
let proxy: ChildProcessWithoutNullStreams;
let exited: Promise<number | null>;
let url: URL;
let stdout = '';
let stderr = '';

// An upstream served over Streamable HTTP from this process, its effects in a file of its own.
const remoteFolder = mkdtempSync(join(tmpdir(), 'keel-mcp-remote-'));
const remoteEffects = join(remoteFolder, 'effects.jsonl');
let remote: { url: string; close: () => Promise<void> };

before(async () => {
  remote = await startNotesHttpServer({ effectsFile: remoteEffects, serverName: 'remote' });
  files = proxyFolder({ elicitation: true, remoteUrl: remote.url });
  proxy = spawn(process.execPath, [launcher, 'mcp-proxy', '--config', files.config, '--db', files.database, '--http', '--port', '0'], { env: childEnvironment() });
  proxy.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  exited = new Promise((resolve) => proxy.once('exit', (code) => resolve(code)));
  url = await new Promise<URL>((resolve, reject) => {
    proxy.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stdout);
      if (found?.[1] !== undefined) resolve(new URL(found[1]));
    });
    void exited.then((code) => reject(new Error(`keel mcp-proxy exited ${code} before listening: ${stderr}`)));
  });
});
after(async () => {
  if (proxy.exitCode === null) proxy.kill('SIGKILL');
  await exited;
  await remote.close();
  files.remove();
  rmSync(remoteFolder, { recursive: true, force: true });
});

type CallResult = { content: unknown; isError?: boolean; _meta?: Record<string, unknown> };

async function connect(name: string, options: { elicit?: (message: string) => { action: 'accept' | 'decline' | 'cancel'; content?: { approve: boolean } } } = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name, version: '1.0.0' }, options.elicit === undefined ? {} : { capabilities: { elicitation: { form: {} } } });
  const elicit = options.elicit;
  if (elicit !== undefined) client.setRequestHandler(ElicitRequestSchema, (request) => elicit(request.params.message));
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  return { client, transport };
}

test('over Streamable HTTP: allowed calls pass, a denied call names its policy, an approval waits for keel approve; each session is its own run, ended when the client ends it', async () => {
  const first = await connect('http-client-one');
  const second = await connect('http-client-two');
  const call = (client: Client, name: string, args: Record<string, unknown> = {}, options: Parameters<Client['callTool']>[2] = {}) => client.callTool({ name, arguments: args }, undefined, options) as Promise<CallResult>;

  const written = await call(first.client, 'notes__write_note', { name: 'draft', text: 'over http' });
  assert.equal(textOf(written), 'saved draft');
  const read = await call(second.client, 'notes__read_note', { name: 'welcome' });
  assert.equal(textOf(read), 'Hello from the notes server');
  const firstRun = String(written._meta?.['keel.dev/run-id']);
  const secondRun = String(read._meta?.['keel.dev/run-id']);
  assert.notEqual(firstRun, secondRun, 'two sessions, two runs');

  const denied = await call(first.client, 'notes__delete_note', { name: 'draft' });
  assert.equal(denied.isError, true);
  assert.match(textOf(denied), /policy-denied by policy no-destructive-tools/);

  let waitingMessage = '';
  let seen: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => (seen = resolve));
  const published = call(first.client, 'notes__publish_note', { name: 'draft' }, { timeout: 30_000, onprogress: (progress) => ((waitingMessage = progress.message ?? ''), seen()) });
  await waiting;
  assert.match(waitingMessage, new RegExp(`keel approve ${firstRun}`));
  // The other session is not held up by the first one's wait.
  assert.equal(textOf(await call(second.client, 'notes__read_note', { name: 'welcome' })), 'Hello from the notes server');
  assert.equal(files.effects().filter((effect) => effect.tool === 'publish_note').length, 0);
  const approved = await keel(['approve', firstRun, '--as', 'lead', '--db', files.database]);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(textOf(await published), 'published draft');
  assert.equal(files.effects().filter((effect) => effect.tool === 'publish_note').length, 1);

  await first.transport.terminateSession();
  await first.client.close();
  const shown = await showRun(files.database, firstRun);
  assert.equal(shown.run.status, 'ok');
  assert.equal(shown.chain.ok, true);
  assert.deepEqual(
    shown.events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call').map((event) => event.data.name),
    ['notes__write_note', 'notes__publish_note'],
  );
  assert.deepEqual(
    shown.events.filter((event) => event.type === 'human-decision').map((event) => event.data.decider),
    ['user:lead'],
  );
  await second.client.close();
});

test('a client that supports elicitation is asked; its user’s answer is journaled as the decision', async () => {
  const asked: string[] = [];
  const approving = await connect('eliciting-client', {
    elicit: (message) => {
      asked.push(message);
      return { action: 'accept', content: { approve: !message.includes('"secret"') } };
    },
  });
  const call = (name: string, args: Record<string, unknown>) => approving.client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 }) as Promise<CallResult>;
  const published = await call('notes__publish_note', { name: 'welcome' });
  assert.equal(textOf(published), 'published welcome');
  const refused = await call('notes__publish_note', { name: 'secret' });
  assert.equal(refused.isError, true);
  assert.match(textOf(refused), /a person denied it/);
  assert.equal(asked.length, 2);
  assert.match(asked[0] ?? '', /notes__publish_note needs approval/);
  const runId = String(published._meta?.['keel.dev/run-id']);
  await approving.transport.terminateSession();
  await approving.client.close();
  const shown = await showRun(files.database, runId);
  assert.deepEqual(
    shown.events.filter((event) => event.type === 'human-decision').map((event) => [event.data.decision, event.data.decider]),
    [
      ['approve', 'mcp-client:user:ada'],
      ['deny', 'mcp-client:user:ada'],
    ],
  );
});

test('an upstream served over Streamable HTTP is fronted the same way, the idempotency key reaching it', async () => {
  const session = await connect('remote-client');
  const { tools } = await session.client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).filter((name) => name.startsWith('remote__')), ['remote__read_note', 'remote__write_note']);
  const read = (await session.client.callTool({ name: 'remote__read_note', arguments: { name: 'welcome' } })) as CallResult & { structuredContent?: unknown };
  assert.deepEqual(read.structuredContent, { name: 'welcome', text: 'Hello from the notes server' });
  const written = (await session.client.callTool({ name: 'remote__write_note', arguments: { name: 'far', text: 'away' } })) as CallResult;
  assert.equal(textOf(written), 'saved far');
  const effects = readFileSync(remoteEffects, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { tool: string; idempotencyKey: string });
  assert.deepEqual(effects.map((effect) => effect.tool), ['write_note']);
  assert.match(effects[0]?.idempotencyKey ?? '', new RegExp(`^${String(written._meta?.['keel.dev/run-id'])}:0:\\d+$`));
  await session.transport.terminateSession();
  await session.client.close();
});

test('results are labelled: once a session has read confidential data, a call sending data outside is refused by the flow rule', async () => {
  const session = await connect('labelled-client');
  const call = (name: string, args: Record<string, unknown>) => session.client.callTool({ name, arguments: args }) as Promise<CallResult>;
  assert.equal(textOf(await call('flaky__write_note', { name: 'memo', text: 'nothing secret yet' })), 'saved memo');
  assert.equal(textOf(await call('flaky__read_note', { name: 'welcome' })), 'Hello from the notes server');
  const leaked = await call('flaky__write_note', { name: 'memo', text: 'Hello from the notes server' });
  assert.equal(leaked.isError, true);
  assert.match(textOf(leaked), /policy-denied by policy flow\.no-confidential-egress/);
  assert.deepEqual(
    files.effects().filter((effect) => effect.server === 'flaky').map((effect) => effect.args),
    [{ name: 'memo', text: 'nothing secret yet' }],
  );
  await session.transport.terminateSession();
  await session.client.close();
});

test('keel stop ends an idle session’s run, journaled as a person’s decision; the session’s next call is told so', async () => {
  const session = await connect('stopped-client');
  const call = (name: string, args: Record<string, unknown>) => session.client.callTool({ name, arguments: args }) as Promise<CallResult>;
  const runId = String((await call('notes__read_note', { name: 'welcome' }))._meta?.['keel.dev/run-id']);
  const stopped = await keel(['stop', runId, '--reason', 'done for today', '--as', 'ops', '--db', files.database]);
  assert.equal(stopped.code, 0, stopped.stderr);
  const shown = await showRun(files.database, runId);
  assert.equal(shown.run.status, 'failed');
  assert.deepEqual(
    shown.events.filter((event) => event.type === 'human-decision').map((event) => [event.data.decision, event.data.decider, event.data.reason]),
    [['stop', 'user:ops', 'done for today']],
  );
  const after = await call('notes__read_note', { name: 'welcome' });
  assert.equal(after.isError, true);
  assert.match(textOf(after), /the session's run ended failed: stopped by user:ops: done for today/);
  await session.transport.terminateSession();
  await session.client.close();
});

test('a session that ends while a call waits for approval has its run stopped, so nothing is left waiting', async () => {
  const session = await connect('impatient-client');
  let runId = '';
  let seen: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => (seen = resolve));
  const pending = session.client.callTool({ name: 'notes__publish_note', arguments: { name: 'welcome' } }, undefined, {
    timeout: 30_000,
    onprogress: ({ message }) => ((runId = /keel approve (\S+)/.exec(message ?? '')?.[1] ?? ''), seen()),
  });
  pending.catch(() => undefined);
  await waiting;
  await session.transport.terminateSession();
  await session.client.close();
  const shown = await showRun(files.database, runId);
  assert.equal(shown.run.status, 'failed');
  assert.deepEqual(
    shown.events.filter((event) => event.type === 'human-decision').map((event) => [event.data.decision, event.data.decider]),
    [['stop', 'keel-mcp-proxy']],
  );
  assert.match(String(shown.events.at(-1)?.data.reason), /the client ended its session while a call waited for approval/);
});

test('requests without a session are refused in JSON-RPC shape; SIGTERM ends the sessions and the process exits 0', async () => {
  const stray = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream' } });
  assert.equal(stray.status, 400);
  assert.match(((await stray.json()) as { error: { message: string } }).error.message, /no mcp-session-id/);
  const unknown = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'nope' }, body: '{}' });
  assert.equal(unknown.status, 404);
  const open = await connect('left-open');
  const runId = String(((await open.client.callTool({ name: 'notes__read_note', arguments: { name: 'welcome' } })) as CallResult)._meta?.['keel.dev/run-id']);
  proxy.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /keel mcp-proxy stopped/);
  assert.equal((await showRun(files.database, runId)).run.status, 'ok');
  await open.client.close().catch(() => undefined);
});
