import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadRun } from '../journal/index.ts';
import type { Gateway, ListeningGateway } from './index.ts';
import { createGateway, listenGateway } from './index.ts';

// A gateway closed while answers are still streaming, over a real socket with the real client.
const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-shutdown-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const question = `Tell me everything about ${'parcels and their long journeys '.repeat(6)}`;

async function serve(name: string, perOutputTokenMs: number): Promise<{ gateway: Gateway; listening: ListeningGateway; client: OpenAI }> {
  const gateway = await createGateway({ database: join(folder, `${name}.db`), environment: {}, simulator: { latency: { firstTokenMs: 0, perOutputTokenMs, jitter: 0 } } });
  const listening = await listenGateway(gateway, { port: 0, host: '127.0.0.1' });
  return { gateway, listening, client: new OpenAI({ baseURL: `${listening.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 }) };
}

/** Starts a streamed answer and resolves once its first text has arrived, with the rest still to come. */
async function streamStarted(client: OpenAI) {
  const { data: stream, response } = await client.responses.create({ model: 'sim:default', input: question, stream: true }).withResponse();
  const iterator = stream[Symbol.asyncIterator]();
  let text = '';
  for (;;) {
    const next = await iterator.next();
    assert.equal(next.done, false, 'the stream ended before any text');
    if (next.value.type === 'response.output_text.delta') {
      text += next.value.delta;
      break;
    }
  }
  const rest = (async () => {
    const types: string[] = [];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      types.push(next.value.type);
      if (next.value.type === 'response.output_text.delta') text += next.value.delta;
    }
    return { types, text };
  })();
  return { runId: response.headers.get('keel-run-id') ?? '', rest };
}

describe('closing a gateway with requests in flight', () => {
  test('within the grace, an answer in flight is finished; a request that comes meanwhile is a 503 in its provider\'s shape', async () => {
    const { gateway, listening, client } = await serve('grace', 20);
    const started = await streamStarted(client);
    const closed = listening.close({ graceMs: 60_000 });
    const refused = await gateway.request('/v1/messages', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(refused.status, 529);
    assert.deepEqual(((await refused.json()) as { error: unknown }).error, { type: 'overloaded_error', message: 'the gateway is shutting down: send the request to another instance or retry later' });
    // Draining: alive, so an orchestrator lets it finish, but no longer ready for new requests (asked
    // in process: the listener takes no new connections once the close has begun).
    const ready = await gateway.request('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'the gateway is shutting down' });
    assert.equal((await gateway.request('/healthz')).status, 200);
    const { types, text } = await started.rest;
    await closed;
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(text.length > 200, `the whole answer arrived: ${text.length} characters`);
    const { state } = await loadRun(gateway.keel.store, started.runId).catch(async () => {
      // The deployment is closed with the gateway: read its journal from a fresh one.
      const reopened = await createGateway({ database: join(folder, 'grace.db'), environment: {} });
      try {
        return await loadRun(reopened.keel.store, started.runId);
      } finally {
        await reopened.close();
      }
    });
    assert.equal(state.status, 'ok');
  });

  test('past the grace, runs in flight are stopped: each ends failed in its journal and its client is told', async () => {
    const { gateway, listening, client } = await serve('stopped', 250);
    const streamed = await streamStarted(client);
    const whole = client.responses.create({ model: 'sim:default', input: question }).withResponse().catch((caught: unknown) => caught);
    // Closed once the whole answer's run is under way too.
    while ((await gateway.keel.store.listRuns({ limit: 10 })).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = listening.close({ graceMs: 0 });
    const [{ types }, refusedWhole] = await Promise.all([streamed.rest, whole]);
    await closing;
    assert.equal(types.at(-1), 'response.failed');
    assert.ok(refusedWhole instanceof OpenAI.APIError, String(refusedWhole));
    assert.equal(refusedWhole.status, 503);
    assert.match(refusedWhole.message, /shut down before the answer was finished/);

    const reopened = await createGateway({ database: join(folder, 'stopped.db'), environment: {} });
    try {
      const runs = await reopened.keel.store.listRuns({ limit: 10 });
      assert.equal(runs.length, 2);
      for (const run of runs) {
        assert.equal(run.status, 'failed', JSON.stringify(run));
        assert.match(run.reason ?? '', /stopped by keel-gateway: the gateway shut down before the answer was finished/);
      }
      // The stream was cut inside its model call, which the journal shows aborted and ended, billed
      // what the budget book booked for it, before the run's end.
      const { events } = await loadRun(reopened.keel.store, streamed.runId);
      assert.deepEqual(events.slice(-4).map((event) => event.type), ['model-attempt-end', 'step-end', 'human-decision', 'run-end']);
      const stepEnd = events.at(-3);
      assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
      assert.equal(stepEnd.data.cost?.micros, runs.find((run) => run.id === streamed.runId)?.costMicros);
    } finally {
      await reopened.close();
    }
  });
});
