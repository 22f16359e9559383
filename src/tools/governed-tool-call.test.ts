import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { ToolAuthorizerV1, ToolCallOutcome, ToolCallRequest } from './index.ts';
import { callTool, SlidingWindowRateLimiter, ToolRegistry, toolResultPart } from './index.ts';
import { executions, issueRefund, lookupOrder, sendEmail, sloppyTool, stuckTool } from './testing/example-tools.ts';
import { RecordingRunContext } from './testing/recording-run-context.ts';

const allScopes = ['orders:read', 'payments:refund', 'email:send'];
let registry: ToolRegistry;
let clock: number;
let rateLimiter: SlidingWindowRateLimiter;

beforeEach(() => {
  registry = new ToolRegistry();
  for (const tool of [lookupOrder, issueRefund, sendEmail, stuckTool, sloppyTool]) registry.register(tool);
  clock = 1_000_000;
  rateLimiter = new SlidingWindowRateLimiter({ now: () => clock });
  executions.length = 0;
});

function call(run: RecordingRunContext, name: string, args: JsonValue, extra: Partial<ToolCallRequest> = {}): Promise<ToolCallOutcome> {
  return callTool({ registry, rateLimiter, run, name, args, grantedScopes: allScopes, ...extra });
}

function refund(amountCents: number, orderId = 'A-1'): JsonValue {
  return { orderId, amountCents };
}

test('an allowed call runs as a tool step, hands the tool that step’s idempotency key, and returns validated output', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'issue_refund', refund(2_500));
  assert.deepEqual(outcome, { status: 'ok', tool: 'issue_refund', version: '2.1.0', output: { refundId: 'refund-for-A-1', idempotencyKey: 'run-1:0:2' } });
  assert.deepEqual(
    run.steps.map((step) => [step.kind, step.name, step.idempotent]),
    [
      ['step', 'tool-decision:issue_refund', true],
      ['tool-call', 'issue_refund', true],
    ],
  );
  const [decision, toolStep] = run.steps;
  assert.deepEqual(decision?.outcome, { ok: true, value: { status: 'allowed', tool: 'issue_refund', version: '2.1.0', policyIds: [] } });
  assert.deepEqual(decision?.input, { tool: 'issue_refund', args: refund(2_500), grantedScopes: ['email:send', 'orders:read', 'payments:refund'] });
  assert.equal(toolStep?.idempotencyKey, 'run-1:0:2');
  assert.deepEqual(executions, [{ tool: 'issue_refund', args: refund(2_500), context: { runId: 'run-1', task: 'test-task', tenant: 'acme', principal: 'user:ada', idempotencyKey: 'run-1:0:2', attempt: 1 } }]);
});

test('only reads and tools that deduplicate on the key are marked safe to run again after a crash', async () => {
  const run = new RecordingRunContext();
  await call(run, 'lookup_order', { orderId: 'A-7' });
  await call(run, 'send_email', { to: 'ada@example.com', subject: 'Your refund' });
  const toolSteps = run.steps.filter((step) => step.kind === 'tool-call');
  assert.deepEqual(toolSteps.map((step) => [step.name, step.idempotent]), [['lookup_order', true], ['send_email', false]]);
});

test('an unknown tool is a journaled denial and nothing runs', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'drop_tables', { all: true });
  assert.equal(outcome.status, 'denied');
  assert.equal(outcome.status === 'denied' && outcome.reason, 'unknown-tool');
  assert.deepEqual(run.steps.map((step) => step.name), ['tool-decision:drop_tables']);
  assert.deepEqual(run.steps[0]?.outcome, { ok: true, value: outcome });
  const pinned = await call(run, 'lookup_order', { orderId: 'A-1' }, { version: '9' });
  assert.match(pinned.status === 'denied' ? pinned.message : '', /no version 9 \(registered: 1\.0\.0\)/);
});

test('a tool whose scopes are not all granted is denied, naming the missing ones', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'issue_refund', refund(100), { grantedScopes: ['orders:read'] });
  assert.deepEqual(outcome, {
    status: 'denied',
    tool: 'issue_refund',
    version: '2.1.0',
    reason: 'scope-missing',
    missingScopes: ['payments:refund'],
    message: 'tool issue_refund needs scopes not granted to this run: payments:refund',
  });
  assert.equal(executions.length, 0);
});

