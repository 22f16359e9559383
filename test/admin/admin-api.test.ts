/**
 * The admin API of a real gateway over HTTP, every endpoint called and every answer (status and
 * body) validated against the OpenAPI 3.1 document the server itself serves, with a JSON Schema
 * 2020-12 validator. The runs are the demo's (examples/support-refund) on the same store; a worker
 * serving the demo's task continues what the API approves or denies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { demoRequests, PaymentsLedger, runDemo, supportRefundAgent, supportRefundTask } from '../../examples/support-refund/index.ts';
import type { Keel } from '../../src/agent/index.ts';
import { createKeel } from '../../src/agent/index.ts';
import type { Gateway, ListeningGateway } from '../../src/gateway/index.ts';
import { createGateway, listenGateway } from '../../src/gateway/index.ts';
import { genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const token = 'admin-test-token-0123456789abcdef';
const folder = mkdtempSync(join(tmpdir(), 'keel-admin-api-'));

interface OpenApiOperation {
  operationId: string;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { responses: Record<string, { content: Record<string, { schema: unknown }> }> };
}

let store: StoreV1;
let payments: PaymentsLedger;
let demo: Keel;
let gateway: Gateway;
let server: ListeningGateway;
let document: OpenApiDocument;
let ajv: Ajv2020;
/** operationId → the statuses this test has seen it answer, each validated. */
const seen = new Map<string, Set<number>>();
let demoRunIds: string[] = [];

function operation(operationId: string): OpenApiOperation {
  for (const methods of Object.values(document.paths)) for (const candidate of Object.values(methods)) if (candidate.operationId === operationId) return candidate;
  throw new Error(`the OpenAPI document has no operation ${operationId}`);
}

/** The JSON schema the document gives an operation's answer with this status (following a response $ref). */
function responsePointer(operationId: string, status: number): string {
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, candidate] of Object.entries(methods)) {
      if (candidate.operationId !== operationId) continue;
      const response = candidate.responses[String(status)];
      assert.ok(response !== undefined, `${operationId} answered ${status}, which the OpenAPI document does not list (it lists ${Object.keys(candidate.responses).join(', ')})`);
      if (response.$ref !== undefined) return `${response.$ref}/content/application~1json/schema`;
      return `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;
    }
  }
  throw new Error(`no operation ${operationId}`);
}

/** Calls the server, checks the answer against the document, and returns its body. */
async function call(operationId: string, method: string, path: string, options: { body?: unknown; token?: string | null; expect: number }): Promise<Record<string, unknown>> {
  operation(operationId);
  const headers: Record<string, string> = {};
  const bearer = options.token === undefined ? token : options.token;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }) });
  const text = await response.text();
  assert.equal(response.status, options.expect, `${method} ${path}: ${text.slice(0, 300)}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  const validate = ajv.getSchema(`https://keel.invalid/admin-openapi.json${responsePointer(operationId, response.status)}`);
  assert.ok(validate !== undefined);
  assert.ok(validate(body), `${operationId} ${response.status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
  if (!seen.has(operationId)) seen.set(operationId, new Set());
  seen.get(operationId)?.add(response.status);
  return body;
}

/** Runs the demo's task to the end of whatever is queued (what `keel worker` does). */
async function workQueue(): Promise<void> {
  await demo.work({ untilDrained: true, pollMs: 10 });
}

before(async () => {
  store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  payments = new PaymentsLedger(join(folder, 'payments.db'));
  demo = await createKeel({ store, agents: [supportRefundAgent({ payments })] });
  demoRunIds = (await runDemo(demo)).map((run) => run.id);
  gateway = await createGateway({ store, adminToken: token });
  server = await listenGateway(gateway, { port: 0, host: '127.0.0.1' });
  const served = await fetch(`${server.url}/admin/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  document = (await served.json()) as OpenApiDocument;
  // The document served is the one shipped beside the module.
  assert.deepEqual(document, JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'src', 'gateway', 'admin', 'admin-openapi.json'), 'utf8')));
  ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addFormat('date-time', (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) && !Number.isNaN(Date.parse(value)));
  ajv.addSchema(document, 'https://keel.invalid/admin-openapi.json');
});

