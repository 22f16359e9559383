/**
 * callTool inside the real engine and store: what the journal shows, and what a resume does. The
 * engine is imported only here, by a test; the tools code itself knows the run context by shape.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defineTask, Engine } from '../engine/index.ts';
import type { RunContext, TaskDefinition } from '../engine/index.ts';
import { loadRun, verifyChain } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { ToolCallOutcome } from './index.ts';
import { callTool, SlidingWindowRateLimiter, ToolRegistry } from './index.ts';
import { executions, issueRefund, lookupOrder } from './testing/example-tools.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-tools-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const who = { principal: 'user:ada', tenant: 'acme' };
const registry = new ToolRegistry();
registry.register(lookupOrder);
registry.register({ ...issueRefund, rateLimit: { perTenant: { limit: 1, windowMs: 3_600_000 } } });

function engineWith(task: TaskDefinition): Engine {
  return new Engine({ store, tasks: [task], leaseMs: 5_000 });
}

test('denials and calls are journaled as steps, and the chain verifies', async () => {
  const rateLimiter = new SlidingWindowRateLimiter();
  const task = defineTask({
    name: 'tools-journal',
    version: '1',
    run: async (context: RunContext) => {
      const outcomes: ToolCallOutcome[] = [];
      const request = { registry, rateLimiter, run: context, grantedScopes: ['orders:read'] };
      outcomes.push(await callTool({ ...request, name: 'issue_refund', args: { orderId: 'A-1', amountCents: 100 } }));
      outcomes.push(await callTool({ ...request, name: 'lookup_order', args: { orderId: 'A-1' } }));
      return outcomes.map((outcome) => outcome.status);
    },
  });
  const outcome = await engineWith(task).start('tools-journal', null, who);
  assert.deepEqual(outcome.output, ['denied', 'ok']);
  const { events } = await loadRun(store, outcome.runId);
  const steps = events.flatMap((event) => (event.type === 'step-start' ? [[event.data.kind, event.data.name, event.data.idempotencyKey]] : []));
  assert.deepEqual(steps, [
    ['step', 'tool-decision:issue_refund', `${outcome.runId}:0:1`],
    ['step', 'tool-decision:lookup_order', `${outcome.runId}:0:2`],
    ['tool-call', 'lookup_order', `${outcome.runId}:0:3`],
  ]);
  const denial = events.find((event) => event.type === 'step-end' && event.data.step === 1);
  assert.equal(denial?.type === 'step-end' && denial.data.outcome.ok && (denial.data.outcome.value as { reason: string }).reason, 'scope-missing');
  assert.ok(verifyChain(await store.readJournal(outcome.runId)).ok);
});

test('a resume replays the journaled decision instead of asking the rate limiter again, and reuses the idempotency key', async () => {
  const rateLimiter = new SlidingWindowRateLimiter();
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (release = resolve));
  let crash = true;
  const task = defineTask({
    name: 'tools-resume',
    version: '1',
    run: async (context: RunContext) => {
      const refund = await callTool({ registry, rateLimiter, run: context, name: 'issue_refund', args: { orderId: 'A-5', amountCents: 100 }, grantedScopes: ['orders:read', 'payments:refund'] });
      await context.step('after-refund', async (info) => {
        if (crash) {
          release();
          await new Promise((_, reject) => info.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        }
        return null;
      }, { idempotent: true });
      return refund as unknown as JsonValue;
    },
  });
  const first = engineWith(task);
  const started = first.start('tools-resume', null, who).catch((error: unknown) => error);
  await reached;
  first.shutdown();
  await started;
  const [run] = await store.listRuns({ task: 'tools-resume', limit: 1 });
  await store.breakLease(run?.id ?? '', first.workerId);
  crash = false;
  executions.length = 0;
  const [resumed] = await engineWith(task).resumeAll();
  assert.ok(resumed !== undefined && 'status' in resumed);
  assert.equal(resumed.status, 'ok');
  // The per-tenant limit (1 an hour) was used by the first execution; a fresh decision would deny.
  assert.deepEqual(resumed.output, { status: 'ok', tool: 'issue_refund', version: '2.1.0', output: { refundId: 'refund-for-A-5', idempotencyKey: `${resumed.runId}:0:2` } });
  assert.equal(executions.length, 0, 'the refund did not run again');
});
