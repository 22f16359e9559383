import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../store/index.ts';
import { createGateway } from './index.ts';
import { startTestGateway } from './testing/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-health-probes-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('liveness and readiness answer without a key, open no run, and are never cached', async () => {
  const served = await startTestGateway({ requireKeys: true });
  try {
    // Over the socket, as an orchestrator probes.
    const alive = await fetch(`${served.url}/healthz`);
    assert.equal(alive.status, 200);
    assert.deepEqual(await alive.json(), { status: 'ok' });
    assert.equal(alive.headers.get('cache-control'), 'no-store');
    const ready = await fetch(`${served.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    assert.equal(ready.headers.get('cache-control'), 'no-store');
    // The model API still wants its key: the probes are the only way in without one.
    const keyless = await fetch(`${served.url}/v1/models`);
    assert.equal(keyless.status, 401);
    await keyless.text();
    assert.deepEqual(await served.gateway.keel.store.listRuns({ limit: 10 }), []);
  } finally {
    await served.close();
  }
});

test('a store that cannot be read makes the gateway unready: 503 names the error code, the log its text, and it is ready again once the store answers', async () => {
  const path = join(folder, 'unreadable.db');
  const store = await openStore({ database: path, create: true, environment: {} });
  let broken = false;
  // The real store, whose reads fail while `broken` as a closed store's do.
  const flaky = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'getRun') return (runId: string) => (broken ? Promise.reject(new Error(`SQLITE_IOERR: disk I/O error reading ${path}`)) : target.getRun(runId));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...parts: unknown[]) => unknown).bind(target) : value;
    },
  });
  const lines: string[] = [];
  const gateway = await createGateway({ store: flaky, environment: {}, log: (line) => lines.push(line) });
  try {
    assert.equal((await gateway.request('/readyz')).status, 200);
    broken = true;
    const unready = await gateway.request('/readyz');
    assert.equal(unready.status, 503);
    assert.deepEqual(await unready.json(), { status: 'unavailable', reason: 'the store cannot be read (db-unavailable)' });
    assert.equal((await gateway.request('/healthz')).status, 200, 'alive all the same: restarting it would not mend the store');
    assert.ok(
      lines.some((line) => line.includes('not ready') && line.includes('SQLITE_IOERR') && line.includes(path)),
      `the log has the error's text: ${lines.join('\n')}`,
    );
    // A second failing probe says nothing new in the log.
    await (await gateway.request('/readyz')).text();
    assert.equal(lines.filter((line) => line.includes('not ready')).length, 1);
    broken = false;
    assert.equal((await gateway.request('/readyz')).status, 200);
    assert.ok(lines.at(-1)?.includes('ready again'), lines.join('\n'));
  } finally {
    await gateway.close();
    await store.close();
  }
});

test('a store that does not answer makes the gateway unready once the readiness timeout passes', async () => {
  const store = await openStore({ database: join(folder, 'hanging.db'), create: true, environment: {} });
  // Reads that never settle, as against a database whose host stopped answering.
  const hanging = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'getRun') return () => new Promise(() => undefined);
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...parts: unknown[]) => unknown).bind(target) : value;
    },
  });
  const gateway = await createGateway({ store: hanging, environment: {}, readinessTimeoutMs: 50 });
  try {
    const unready = await gateway.request('/readyz');
    assert.equal(unready.status, 503);
    assert.deepEqual(await unready.json(), { status: 'unavailable', reason: 'the store did not answer a read within 50 ms' });
  } finally {
    await gateway.close();
    await store.close();
  }
});

test('a readiness timeout that is not a whole number of ms is refused before anything is opened', async () => {
  await assert.rejects(createGateway({ database: join(folder, 'never.db'), environment: {}, readinessTimeoutMs: 0.5 }), {
    code: 'usage-invalid',
    message: "the gateway's readinessTimeoutMs must be a whole number of ms from 1 to 2147483647; got 0.5",
  });
});