after(async () => {
  await server.close({ graceMs: 1_000 });
  await demo.close();
  payments.close();
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('the admin API against its OpenAPI document', () => {
  test('the document is OpenAPI 3.1, served to a client with the token', async () => {
    assert.equal(document.openapi, '3.1.0');
    assert.ok(ajv.getSchema('https://keel.invalid/admin-openapi.json#/components/schemas/Run') !== undefined);
    await call('getOpenApi', 'GET', '/admin/openapi.json', { expect: 200 });
  });

  test('without the admin token, or with another, every endpoint answers 401 and changes nothing', async () => {
    const waitingId = demoRunIds[2] ?? '';
    const wrongTokens = [null, `${token}x`, token.slice(0, -1), '', 'Basic abc'];
    let index = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, candidate] of Object.entries(methods)) {
        const wrong = wrongTokens[index % wrongTokens.length] ?? null;
        index += 1;
        const body = await call(candidate.operationId, method.toUpperCase(), path.replace('{id}', waitingId), { token: wrong, expect: 401, ...(method === 'post' ? { body: { as: 'mallory', reason: 'x' } } : {}) });
        assert.equal((body.error as { code: string }).code, 'admin-token-invalid');
      }
    }
    assert.equal((await store.getRun(waitingId))?.status, 'waiting');
  });

  test('runs: listed newest first, filtered by status, task and tenant, paged by cursor to the last run', async () => {
    const all = await call('listRuns', 'GET', '/admin/runs', { expect: 200 });
    const runs = all.runs as { id: string; status: string; tenant: string; createdAt: string }[];
    assert.deepEqual(new Set(runs.map((run) => run.id)), new Set(demoRunIds));
    assert.equal(all.next, null);
    const waiting = await call('listRuns', 'GET', '/admin/runs?status=waiting', { expect: 200 });
    assert.deepEqual((waiting.runs as { id: string }[]).map((run) => run.id), [demoRunIds[2]]);
    const ended = await call('listRuns', 'GET', '/admin/runs?status=ok,failed&task=support-refund', { expect: 200 });
    assert.equal((ended.runs as unknown[]).length, 3);
    const otherTenant = await call('listRuns', 'GET', '/admin/runs?tenant=nobody', { expect: 200 });
    assert.deepEqual(otherTenant, { runs: [], next: null });
    const tenant = runs[0]?.tenant ?? '';
    const byTenant = await call('listRuns', 'GET', `/admin/runs?tenant=${encodeURIComponent(tenant)}&limit=2`, { expect: 200 });
    assert.equal((byTenant.runs as unknown[]).length, 2);
    // Two at a time, the cursor walks every run once, in the same order as one page.
    const walked: string[] = [];
    let next: string | null = null;
    do {
      const page = await call('listRuns', 'GET', `/admin/runs?limit=2${next === null ? '' : `&after=${next}`}`, { expect: 200 });
      walked.push(...(page.runs as { id: string }[]).map((run) => run.id));
      next = page.next as string | null;
    } while (next !== null);
    assert.deepEqual(walked, runs.map((run) => run.id));
  });

  test('runs: a bad filter, limit or cursor is a 400 naming it', async () => {
    const cases: [string, RegExp][] = [
      ['/admin/runs?status=done', /status must be one or more/],
      ['/admin/runs?limit=0', /limit must be a whole number from 1 to 500/],
      ['/admin/runs?limit=501', /limit must be/],
      ['/admin/runs?after=not-a-cursor', /after must be the `next` cursor/],
      ['/admin/runs?sort=asc', /unknown query parameter "sort"/],
    ];
    for (const [path, message] of cases) {
      const body = await call('listRuns', 'GET', path, { expect: 400 });
      assert.equal((body.error as { code: string }).code, 'usage-invalid');
      assert.match((body.error as { message: string }).message, message);
    }
  });

  test('a run, its journal with the chain verified, and the escalation queue with what the run waits for', async () => {
    const waitingId = demoRunIds[2] ?? '';
    const detail = await call('getRun', 'GET', `/admin/runs/${waitingId}`, { expect: 200 });
    const approval = detail.approval as { id: string; reason: string; details: { tool: string } };
    assert.equal(approval.id.split(':')[0], waitingId);
    assert.equal(approval.details.tool, 'issue_refund');
    assert.match(approval.reason, /exceeds the \$500\.00 auto-approval limit/);
    const ended = await call('getRun', 'GET', `/admin/runs/${demoRunIds[0]}`, { expect: 200 });
    assert.equal(ended.approval, null);
    const journal = await call('getRunJournal', 'GET', `/admin/runs/${demoRunIds[0]}/journal`, { expect: 200 });
    const events = journal.events as { type: string; seq: number }[];
    assert.deepEqual(journal.chain, { ok: true, events: events.length, lastHash: (journal.events as { hash: string }[]).at(-1)?.hash });
    assert.equal(events[0]?.type, 'run-start');
    assert.equal(events.at(-1)?.type, 'run-end');
    assert.deepEqual((await store.readJournal(demoRunIds[0] ?? '')).length, events.length);
    const queue = await call('listEscalations', 'GET', '/admin/escalations', { expect: 200 });
    assert.deepEqual((queue.escalations as { run: { id: string }; approval: unknown }[]).map((item) => [item.run.id, item.approval]), [[waitingId, detail.approval]]);
    for (const path of ['/admin/runs/run_nope', '/admin/runs/run_nope/journal']) {
      const missing = await call(path.endsWith('journal') ? 'getRunJournal' : 'getRun', 'GET', path, { expect: 404 });
      assert.equal((missing.error as { code: string }).code, 'run-not-found');
    }
  });

  test('a journal whose chain was altered is still shown, flagged where it breaks', async () => {
    const runId = demoRunIds[1] ?? '';
    // Tampering with the stored journal directly, as someone with the database file would.
    const raw = new DatabaseSync(store.location);
    try {
      const changed = raw.prepare(`UPDATE journal SET data = replace(data, 'A-1002', 'A-9999') WHERE run_key = (SELECT key FROM runs WHERE id = ?) AND seq = 1`).run(runId);
      assert.equal(changed.changes, 1);
    } finally {
      raw.close();
    }
    const journal = await call('getRunJournal', 'GET', `/admin/runs/${runId}/journal`, { expect: 200 });
    const chain = journal.chain as { ok: boolean; seq: number; problem: string };
    assert.equal(chain.ok, false);
    assert.equal(chain.seq, 1);
    assert.match(chain.problem, /does not match its hash/);
  });

  test('approve: journaled under the name given, the run queued for a worker serving its task, which takes it to ok', async () => {
    const runId = demoRunIds[2] ?? '';
    const missingName = await call('approveRun', 'POST', `/admin/runs/${runId}/approve`, { body: {}, expect: 400 });
    assert.match((missingName.error as { message: string }).message, /as is required/);
    const extra = await call('approveRun', 'POST', `/admin/runs/${runId}/approve`, { body: { as: 'dana', amount: 1 }, expect: 400 });
    assert.match((extra.error as { message: string }).message, /unknown field "amount"/);
    await call('approveRun', 'POST', `/admin/runs/${runId}/approve`, { body: '{"as":', expect: 400 });
    await call('approveRun', 'POST', '/admin/runs/run_nope/approve', { body: { as: 'dana' }, expect: 404 });
    const approved = await call('approveRun', 'POST', `/admin/runs/${runId}/approve`, { body: { as: 'dana', reason: 'damaged on arrival, photos attached' }, expect: 200 });
    assert.deepEqual(approved.decision, { runId, decision: 'approve', decider: 'user:dana', reason: 'damaged on arrival, photos attached' });
    // The gateway does not serve support-refund: the run waits, queued, for a worker that does.
    assert.equal(approved.continued, 'queued-for-a-worker');
    assert.equal((approved.run as { status: string }).status, 'queued');
    const again = await call('approveRun', 'POST', `/admin/runs/${runId}/approve`, { body: { as: 'eve' }, expect: 409 });
    assert.equal((again.error as { code: string }).code, 'run-not-waiting');
    assert.ok(!payments.refunds().some((refund) => refund.orderId === 'A-1003'));
    await workQueue();
    const after = await call('getRun', 'GET', `/admin/runs/${runId}`, { expect: 200 });
    assert.equal((after.run as { status: string }).status, 'ok');
    assert.deepEqual(payments.refunds().filter((refund) => refund.orderId === 'A-1003').map((refund) => refund.amountCents), [125_000]);
    const journal = await call('getRunJournal', 'GET', `/admin/runs/${runId}/journal`, { expect: 200 });
    const decision = (journal.events as { type: string; data: Record<string, unknown> }[]).find((event) => event.type === 'human-decision');
    assert.deepEqual(decision?.data, { decision: 'approve', decider: 'user:dana', reason: 'damaged on arrival, photos attached', requestId: `${runId}:${decision?.data.step as number}`, step: decision?.data.step });
    assert.deepEqual((await call('listEscalations', 'GET', '/admin/escalations', { expect: 200 })).escalations, []);
  });

  test('deny: needs a reason; the run goes on with the denial, and no refund is paid', async () => {
    const lena = demoRequests[2];
    assert.ok(lena !== undefined);
    const outcome = await demo.run(supportRefundTask, { message: lena.message }, { principal: lena.customer, tenant: 'acme-shop' });
    assert.equal(outcome.status, 'waiting');
    const noReason = await call('denyRun', 'POST', `/admin/runs/${outcome.runId}/deny`, { body: { as: 'team:support' }, expect: 400 });
    assert.match((noReason.error as { message: string }).message, /reason is required/);
    const refundsBefore = payments.refunds().length;
    const denied = await call('denyRun', 'POST', `/admin/runs/${outcome.runId}/deny`, { body: { as: 'team:support', reason: 'duplicate of an approved refund' }, expect: 200 });
    assert.deepEqual(denied.decision, { runId: outcome.runId, decision: 'deny', decider: 'team:support', reason: 'duplicate of an approved refund' });
    await workQueue();
    const run = await store.getRun(outcome.runId);
    assert.ok(run !== undefined && ['ok', 'degraded', 'escalated', 'failed'].includes(run.status), run?.status);
    assert.equal(payments.refunds().length, refundsBefore);
    await call('denyRun', 'POST', `/admin/runs/${outcome.runId}/deny`, { body: { as: 'dana', reason: 'late' }, expect: 409 });
    await call('denyRun', 'POST', '/admin/runs/run_nope/deny', { body: { as: 'dana', reason: 'x' }, expect: 404 });
  });

  test('stop: a queued run ends failed, stopped, under the name given; an ended run is left as it was', async () => {
    const queued = await demo.enqueue(supportRefundTask, { message: 'Refund order A-1001 please.' }, { principal: 'user:maya', tenant: 'acme-shop' });
    await call('stopRun', 'POST', `/admin/runs/${queued}/stop`, { body: { reason: 'no name' }, expect: 400 });
    const stopped = await call('stopRun', 'POST', `/admin/runs/${queued}/stop`, { body: { as: 'dana', reason: 'customer withdrew the request' }, expect: 200 });
    assert.equal(stopped.alreadyEnded, false);
    assert.equal(stopped.stopped, true);
    const run = stopped.run as { status: string; reason: string; stopRequested: { by: string; reason: string } };
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.stopRequested, { by: 'user:dana', reason: 'customer withdrew the request' });
    const ended = await call('stopRun', 'POST', `/admin/runs/${demoRunIds[0]}/stop`, { body: { as: 'dana' }, expect: 200 });
    assert.equal(ended.alreadyEnded, true);
    assert.equal((ended.run as { status: string }).status, 'ok');
    await call('stopRun', 'POST', '/admin/runs/run_nope/stop', { body: { as: 'dana' }, expect: 404 });
  });

  test('keys: created with their limits (the secret once, working at once on the gateway), listed without secrets, revoked', async () => {
    await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme', principal: 'svc:bot', budget: { micros: 0, per: 'day' } }, expect: 400 });
    await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme' }, expect: 400 });
    await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'bad tenant!', principal: 'svc:bot' }, expect: 400 });
    await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme', principal: 'svc:bot', expiresAt: '2020-01-01T00:00:00.000Z' }, expect: 400 });
    await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme', principal: 'svc:bot', expiresAt: 20300101 }, expect: 400 });
    const created = await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme', principal: 'svc:bot', models: ['sim:default'], budget: { micros: 2_000_000, per: 'day' }, rpm: 60 }, expect: 201 });
    const key = created.key as { keyId: string; settings: unknown; revokedAt: null };
    assert.deepEqual(key.settings, { models: ['sim:default'], budget: { micros: 2_000_000, per: 'day' }, rpm: 60 });
    const secret = created.secret as string;
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const unbudgeted = (await call('createKey', 'POST', '/admin/keys', { body: { tenant: 'acme', principal: 'svc:reader', expiresAt }, expect: 201 })).key as { keyId: string; settings: unknown };
    assert.deepEqual(unbudgeted.settings, { models: [], expiresAt });
    const fresh = await call('listKeys', 'GET', '/admin/keys', { expect: 200 });
    // The period is the UTC day of the listing: a test run across midnight may see either day.
    const days = [new Date().toISOString().slice(0, 10)];
    const usageOf = (listed: Record<string, unknown>, keyId: string) => {
      const usage = (listed.keys as { keyId: string; usage: { period?: string } | null }[]).find((item) => item.keyId === keyId)?.usage;
      days.push(new Date().toISOString().slice(0, 10));
      if (usage?.period !== undefined) assert.ok(days.includes(usage.period), `period ${usage.period}, days ${days.join(', ')}`);
      return usage === null || usage === undefined ? usage : { ...usage, period: 'today' };
    };
    assert.deepEqual(usageOf(fresh, key.keyId), { window: 'day', period: 'today', limitMicros: 2_000_000, spentMicros: 0, reservedMicros: 0, remainingMicros: 2_000_000 });
    assert.equal(usageOf(fresh, unbudgeted.keyId), null, 'a key without a budget has no account in the book');
    // The store now holds a key, so the model API requires one; the admin API keeps its own token.
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, 200);
    // A call on the key is what the list then says it spent: the run's cost, to the micro-dollar.
    const answered = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: 'Where is my order?' }] }),
    });
    assert.equal(answered.status, 200, await answered.clone().text());
    await answered.text();
    const spentRun = await store.getRun(answered.headers.get('keel-run-id') ?? '');
    assert.ok(spentRun !== undefined && spentRun.costMicros > 0, 'the call was billed');
    const list = await call('listKeys', 'GET', '/admin/keys', { expect: 200 });
    assert.deepEqual((list.keys as { keyId: string }[]).map((item) => item.keyId), [key.keyId, unbudgeted.keyId]);
    assert.ok(!JSON.stringify(list).includes(secret));
    assert.deepEqual(usageOf(list, key.keyId), {
      window: 'day',
      period: 'today',
      limitMicros: 2_000_000,
      spentMicros: spentRun.costMicros,
      reservedMicros: 0,
      remainingMicros: 2_000_000 - spentRun.costMicros,
    });
    // A new secret for the same key: the old one is refused from now on, its spend stays the key's.
    const rotated = await call('rotateKey', 'POST', `/admin/keys/${key.keyId}/rotate`, { expect: 200 });
    const newSecret = rotated.secret as string;
    assert.notEqual(newSecret, secret);
    assert.equal((rotated.key as { keyId: string }).keyId, key.keyId);
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, 401, 'the old secret is refused');
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${newSecret}` } })).status, 200);
    assert.equal(usageOf(await call('listKeys', 'GET', '/admin/keys', { expect: 200 }), key.keyId) !== null, true, 'the key keeps its budget account');
    const revoked = await call('revokeKey', 'POST', `/admin/keys/${key.keyId}/revoke`, { expect: 200 });
    assert.match((revoked.key as { revokedAt: string }).revokedAt, /^\d{4}-/);
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${newSecret}` } })).status, 401);
    await call('rotateKey', 'POST', `/admin/keys/${key.keyId}/rotate`, { expect: 404 });
    const unknown = await call('revokeKey', 'POST', '/admin/keys/key_000000000000/revoke', { expect: 404 });
    assert.equal((unknown.error as { code: string }).code, 'key-not-found');
    await call('listRuns', 'GET', '/admin/runs?limit=1', { expect: 200 });
  });

  test('spend: what runs created this month spent, by task, principal or tenant, as the run index says; a bad grouping or period is a 400', async () => {
    const report = await call('getSpend', 'GET', '/admin/spend?by=task', { expect: 200 });
    const runs = await store.listRuns({ limit: 10_000 });
    const since = Date.parse(report.since as string);
    const until = Date.parse(report.until as string);
    const expected = new Map<string, { runs: number; costMicros: number }>();
    for (const run of runs.filter((candidate) => Date.parse(candidate.createdAt) >= since && Date.parse(candidate.createdAt) < until)) {
      const group = expected.get(run.task) ?? { runs: 0, costMicros: 0 };
      group.runs += 1;
      group.costMicros += run.costMicros;
      expected.set(run.task, group);
    }
    const rows = report.rows as { group: string; runs: number; costMicros: number }[];
    assert.ok(rows.length > 0, 'this file made runs this month');
    assert.deepEqual(new Map(rows.map((row) => [row.group, { runs: row.runs, costMicros: row.costMicros }])), expected);
    assert.deepEqual(rows.map((row) => row.costMicros), rows.map((row) => row.costMicros).toSorted((left, right) => right - left), 'most costly first');
    assert.equal((report.total as { runs: number }).runs, [...expected.values()].reduce((sum, group) => sum + group.runs, 0));
    const byTenant = await call('getSpend', 'GET', `/admin/spend?by=tenant&since=${encodeURIComponent(report.since as string)}&until=${encodeURIComponent(report.until as string)}`, { expect: 200 });
    assert.equal((byTenant.total as { costMicros: number }).costMicros, (report.total as { costMicros: number }).costMicros, 'the same period, grouped otherwise, spent the same');
    await call('getSpend', 'GET', '/admin/spend?by=key', { expect: 400 });
    await call('getSpend', 'GET', '/admin/spend?since=last-tuesday', { expect: 400 });
  });

  test('spend by tag:NAME: a group per value of the tag, the runs without it as group null, as the run index says; a bad tag name is a 400', async () => {
    const tagged = [];
    for (const project of ['search', 'ads', 'search']) tagged.push(await demo.run(supportRefundTask, { message: 'Where is my order A-1001?' }, { principal: 'user:ada', tenant: 'acme-shop', tags: { project } }));
    const report = await call('getSpend', 'GET', '/admin/spend?by=tag:project', { expect: 200 });
    assert.equal(report.by, 'tag');
    assert.equal(report.tag, 'project');
    const since = Date.parse(report.since as string);
    const until = Date.parse(report.until as string);
    const expected = new Map<string | null, { runs: number; costMicros: number }>();
    for (const run of (await store.listRuns({ limit: 10_000 })).filter((candidate) => Date.parse(candidate.createdAt) >= since && Date.parse(candidate.createdAt) < until)) {
      const value = run.tags?.project ?? null;
      const group = expected.get(value) ?? { runs: 0, costMicros: 0 };
      group.runs += 1;
      group.costMicros += run.costMicros;
      expected.set(value, group);
    }
    const rows = report.rows as { group: string | null; runs: number; costMicros: number }[];
    assert.deepEqual(new Map(rows.map((row) => [row.group, { runs: row.runs, costMicros: row.costMicros }])), expected);
    assert.deepEqual([...expected.keys()].toSorted(), ['ads', 'search', null].toSorted(), 'both projects and the runs without one');
    assert.equal(expected.get('search')?.runs, 2);
    assert.deepEqual(
      tagged.map((outcome) => outcome.runId).toSorted(),
      (await store.listRuns({ limit: 10_000 })).filter((run) => run.tags?.project !== undefined).map((run) => run.id).toSorted(),
    );
    const byTask = await call('getSpend', 'GET', `/admin/spend?by=task&since=${encodeURIComponent(report.since as string)}&until=${encodeURIComponent(report.until as string)}`, { expect: 200 });
    assert.deepEqual(report.total, byTask.total, 'every run of the period counted once');
    const refused = await call('getSpend', 'GET', `/admin/spend?by=${encodeURIComponent('tag:bad name')}`, { expect: 400 });
    assert.match((refused.error as { message: string }).message, /by tag needs the tag's name/);
    await call('getSpend', 'GET', '/admin/spend?by=tag:', { expect: 400 });
  });

  test('runs by tag: tag=NAME=VALUE, repeatable, lists the runs carrying every tag given, with the other filters and page by page; a bad tag is a 400', async () => {
    // Values of this test's own, so the runs of the other tests carry none of them.
    const project = `search-${randomUUID()}`;
    const core = `core-${randomUUID()}`;
    const created: string[] = [];
    for (const tags of [{ project, team: core }, { project }, { project, team: core }, { project: `${project}-other`, team: core }]) {
      created.push((await demo.run(supportRefundTask, { message: 'Where is my order A-1001?' }, { principal: 'user:ada', tenant: 'acme-shop', tags })).runId);
    }
    // What the run index holds, in its order: the API must list exactly these.
    const everyRun = await store.listRuns({ limit: 10_000 });
    const carrying = (tags: Record<string, string>) => everyRun.filter((run) => Object.entries(tags).every(([name, value]) => run.tags?.[name] === value)).map((run) => run.id);
    const ids = (page: Record<string, unknown>) => (page.runs as { id: string }[]).map((run) => run.id);
    const tag = (name: string, value: string) => `tag=${encodeURIComponent(`${name}=${value}`)}`;

    const byProject = await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}`, { expect: 200 });
    assert.deepEqual(ids(byProject), carrying({ project }));
    assert.deepEqual(new Set(ids(byProject)), new Set(created.slice(0, 3)));
    assert.deepEqual((byProject.runs as { tags?: Record<string, string> }[]).map((run) => run.tags?.project), [project, project, project]);
    assert.equal(byProject.next, null);
    // The = inside the value need not be encoded.
    assert.deepEqual(ids(await call('listRuns', 'GET', `/admin/runs?tag=project=${project}`, { expect: 200 })), ids(byProject));
    const both = await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}&${tag('team', core)}`, { expect: 200 });
    assert.deepEqual(ids(both), carrying({ project, team: core }));
    assert.deepEqual(new Set(ids(both)), new Set([created[0], created[2]]));
    assert.deepEqual(await call('listRuns', 'GET', `/admin/runs?${tag('project', `${project}-missing`)}`, { expect: 200 }), { runs: [], next: null });

    // With the other filters: the demo's runs of this request end ok.
    const statuses = new Set(everyRun.filter((run) => created.includes(run.id)).map((run) => run.status));
    assert.deepEqual(statuses, new Set(['ok']));
    assert.deepEqual(ids(await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}&status=ok&task=support-refund&tenant=acme-shop`, { expect: 200 })), ids(byProject));
    assert.deepEqual(ids(await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}&status=waiting,failed`, { expect: 200 })), []);
    assert.deepEqual(ids(await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}&tenant=nobody`, { expect: 200 })), []);
    // One at a time, the cursor walks the project's runs once, in the same order as one page.
    const walked: string[] = [];
    let next: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page: Record<string, unknown> = await call('listRuns', 'GET', `/admin/runs?${tag('project', project)}&limit=1${next === null ? '' : `&after=${next}`}`, { expect: 200 });
      walked.push(...ids(page));
      next = page.next as string | null;
      if (next === null) break;
    }
    assert.deepEqual(walked, ids(byProject));

    const refused: [string, RegExp][] = [
      ['tag=project', /tag must be NAME=VALUE, such as project=search; got "project"/],
      [tag('bad name', 'x'), /tag "bad name=x": tag name "bad name" must be 1 to 64 letters/],
      [tag('project', ''), /tag "project=": tag project is empty/],
      [`${tag('project', 'a')}&${tag('project', 'b')}`, /tag names tag project twice/],
    ];
    for (const [query, message] of refused) {
      const body = await call('listRuns', 'GET', `/admin/runs?${query}`, { expect: 400 });
      assert.equal((body.error as { code: string }).code, 'usage-invalid');
      assert.match((body.error as { message: string }).message, message);
    }
  });

  test('runs by creation time: since and until list the runs created in [since, until), with the other filters and page by page; a bad period is a 400', async () => {
    // Runs of this test's own, created at known times (their run-start's time becomes created_at),
    // in a week no other test creates runs in; each ended, so no worker claims it.
    const unique = randomUUID();
    const task = `period-${unique}`;
    const project = `search-${unique}`;
    const at = (hours: number, milliseconds = 0) => new Date(Date.parse('2003-03-03T00:00:00.000Z') + hours * 3_600_000 + milliseconds).toISOString();
    const specs: { hours: number; milliseconds?: number; status: 'ok' | 'failed'; tenant: string; tags?: Record<string, string> }[] = [
      { hours: 0, milliseconds: -1, status: 'failed', tenant: 'acme', tags: { project } },
      { hours: 0, status: 'failed', tenant: 'acme', tags: { project } },
      { hours: 10, status: 'ok', tenant: 'acme', tags: { project } },
      { hours: 20, status: 'failed', tenant: 'globex', tags: { project } },
      { hours: 30, status: 'failed', tenant: 'acme' },
      { hours: 40, status: 'failed', tenant: 'acme', tags: { project } },
      { hours: 168, status: 'failed', tenant: 'acme', tags: { project } },
    ];
    const created: string[] = [];
    for (const spec of specs) {
      const runId = `run-period-${randomUUID()}`;
      const tags = spec.tags === undefined ? {} : { tags: spec.tags };
      const start = { task, taskVersion: '1', input: null, principal: 'user:ada', tenant: spec.tenant, configHash: 'c', config: null, ...tags };
      const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', start, new Date(at(spec.hours, spec.milliseconds)));
      await store.createRun({ run: { id: runId, task, taskVersion: '1', principal: 'user:ada', tenant: spec.tenant, status: spec.status, ...tags }, first: toRecord(first) });
      created.push(runId);
    }
    const [sundayLast, mondayStart, mondayOk, globex, untagged, tuesday, nextMonday] = created;
    const ids = (page: Record<string, unknown>) => (page.runs as { id: string }[]).map((run) => run.id);
    const list = async (query: string) => ids(await call('listRuns', 'GET', `/admin/runs?task=${task}&${query}`, { expect: 200 }));

    // The week from Monday: its first millisecond is in, Sunday's last and next Monday's first are not.
    const week = [tuesday, untagged, globex, mondayOk, mondayStart];
    assert.deepEqual(await list(`since=${at(0)}&until=${at(168)}`), week);
    assert.deepEqual(await list(`since=${at(0, 1)}&until=${at(168, 1)}`), [nextMonday, tuesday, untagged, globex, mondayOk]);
    assert.deepEqual(await list(`since=${at(0, -1)}&until=${at(0, 1)}`), [mondayStart, sundayLast]);
    // An offset names the same instant (its + encoded, as any + in a query); seconds may be left out.
    assert.deepEqual(await list(`since=${encodeURIComponent('2003-03-03T01:00+01:00')}&until=2003-03-09T19:00-05:00`), week);
    assert.deepEqual(await list(`since=${at(40)}`), [nextMonday, tuesday]);
    assert.deepEqual(await list(`until=${at(0)}`), [sundayLast]);
    assert.deepEqual(await list(`since=${at(10)}&until=${at(10)}`), []);
    // "The failed runs of project=search since Monday", with the status, tag and tenant filters.
    const tag = `tag=${encodeURIComponent(`project=${project}`)}`;
    assert.deepEqual(await list(`status=failed&${tag}&since=${at(0)}`), [nextMonday, tuesday, globex, mondayStart]);
    assert.deepEqual(await list(`status=failed&${tag}&since=${at(0)}&until=${at(168)}`), [tuesday, globex, mondayStart]);
    assert.deepEqual(await list(`status=failed&${tag}&since=${at(0)}&until=${at(168)}&tenant=acme`), [tuesday, mondayStart]);
    assert.deepEqual(await list(`status=ok&${tag}&since=${at(11)}`), []);
    // What the store lists for the same filters: the route passes the period through as it is.
    assert.deepEqual(await list(`${tag}&since=${at(0)}&until=${at(168)}`), (await store.listRuns({ task, tags: { project }, since: at(0), until: at(168) })).map((run) => run.id));
    // One at a time, the cursor walks the period's runs once, by tag and without, in the same order as one page.
    for (const filter of [`since=${at(0)}&until=${at(168)}`, `${tag}&status=failed&since=${at(0)}&until=${at(168)}`, `${tag}&tenant=acme&since=${at(0)}&until=${at(168)}`]) {
      const whole = await list(filter);
      const walked: string[] = [];
      let next: string | null = null;
      for (let pages = 0; pages < 10; pages += 1) {
        const page: Record<string, unknown> = await call('listRuns', 'GET', `/admin/runs?task=${task}&${filter}&limit=1${next === null ? '' : `&after=${next}`}`, { expect: 200 });
        walked.push(...ids(page));
        next = page.next as string | null;
        if (next === null) break;
      }
      assert.deepEqual(walked, whole, filter);
      assert.ok(whole.length >= 2, filter);
    }

    const refused: [string, string][] = [
      ['since=2003-03-03', 'since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2003-03-03"'],
      ['until=monday', 'until must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "monday"'],
      ['since=2003-02-30T00:00Z', 'since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2003-02-30T00:00Z"'],
      ['since=', 'since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got ""'],
      // A + left unencoded is a space, and the time then has no zone.
      ['since=2003-03-03T01:00+01:00', 'since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2003-03-03T01:00 01:00"'],
      [`since=${at(168)}&until=${at(0)}`, `since ${at(168)} is after until ${at(0)}`],
    ];
    for (const [query, message] of refused) {
      const body = await call('listRuns', 'GET', `/admin/runs?${query}`, { expect: 400 });
      assert.deepEqual(body.error, { code: 'usage-invalid', message });
    }
  });

  test('an admin path it does not serve is a 404 in the same error shape', async () => {
    const response = await fetch(`${server.url}/admin/nothing`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'admin-route-unknown');
  });

  test('every operation in the document was called, and answered each of its documented statuses', () => {
    for (const methods of Object.values(document.paths)) {
      for (const candidate of Object.values(methods)) {
        const statuses = seen.get(candidate.operationId);
        assert.ok(statuses !== undefined, `${candidate.operationId} was never called`);
        assert.deepEqual([...statuses].sort(), Object.keys(candidate.responses).map(Number).sort(), `${candidate.operationId}: statuses seen vs documented`);
      }
    }
  });
});

describe('the admin API switched off', () => {
  test('without an admin token, /admin and /dashboard are not served', async () => {
    // A store of its own: the other one holds a key by now, and keys are checked before any route.
    const own = SqliteStore.open({ path: join(folder, 'plain.db'), durability: 'normal' });
    const plain = await createGateway({ store: own });
    try {
      assert.equal((await plain.request('/admin/runs', { headers: { authorization: `Bearer ${token}` } })).status, 404);
      assert.equal((await plain.request('/dashboard/')).status, 404);
    } finally {
      await plain.close();
      await own.close();
    }
  });

  test('an admin token shorter than 16 characters is refused at start', async () => {
    await assert.rejects(createGateway({ store, adminToken: 'short' }), (error: Error & { code?: string }) => error.code === 'usage-invalid' && /at least 16/.test(error.message));
  });
});
