/**
 * A `keel serve` process SIGKILLed mid-stream leaves its run `running` under a lease nobody
 * renews, and its client is gone, so nobody can finish it. The next `keel serve` on the store ends
 * it `failed` (gateway-process-died), its call in flight billed its reservation, and settles that
 * reservation in the budget book at once, by the id its budget decision journaled, at the same
 * amount: spent, no longer reserved, with no wait for its expiry; the journal still verifies.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';
import { keel } from '../cli-hygiene/keel-process.ts';
import type { KeelChild } from './keel-child.ts';
import { journalOnceItHolds, listeningURL, readUntil, startKeel, startStreamedChat } from './keel-child.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-died-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const database = join(folder, 'keel.db');
const configPath = join(folder, 'keel.config.json');
const price = { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 };
const reservationExpiryMs = 5 * 60 * 1000;

/** An OpenAI-compatible upstream that streams the start of an answer and then holds the stream open, as a model thinking would. */
class HoldingUpstream {
  readonly #server: Server = createServer((request, response) => {
    void (async () => {
      for await (const _chunk of request as AsyncIterable<Buffer>) void _chunk;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const envelope = { id: 'chatcmpl-hold', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
      response.write(`data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`);
      response.write(`data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'Hello, ' }, finish_reason: null }] })}\n\n`);
    })();
  });

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

interface Served extends KeelChild {
  url: string;
}

async function startServe(upstreamURL: string): Promise<Served> {
  const served = startKeel(['serve', '--port', '0', '--db', database, '--config', configPath], { OPENAI_API_KEY: 'upstream-key', OPENAI_BASE_URL: upstreamURL });
  return { ...served, url: await listeningURL(served) };
}

test('a gateway run whose keel serve was SIGKILLed mid-stream is ended failed by the next keel serve, billed its reservation, settled in the budget book at once, and the journal verifies', { timeout: 120_000 }, async () => {
  const upstream = new HoldingUpstream();
  const upstreamURL = await upstream.start();
  writeFileSync(
    configPath,
    JSON.stringify({ version: 1, routes: [], prices: { version: 'died-test', models: { 'openai-compatible:gpt-4o-mini': price } }, budgets: [{ scope: 'tenant', micros: 1_000_000_000 }] }),
  );
  const servers: Served[] = [];
  try {
    const first = await startServe(upstreamURL);
    servers.push(first);
    const { response, runId } = await startStreamedChat(first.url, 'Say hello slowly');
    const reader = await readUntil(response, 'Hello, ');
    // The first words reached the client, so the reservation was made; it is durable once journaled.
    const before = await journalOnceItHolds(database, runId, (events) => events.some((event) => event.type === 'budget-decision'));
    const reservation = before.find((event) => event.type === 'budget-decision');
    assert.ok(reservation?.type === 'budget-decision' && reservation.data.outcome === 'reserved' && reservation.data.reservedMicros > 0);
    const reservedMicros = reservation.data.reservedMicros;
    assert.match(reservation.data.reservationId ?? '', /^[0-9a-f-]{36}$/, 'the reservation is journaled with the id the book holds it under');

    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    await reader.cancel().catch(() => undefined);
    const store = await openStore({ database, create: false, readOnly: true, environment: {} });
    try {
      assert.equal((await store.getRun(runId))?.status, 'running', 'the dead process left its run running');
    } finally {
      await store.close();
    }

    const second = await startServe(upstreamURL);
    servers.push(second);
    const line = await second.said(new RegExp(`ended run ${runId} `));
    assert.match(line, /failed: gateway-process-died: /);
    // Read while the second process still serves: the ending itself settled the reservation.
    const ended = await openStore({ database, create: false, readOnly: true, environment: {} });
    try {
      const run = await ended.getRun(runId);
      assert.equal(run?.status, 'failed');
      const account = await ended.budgets?.readBudget(`tenant:${run.tenant}`);
      assert.deepEqual(account && { spent: account.spent.micros, reserved: account.reserved.micros }, { spent: run.costMicros, reserved: 0 }, 'spent the billed cost at once, nothing left reserved');
      assert.equal(account?.spent.tokens, reservation.data.reservedTokens);
    } finally {
      await ended.close();
    }
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output());

    const reopened = await openStore({ database, create: false, readOnly: true, environment: {} });
    try {
      const run = await reopened.getRun(runId);
      assert.equal(run?.status, 'failed');
      assert.match(run.reason ?? '', /^gateway-process-died: its gateway process \(worker \S+\) is gone, and with it the request's client, so nobody can finish the run; its call in flight is billed its reservation \(\d+ micro-USD\)$/);
      assert.equal(run.costMicros, reservedMicros, 'billed its reservation, the worst case');
      assert.equal(run.leaseOwner, null);
      const { events } = await loadRun(reopened, runId);
      const stepEnd = events.find((event) => event.type === 'step-end');
      assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
      assert.equal(stepEnd.data.cost?.micros, reservedMicros);
      assert.equal(events.at(-1)?.type, 'run-end');

      // Settled, the reservation is not booked a second time when its expiry passes.
      const scope = `tenant:${run.tenant}`;
      const now = await reopened.budgets?.readBudget(scope);
      assert.deepEqual(now && { spent: now.spent.micros, reserved: now.reserved.micros }, { spent: reservedMicros, reserved: 0 });
      const expired = await reopened.budgets?.readBudget(scope, Date.now() + reservationExpiryMs + 1_000);
      assert.deepEqual(expired && { spent: expired.spent.micros, reserved: expired.reserved.micros }, { spent: reservedMicros, reserved: 0 });
    } finally {
      await reopened.close();
    }

    const verified = await keel(['audit', 'verify', '--db', database], { cwd: folder });
    assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
    assert.match(verified.stdout, /every hash chain is intact/);
  } finally {
    for (const served of servers) if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill('SIGKILL');
    await upstream.close();
  }
});
