import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadRun } from '../journal/index.ts';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// Slow enough that a client leaving after the first chunk leaves well before the answer ends:
// about 25 ms per word, some 40 words.
const latency = { firstTokenMs: 0, perOutputTokenMs: 12, jitter: 0 };
const config = { version: 1 as const, routes: [], budgets: [{ scope: 'tenant' as const, micros: 1_000_000_000 }] };
const question = `Tell me everything about ${'parcels and their long journeys '.repeat(6)}`;

/** Streams a question, reads the first content chunk, then disconnects; returns the run's id. */
async function leaveAfterFirstChunk(served: TestGateway): Promise<string> {
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions.create({ model: 'sim:default', stream: true, messages: [{ role: 'user', content: question }] }).withResponse();
  for await (const chunk of stream) {
    if ((chunk.choices[0]?.delta.content ?? '') !== '') break;
  }
  // `break` aborted the request: the connection is gone while the upstream is still answering.
  const runId = response.headers.get('keel-run-id');
  assert.ok(runId !== null);
  return runId;
}

describe('a client that disconnects mid-stream', () => {
  test('is settled from the usage the upstream reports, read to its end after the client left', async () => {
    const served = await startTestGateway({ config, simulator: { latency } });
    try {
      const runId = await leaveAfterFirstChunk(served);
      await served.gateway.settled();
      const run = await served.run(runId);
      assert.equal(run.status, 'ok');
      assert.ok(run.outputTokens > 40, `the whole answer was read: ${run.outputTokens} output tokens`);
      assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: run.outputTokens }));
    } finally {
      await served.close();
    }
  });

  test('past the drain limit, the stream is cut and billed its reservation, never zero', async () => {
    const served = await startTestGateway({ config, simulator: { latency }, drainMs: 0 });
    try {
      const runId = await leaveAfterFirstChunk(served);
      await served.gateway.settled();
      const run = await served.run(runId);
      assert.equal(run.status, 'failed');
      assert.match(run.reason ?? '', /client disconnected/);
      const { events } = await loadRun(served.gateway.keel.store, runId);
      const reservation = events.find((event) => event.type === 'budget-decision');
      assert.ok(reservation?.type === 'budget-decision' && reservation.data.outcome === 'reserved');
      assert.ok(reservation.data.reservedMicros > 0);
      assert.equal(run.costMicros, reservation.data.reservedMicros);
    } finally {
      await served.close();
    }
  });
});