test('a policy deny is a denial with its policy ids; a policy that throws refuses too', async () => {
  const seen: JsonValue[] = [];
  const authorize: ToolAuthorizerV1 = (tool, args, context) => {
    seen.push(args);
    return context.tenant === 'acme' && tool.sideEffect === 'irreversible'
      ? { effect: 'deny', reason: 'acme agents may not move money', policyIds: ['policy-7'] }
      : { effect: 'allow', policyIds: ['policy-1'] };
  };
  const run = new RecordingRunContext();
  const denied = await call(run, 'issue_refund', { orderId: 'A-1', amountCents: 'lots' }, { authorize });
  assert.deepEqual(denied, { status: 'denied', tool: 'issue_refund', version: '2.1.0', reason: 'policy-denied', policyIds: ['policy-7'], message: 'acme agents may not move money' });
  assert.deepEqual(seen, [{ orderId: 'A-1', amountCents: 'lots' }], 'policies see the arguments as sent, before validation');
  const allowed = await call(new RecordingRunContext({ tenant: 'globex' }), 'issue_refund', refund(100), { authorize });
  assert.equal(allowed.status, 'ok');
  const broken = await call(run, 'lookup_order', { orderId: 'A-1' }, { authorize: () => { throw new Error('policy store offline'); } });
  assert.equal(broken.status === 'denied' && broken.reason, 'policy-denied');
  assert.match(broken.status === 'denied' ? broken.message : '', /policy store offline/);
});

test('malformed arguments come back as retryable validation errors the model can act on', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'issue_refund', { orderId: '', amountCents: 12.5, note: 'x' });
  assert.equal(outcome.status, 'arguments-invalid');
  if (outcome.status !== 'arguments-invalid') return;
  assert.equal(outcome.retryable, true);
  assert.deepEqual(
    outcome.validationErrors.map((error) => [error.path, error.code]),
    [
      ['$.orderId', 'too_small'],
      ['$.amountCents', 'invalid_type'],
      ['$', 'unrecognized_keys'],
    ],
  );
  const part = toolResultPart({ toolCallId: 'call-1', toolName: 'issue_refund' }, outcome);
  assert.equal(part.isError, true);
  assert.deepEqual((part.output as { validationErrors: unknown[] }).validationErrors, outcome.validationErrors);
  const notJson = await call(run, 'lookup_order', '{"orderId": "A-1"');
  assert.deepEqual(notJson.status === 'arguments-invalid' && notJson.validationErrors.map((error) => error.path), ['$']);
  assert.equal(executions.length, 0);
});

test('a violated constraint is a denial naming the constraint', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'issue_refund', refund(100, 'TEST-9'));
  assert.deepEqual(outcome, {
    status: 'denied',
    tool: 'issue_refund',
    version: '2.1.0',
    reason: 'constraint-violated',
    constraintId: 'no-test-orders',
    policyIds: [],
    message: 'constraint no-test-orders: test orders cannot be refunded',
  });
});

test('rate limits hold per tool and tenant: one tenant is limited while another is not, until the window slides', async () => {
  const acme = new RecordingRunContext({ tenant: 'acme' });
  const globex = new RecordingRunContext({ runId: 'run-2', tenant: 'globex' });
  assert.equal((await call(acme, 'issue_refund', refund(100))).status, 'ok');
  clock += 10_000;
  assert.equal((await call(acme, 'issue_refund', refund(200))).status, 'ok');
  const limited = await call(acme, 'issue_refund', refund(300));
  assert.equal(limited.status === 'denied' && limited.reason, 'rate-limited');
  assert.equal(limited.status === 'denied' && limited.retryAfterMs, 50_000, 'the oldest call leaves the window in 50 s');
  assert.equal((await call(globex, 'issue_refund', refund(100))).status, 'ok', 'another tenant has its own allowance');
  // The per-tool window (3 a minute across tenants) is now full as well.
  const toolWide = await call(globex, 'issue_refund', refund(100));
  assert.match(toolWide.status === 'denied' ? toolWide.message : '', /\(tool:issue_refund\)/);
  clock += 50_001;
  assert.equal((await call(acme, 'issue_refund', refund(400))).status, 'ok', 'the first call has left the window');
});

