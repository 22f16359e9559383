import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AccessLogEntry, Gateway, ListeningGateway } from './index.ts';
import { createGateway, listenGateway } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-access-log-'));
let gateway: Gateway;
let listening: ListeningGateway;
const entries: AccessLogEntry[] = [];
const waiting: { count: number; resolve: () => void }[] = [];

before(async () => {
  // Slow enough that a streamed answer is still going when its client leaves.
  gateway = await createGateway({ database: join(folder, 'keel.db'), environment: {}, simulator: { latency: { firstTokenMs: 0, perOutputTokenMs: 20, jitter: 0 } } });
  listening = await listenGateway(gateway, {
    port: 0,
    host: '127.0.0.1',
    accessLog: (entry) => {
      entries.push(entry);
      for (const wait of waiting.filter((candidate) => entries.length >= candidate.count)) wait.resolve();
    },
  });
});

after(async () => {
  await listening.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Resolves once `count` entries have been logged in all. */
function logged(count: number): Promise<void> {
  if (entries.length >= count) return Promise.resolve();
  return new Promise((resolve) => waiting.push({ count, resolve }));
}

const chat = JSON.stringify({ model: 'sim:default', max_tokens: 16, messages: [{ role: 'user', content: 'Where is A-1001?' }] });

test('a request is logged once its response is over: method, path, status, its run, the bytes it sent', async () => {
  const before = entries.length;
  const response = await fetch(`${listening.url}/v1/chat/completions?trace=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'keel-tenant': 'acme', 'user-agent': 'access-test/1' }, body: chat });
  const text = await response.text();
  assert.equal(response.status, 200);
  await logged(before + 1);
  const entry = entries[before];
  assert.ok(entry !== undefined);
  assert.deepEqual(
    { method: entry.method, path: entry.path, status: entry.status, runId: entry.runId, completed: entry.completed, remoteAddress: entry.remoteAddress, userAgent: entry.userAgent },
    { method: 'POST', path: '/v1/chat/completions?trace=1', status: 200, runId: response.headers.get('keel-run-id') ?? '', completed: true, remoteAddress: '127.0.0.1', userAgent: 'access-test/1' },
  );
  assert.ok(entry.bytesSent > Buffer.byteLength(text), `headers and body: ${entry.bytesSent} bytes for a ${Buffer.byteLength(text)}-byte body`);
  assert.ok(entry.durationMs >= 0);
  assert.match(entry.time, /^\d{4}-\d{2}-\d{2}T/);

  const missing = await fetch(`${listening.url}/v2/nothing`);
  await missing.text();
  await logged(before + 2);
  assert.deepEqual(
    { path: entries[before + 1]?.path, status: entries[before + 1]?.status, runId: entries[before + 1]?.runId },
    { path: '/v2/nothing', status: 404, runId: undefined },
  );
});

test('on a kept-alive connection each request counts only its own bytes', async () => {
  const before = entries.length;
  const agentRequest = (keepAlive: Agent) =>
    new Promise<number>((resolve, reject) => {
      const outgoing = request(`${listening.url}/v1/models`, { agent: keepAlive, headers: { 'keel-tenant': 'acme' } }, (incoming) => {
        let bytes = 0;
        incoming.on('data', (chunk: Buffer) => (bytes += chunk.length));
        incoming.on('end', () => resolve(bytes));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await agentRequest(keepAlive);
    const second = await agentRequest(keepAlive);
    assert.equal(first, second, 'the same answer twice');
    await logged(before + 2);
    const [one, two] = entries.slice(before);
    assert.ok(one !== undefined && two !== undefined);
    assert.ok(one.bytesSent > first && one.bytesSent < first + 1_000, `first ${one.bytesSent} bytes for a ${first}-byte body`);
    assert.ok(Math.abs(two.bytesSent - one.bytesSent) < 100, `second ${two.bytesSent} bytes, not the connection's running total (first ${one.bytesSent})`);
  } finally {
    keepAlive.destroy();
  }
});

test('a streamed answer is logged at its end, and one whose client left is logged as not completed', async () => {
  const before = entries.length;
  const whole = await fetch(`${listening.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'keel-tenant': 'acme' }, body: JSON.stringify({ ...JSON.parse(chat), stream: true }) });
  const body = await whole.text();
  await logged(before + 1);
  const streamed = entries[before];
  assert.equal(streamed?.completed, true);
  assert.ok((streamed?.bytesSent ?? 0) > Buffer.byteLength(body), 'the whole stream was counted');

  const leaving = new AbortController();
  const cut = await fetch(`${listening.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'keel-tenant': 'acme' },
    body: JSON.stringify({ model: 'sim:default', max_tokens: 400, stream: true, messages: [{ role: 'user', content: `Tell me everything ${'about parcels '.repeat(10)}` }] }),
    signal: leaving.signal,
  });
  const reader = cut.body?.getReader();
  assert.ok(reader !== undefined);
  await reader.read();
  leaving.abort();
  await logged(before + 2);
  const left = entries[before + 1];
  assert.deepEqual({ status: left?.status, completed: left?.completed, runId: left?.runId }, { status: 200, completed: false, runId: cut.headers.get('keel-run-id') ?? '' });
  await gateway.settled();
});
