import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadRun } from '../journal/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

// Walks the gateway's own route table (admin API and dashboard mounted), so a route added later
// without a line here fails this test instead of slipping past the budget: every route that can
// call a model must reserve before it calls, whole and streamed; every other route of the model API
// must open no run at all; the admin API and the dashboard sit behind their own token and call no model.
const modelRoutes: Record<string, (stream: boolean) => unknown> = {
  'POST /v1/chat/completions': (stream) => ({ model: 'sim:default', stream, messages: [{ role: 'user', content: 'Hello, route' }] }),
  'POST /v1/responses': (stream) => ({ model: 'sim:default', stream, input: 'Hello, route' }),
  'POST /v1/messages': (stream) => ({ model: 'sim:default', stream, max_tokens: 64, messages: [{ role: 'user', content: 'Hello, route' }] }),
  // Never streamed: both rounds send the same request.
  'POST /v1/embeddings': () => ({ model: 'sim:default', input: ['Hello, route'] }),
};
const runlessRoutes: Record<string, { path: string; body?: unknown }> = {
  'POST /v1/messages/count_tokens': { path: '/v1/messages/count_tokens', body: { model: 'sim:default', messages: [{ role: 'user', content: 'Hello, route' }] } },
  'GET /v1/models': { path: '/v1/models' },
  'GET /v1/models/:model{.+}': { path: '/v1/models/sim:default' },
  'GET /healthz': { path: '/healthz' },
  'GET /readyz': { path: '/readyz' },
};

let served: TestGateway;

before(async () => {
  served = await startTestGateway({ adminToken: 'a'.repeat(64), config: { version: 1, routes: [], budgets: [{ scope: 'tenant', micros: 1_000_000_000 }] } });
});

after(async () => {
  await served.close();
});

async function runCount(): Promise<number> {
  return (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
}

test('the route table names no route this test does not know', () => {
  const known = new Set([...Object.keys(modelRoutes), ...Object.keys(runlessRoutes)]);
  const unknown = served.gateway.routes.filter((route) => !/^\/(admin|dashboard)(\/|$)/.test(route.path)).map((route) => `${route.method} ${route.path}`).filter((route) => !known.has(route));
  assert.deepEqual(unknown, [], 'a new route: add it to modelRoutes (it calls a model) or runlessRoutes (it does not)');
  assert.ok(served.gateway.routes.some((route) => route.path.startsWith('/admin/')), 'the admin API is mounted, so its routes are walked too');
  assert.ok(served.gateway.routes.length >= Object.keys(modelRoutes).length + Object.keys(runlessRoutes).length);
});

test('every route that calls a model reserves its budget before the call, whole and streamed', async () => {
  for (const route of served.gateway.routes) {
    const name = `${route.method} ${route.path}`;
    const body = modelRoutes[name];
    if (body === undefined) continue;
    for (const stream of [false, true]) {
      const response = await served.gateway.request(route.path, { method: route.method, headers: { 'content-type': 'application/json', 'keel-tenant': 'acme' }, body: JSON.stringify(body(stream)) });
      assert.equal(response.status, 200, `${name} stream=${stream}: ${await response.clone().text()}`);
      await response.text();
      await served.gateway.settled();
      const runId = response.headers.get('keel-run-id');
      assert.ok(runId !== null, `${name} stream=${stream} names its run`);
      const { events } = await loadRun(served.gateway.keel.store, runId);
      const reserved = events.findIndex((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved');
      const attempted = events.findIndex((event) => event.type === 'model-attempt-end');
      assert.ok(reserved !== -1 && attempted !== -1 && reserved < attempted, `${name} stream=${stream}: reservation (${reserved}) before the attempt (${attempted})`);
      const run = await served.run(runId);
      assert.equal(run.status, 'ok');
      assert.ok(run.costMicros > 0, `${name} stream=${stream} was billed`);
    }
  }
});

test('every other route answers without opening a run', async () => {
  for (const route of served.gateway.routes) {
    const name = `${route.method} ${route.path}`;
    const call = runlessRoutes[name];
    if (call === undefined) continue;
    const before = await runCount();
    const init = call.body === undefined ? { method: route.method } : { method: route.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(call.body) };
    const response = await served.gateway.request(call.path, init);
    assert.equal(response.status, 200, `${name}: ${await response.clone().text()}`);
    assert.equal(response.headers.get('keel-run-id'), null, `${name} names no run`);
    assert.equal(await runCount(), before, `${name} opened no run`);
  }
});
