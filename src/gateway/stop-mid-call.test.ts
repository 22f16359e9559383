/**
 * `keel stop` (Engine.stop, as the CLI and the admin API call it) of a gateway run whose model call
 * is in flight: the journal must bill that call what the budget book books for it, before the run's
 * end, so the run's cost and its scopes' spend agree and nothing is left reserved.
 */
import assert from 'node:assert/strict';
import type { ReadableStreamReadResult } from 'node:stream/web';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

const config = { version: 1 as const, routes: [], budgets: [{ scope: 'tenant' as const, micros: 1_000_000_000 }] };
const question = `Tell me everything about ${'parcels and their long journeys '.repeat(6)}`;

/** Reads the run's journal until `holds` is true of it (the gateway's engine writes it). */
async function journalOnceItHolds(served: TestGateway, runId: string, holds: (events: readonly JournalEvent[]) => boolean): Promise<readonly JournalEvent[]> {
  for (;;) {
    const { events } = await loadRun(served.gateway.keel.store, runId);
    if (holds(events)) return events;
    // Polling a condition the gateway makes true (pipelined events land within a flush); the test's timeout bounds it.
    await delay(10);
  }
}

/** The journal's cost for the run against the book's account of its tenant scope. */
async function agreement(served: TestGateway, runId: string) {
  const store = served.gateway.keel.store;
  const run = await served.run(runId);
  const { events } = await loadRun(store, runId);
  const account = await store.budgets?.readBudget(`tenant:${run.tenant}`);
  assert.ok(account !== undefined);
  return { run, events, account };
}

/** Sends a request; the response comes once the answer starts (a stream) or the run ends. */
function send(served: TestGateway, stream: boolean): { response: Promise<Response> } {
  return {
    response: fetch(`${served.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim:default', stream, max_tokens: 400, messages: [{ role: 'user', content: question }] }),
    }),
  };
}

describe('keel stop of a gateway run mid-call', () => {
  test('a stream cut by the stop: its step ends failed with the cost the book settled, before the run-end; journal == book, nothing reserved', { timeout: 60_000 }, async () => {
    // About 50 ms per word: the answer is still streaming long after the stop.
    const served = await startTestGateway({ config, simulator: { latency: { firstTokenMs: 0, perOutputTokenMs: 50, jitter: 0 } } });
    try {
      const { response } = send(served, true);
      const answer = await response;
      assert.equal(answer.status, 200, answer.status === 200 ? '' : await answer.text());
      const runId = answer.headers.get('keel-run-id');
      assert.ok(runId !== null);
      const reader = answer.body?.getReader();
      assert.ok(reader !== undefined);
      // The first words reached the client: the call is in flight, its reservation journaled.
      let received = '';
      while (!received.includes('"content"')) {
        const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
        assert.ok(!chunk.done, `the stream ended before its first words: ${received}`);
        received += new TextDecoder().decode(chunk.value);
      }
      const before = await journalOnceItHolds(served, runId, (events) => events.some((event) => event.type === 'budget-decision'));
      const decision = before.find((event) => event.type === 'budget-decision');
      assert.ok(decision?.type === 'budget-decision' && decision.data.outcome === 'reserved');
      const stopped = await served.gateway.keel.stop(runId, { by: 'user:operator', reason: 'runaway' });
      assert.equal(stopped.status, 'failed');
      await reader.cancel().catch(() => undefined);
      await served.gateway.settled();
      const { run, events, account } = await agreement(served, runId);
      assert.match(run.reason ?? '', /^stopped by user:operator: runaway/);
      const types = events.map((event) => event.type);
      const stepEnd = events.find((event) => event.type === 'step-end');
      assert.ok(stepEnd?.type === 'step-end', `the call in flight has a step-end: ${types.join(', ')}`);
      assert.equal(stepEnd.data.outcome.ok, false);
      assert.ok(types.indexOf('step-end') < types.indexOf('run-end'));
      assert.equal(stepEnd.data.cost?.micros, decision.data.reservedMicros, 'a stream cut short is billed its reservation, as the governed path settles it');
      assert.deepEqual({ journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: decision.data.reservedMicros, spent: decision.data.reservedMicros, reserved: 0 });
    } finally {
      await served.close();
    }
  });

  test('a call that has not answered (a hang): its step ends failed billed its reservation, as the book booked it, before the run-end; journal == book, nothing reserved', { timeout: 60_000 }, async () => {
    const served = await startTestGateway({ config, simulator: { faults: [{ on: { calls: [1] }, fault: { type: 'timeout' } }] } });
    try {
      const { response } = send(served, false);
      const runId = await theRunOnceItExists(served);
      const before = await journalOnceItHolds(served, runId, (events) => events.some((event) => event.type === 'budget-decision'));
      const decision = before.find((event) => event.type === 'budget-decision');
      assert.ok(decision?.type === 'budget-decision' && decision.data.outcome === 'reserved');
      const stopped = await served.gateway.keel.stop(runId, { by: 'user:operator', reason: 'hung' });
      assert.equal(stopped.status, 'failed');
      await (await response).text();
      await served.gateway.settled();
      const { run, events, account } = await agreement(served, runId);
      const types = events.map((event) => event.type);
      const stepEnd = events.find((event) => event.type === 'step-end');
      assert.ok(stepEnd?.type === 'step-end', `the call in flight has a step-end: ${types.join(', ')}`);
      assert.equal(stepEnd.data.outcome.ok, false);
      assert.ok(types.indexOf('step-end') < types.indexOf('run-end'));
      // With no usage to go by, the governed call settled the call the stop cut at its reservation (the
      // provider may have generated all of it); the journal bills what the book booked.
      const reserved = decision.data.reservedMicros;
      assert.ok(reserved > 0);
      assert.equal(stepEnd.data.cost?.micros, reserved);
      assert.match(stepEnd.data.outcome.ok ? '' : stepEnd.data.outcome.error.message, new RegExp(`^stopped by user:operator while the call was in flight; billed what the budget book settled it at, ${reserved} micro-USD$`));
      assert.deepEqual({ journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved, spent: reserved, reserved: 0 });
    } finally {
      await served.close();
    }
  });
});

/** The one gateway run of a fresh gateway, once it exists. */
async function theRunOnceItExists(served: TestGateway): Promise<string> {
  for (;;) {
    const [run] = await served.gateway.keel.store.listRuns({ limit: 1 });
    if (run !== undefined) return run.id;
    await delay(10);
  }
}