test('a refund above the threshold needs approval; below it or once approved, it runs', async () => {
  const run = new RecordingRunContext();
  const held = await call(run, 'issue_refund', refund(75_000));
  assert.deepEqual(held, { status: 'approval-required', tool: 'issue_refund', version: '2.1.0', reason: 'refund of 750.00 is above 500.00' });
  assert.equal(executions.length, 0);
  assert.equal((await call(run, 'issue_refund', refund(50_000))).status, 'ok');
  clock += 60_000; // a held call counts against the rate limit too; let the window pass
  const approved = await call(run, 'issue_refund', refund(75_000, 'A-2'), { approvedBy: 'user:lead' });
  assert.equal(approved.status, 'ok');
  const decision = run.steps.filter((step) => step.kind === 'step').at(-1);
  assert.deepEqual(decision?.outcome, {
    ok: true,
    value: { status: 'allowed', tool: 'issue_refund', version: '2.1.0', policyIds: [], approvedBy: 'user:lead', approvalReason: 'refund of 750.00 is above 500.00' },
  });
});

test('a tool that outlives its timeout fails the call, retryable because it only reads', async () => {
  const run = new RecordingRunContext();
  const started = Date.now();
  const outcome = await call(run, 'stuck_lookup', {});
  assert.ok(Date.now() - started < 1_000);
  assert.equal(outcome.status, 'failed');
  if (outcome.status !== 'failed') return;
  assert.equal(outcome.error.code, 'tool-timeout');
  assert.equal(outcome.error.retryable, true);
  assert.deepEqual(outcome.error.details, { reason: 'timeout', timeoutMs: 30 });
  assert.equal(run.steps.at(-1)?.outcome.ok, false, 'the tool step journals the failure');
});

test('output that breaks the tool’s schema is an error and is not passed on', async () => {
  const run = new RecordingRunContext();
  const outcome = await call(run, 'sloppy_lookup', {});
  assert.equal(outcome.status, 'failed');
  if (outcome.status !== 'failed') return;
  assert.equal(outcome.error.code, 'tool-output-invalid');
  assert.equal(outcome.error.details?.reason, 'output-invalid');
  assert.deepEqual((outcome.error.details?.validationErrors as { path: string }[]).map((error) => error.path), ['$.total']);
  assert.doesNotMatch(JSON.stringify(run.steps), /lots/, 'the invalid output reaches neither the model nor the journal');
});

test('failures of the run itself propagate instead of becoming outcomes', async () => {
  const run = new RecordingRunContext();
  const pending = call(run, 'stuck_lookup', {});
  run.abort(new KeelError('lease-lost', 'gone'));
  await assert.rejects(pending, (error: unknown) => error instanceof KeelError && error.code === 'lease-lost');
});

test('a tool declared with JSON Schema instead of zod is shown as written, checked on the way in and out, and governed the same', async () => {
  const results: JsonValue[] = [];
  registry.register({
    name: 'lookup_invoice',
    version: '1',
    owner: 'team-billing',
    description: 'Look up an invoice.',
    inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { invoiceId: { type: 'string', pattern: '^INV-\\d+$' } }, required: ['invoiceId'], additionalProperties: false },
    outputSchema: { type: 'object', properties: { total: { type: 'integer' } }, required: ['total'] },
    scopes: ['orders:read'],
    sideEffect: 'read',
    timeoutMs: 1_000,
    execute: () => results.shift() ?? null,
  });
  assert.deepEqual(registry.definitionsFor(['lookup_invoice'])[0]?.inputSchema, {
    type: 'object',
    properties: { invoiceId: { type: 'string', pattern: '^INV-\\d+$' } },
    required: ['invoiceId'],
    additionalProperties: false,
  });
  const invalid = await call(new RecordingRunContext(), 'lookup_invoice', { invoiceId: 'A-7', extra: 1 });
  assert.equal(invalid.status, 'arguments-invalid');
  assert.deepEqual(invalid.status === 'arguments-invalid' && invalid.validationErrors.map((error) => error.path).sort(), ['$', '$.invoiceId']);
  results.push({ total: 1250 });
  assert.deepEqual(await call(new RecordingRunContext(), 'lookup_invoice', { invoiceId: 'INV-7' }), { status: 'ok', tool: 'lookup_invoice', version: '1', output: { total: 1250 } });
  results.push({ total: 'a lot' });
  const wrong = await call(new RecordingRunContext(), 'lookup_invoice', { invoiceId: 'INV-7' });
  assert.equal(wrong.status === 'failed' && wrong.error.code, 'tool-output-invalid');
  const unscoped = await call(new RecordingRunContext(), 'lookup_invoice', { invoiceId: 'INV-7' }, { grantedScopes: [] });
  assert.equal(unscoped.status === 'denied' && unscoped.reason, 'scope-missing');
});
