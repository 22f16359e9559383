import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadRun } from '../journal/index.ts';
import type { StreamFlow } from './sse-relay.ts';
import { relayQueueBytes } from './sse-relay.ts';
import type { TestGateway } from './testing/index.ts';
import { FloodUpstream, startTestGateway } from './testing/index.ts';

// A client that stays connected and stops reading: a raw socket that takes the response's first
// bytes and then reads nothing. The answer is larger than the loopback sockets hold, so the gateway
// ends up holding the upstream with its queue full; with a write-stall limit of 200 ms it then
// cuts the connection. Timing is driven by that limit and by waiting for the run to end, not by sleeps.
const answerBytes = 16 * 1024 * 1024;
const deltaText = 'p'.repeat(8_000);
const queueBound = relayQueueBytes + 2 * deltaText.length;
const writeStallMs = 200;
const prices = { version: 'stall-test', models: { 'openai-compatible:gpt-4o-mini': { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } } };
const config = { version: 1 as const, routes: [], prices, budgets: [{ scope: 'tenant' as const, micros: 1_000_000_000_000 }] };

const upstream = new FloodUpstream({ answerBytes, deltaText });
let baseURL: string;
before(async () => {
  baseURL = await upstream.start();
});
after(() => upstream.close());

interface StalledClient {
  socket: Socket;
  runId: string;
  /** Resolves once the connection has closed, with every byte the client got and how it ended. */
  closed: Promise<{ text: string; error: string | undefined }>;
  /** Starts reading again (after the run ended), so the close the gateway sent can be seen. */
  resume(): void;
}

/** Sends a streaming request on a raw socket, takes the first bytes (the headers) and stops reading. */
async function stallAfterHeaders(served: TestGateway): Promise<StalledClient> {
  upstream.reset();
  const port = Number(new URL(served.url).port);
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const body = JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'flood' }] });
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const pieces: Buffer[] = [];
  let error: string | undefined;
  socket.on('error', (problem: NodeJS.ErrnoException) => (error = problem.code ?? problem.message));
  // Not events.once: it rejects on the 'error' a reset connection emits before 'close'.
  const closed = new Promise<{ text: string; error: string | undefined }>((resolve) => socket.once('close', () => resolve({ text: Buffer.concat(pieces).toString('utf8'), error })));
  // Paused inside the handler: a socket left flowing with no listener would drop (read) what comes next.
  const first = await new Promise<Buffer>((resolve) =>
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      resolve(chunk);
    }),
  );
  pieces.push(first);
  const head = first.toString('utf8');
  assert.match(head, /^HTTP\/1\.1 200 /);
  const runId = /keel-run-id: (\S+)/i.exec(head)?.[1];
  assert.ok(runId !== undefined, head);
  return {
    socket,
    runId,
    closed,
    resume: () => {
      socket.on('data', (chunk: Buffer) => pieces.push(chunk));
      socket.resume();
    },
  };
}

describe('a client that stays connected but stops reading', () => {
  test('is cut off after the write-stall limit; the run is read to its end, settled from the usage and ends failed, client-stalled', { timeout: 120_000 }, async () => {
    const flows: StreamFlow[] = [];
    // The limits as `keel serve` takes them, from the config's gateway section.
    const configured = { ...config, gateway: { writeStallMs, drainMs: 120_000 } };
    const served = await startTestGateway({ environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL }, config: configured, onStream: (flow) => flows.push(flow) });
    try {
      const client = await stallAfterHeaders(served);
      // The run ends only once the stall was detected and the upstream was read to its end after it.
      await served.gateway.settled();
      const flow = flows[0];
      assert.ok(flow !== undefined && flows.length === 1);
      assert.equal(flow.departure, 'stalled');
      assert.ok(flow.peakQueuedBytes <= queueBound, `peak queue ${flow.peakQueuedBytes} bytes`);
      assert.equal(flow.queuedBytes, 0, 'what was queued for the client was let go');
      assert.ok(upstream.finished, 'the upstream was read to its end after the client was cut off');

      const run = await served.run(client.runId);
      assert.equal(run.status, 'failed');
      assert.match(run.reason ?? '', new RegExp(`^client-stalled: the client read nothing of the stream for ${writeStallMs} ms, so its connection was closed; .*settled from its usage`));
      assert.equal(run.inputTokens, 9);
      assert.equal(run.outputTokens, upstream.contentParts, 'settled from the usage the upstream reported');
      assert.ok(run.outputTokens > 1_000);
      assert.equal(run.costMicros, run.inputTokens * 1 + run.outputTokens * 2);
      const account = await served.gateway.keel.store.budgets?.readBudget(`tenant:${run.tenant}`);
      assert.deepEqual(account, { spent: { micros: run.costMicros, tokens: account?.spent.tokens ?? 0 }, reserved: { micros: 0, tokens: 0 } }, 'the reservation was settled at the usage');

      // The connection was closed under the client: it gets what the sockets held, never the end of the answer.
      client.resume();
      const { text, error } = await client.closed;
      assert.ok(!text.includes('data: [DONE]'), 'the answer did not reach the client whole');
      assert.ok(Buffer.byteLength(text) < answerBytes, `the client got ${Buffer.byteLength(text)} bytes`);
      assert.ok(error === undefined || error === 'ECONNRESET', String(error));
    } finally {
      await served.close();
    }
  });

  test('past the drain limit after the stall, the stream is cut and billed its reservation, the reason client-stalled', { timeout: 120_000 }, async () => {
    const served = await startTestGateway({ environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL }, config, writeStallMs, drainMs: 0 });
    try {
      const client = await stallAfterHeaders(served);
      await served.gateway.settled();
      const run = await served.run(client.runId);
      assert.equal(run.status, 'failed');
      assert.match(run.reason ?? '', /^client-stalled: .* so the stream was cut; it is billed its reservation$/);
      const { events } = await loadRun(served.gateway.keel.store, client.runId);
      const reservation = events.find((event) => event.type === 'budget-decision');
      assert.ok(reservation?.type === 'budget-decision' && reservation.data.outcome === 'reserved');
      assert.ok(reservation.data.reservedMicros > 0);
      assert.equal(run.costMicros, reservation.data.reservedMicros);
      const account = await served.gateway.keel.store.budgets?.readBudget(`tenant:${run.tenant}`);
      assert.deepEqual(account?.reserved, { micros: 0, tokens: 0 });
      assert.equal(account?.spent.micros, reservation.data.reservedMicros);
      client.resume();
      await client.closed;
    } finally {
      await served.close();
    }
  });

  test('in process, without a connection to cut, the body the caller stopped reading fails with the reason', { timeout: 120_000 }, async () => {
    const served = await startTestGateway({ environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL }, config, writeStallMs, drainMs: 120_000 });
    try {
      upstream.reset();
      const body = JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'flood' }] });
      const response = await served.gateway.request('/v1/chat/completions', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 200);
      await served.gateway.settled();
      const run = await served.run(response.headers.get('keel-run-id'));
      assert.equal(run.status, 'failed');
      assert.match(run.reason ?? '', /^client-stalled: /);
      assert.equal(run.outputTokens, upstream.contentParts);
      const reader = response.body?.getReader();
      await assert.rejects(reader?.read() ?? Promise.resolve(), /client-stalled/);
    } finally {
      await served.close();
    }
  });
});
