import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JournalWriter, genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, openStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';
import { JournalSpanExporter, openOtlpSpanSender } from '../../src/telemetry/index.ts';

// The exporter's bookkeeping, in process, against a SQLite store and a real OTLP/HTTP receiver:
// journals written here with chosen event times, so the order of dates and of commits differ.
const folder = mkdtempSync(join(tmpdir(), 'keel-span-exporter-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function receiver(): Promise<{ url: string; spanIds: string[]; close: () => void }> {
  const spanIds: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const decoded = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
      for (const resource of decoded.resourceSpans) for (const scope of resource.scopeSpans) for (const span of scope.spans) spanIds.push(span.spanId);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spanIds,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A run with one model call, dated from `at`: run-start, then the call and the end when asked. */
async function writeRun(store: StoreV1, runId: string, at: number, parts: { call?: boolean; end?: boolean } = {}): Promise<JournalWriter> {
  const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 'checkout', taskVersion: '1', input: null, principal: 'user:a', tenant: 't', configHash: 'c'.repeat(64), config: null }, new Date(at));
  await store.createRun({ run: { id: runId, task: 'checkout', taskVersion: '1', principal: 'user:a', tenant: 't', status: 'running' }, first: toRecord(first) });
  const writer = new JournalWriter({ store, runId, lastSeq: 1, lastHash: first.hash });
  if (parts.call === true) await call(writer, at + 1);
  if (parts.end === true) await end(writer, at + 3);
  return writer;
}

async function call(writer: JournalWriter, at: number): Promise<void> {
  const start = writer.build('step-start', { step: 1, name: 'turn-1', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }, new Date(at));
  const done = writer.build('step-end', { step: 1, name: 'turn-1', kind: 'model-call', epoch: 0, durationMs: 1, outcome: { ok: true, value: 'hi' }, usage: { inputTokens: 3, outputTokens: 2 } }, new Date(at + 1));
  await writer.commit([start, done]);
}

async function end(writer: JournalWriter, at: number): Promise<void> {
  await writer.commit([writer.build('run-end', { status: 'ok' }, new Date(at))], { status: 'ok' });
}

const postgres = await openTestPostgres();
const stores: { name: string; skip?: string; open: () => Promise<{ store: StoreV1; dispose: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    open: async () => {
      const store = await openStore({ database: join(folder, 'passes.db'), create: true, environment: {} });
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'postgres',
    ...('skipReason' in postgres ? { skip: postgres.skipReason } : {}),
    open: async () => {
      const url = 'url' in postgres ? postgres.url : '';
      const schema = uniqueSchemaName('keel_span_export');
      const store = await PostgresStore.open({ url, schema });
      return {
        store,
        dispose: async () => {
          await store.close();
          await dropSchema(url, schema);
        },
      };
    },
  },
];

for (const entry of stores) {
  test(`${entry.name}: each pass sends only spans the cursor has not passed; a run dated behind the last pass, within the look-behind, is still sent`, { ...(entry.skip === undefined ? {} : { skip: entry.skip }) }, async () => {
    const { store, dispose } = await entry.open();
    const sink = await receiver();
    const sender = await openOtlpSpanSender({ url: sink.url });
    try {
      const exporter = new JournalSpanExporter({ store, sender, holder: 'exporter-a', lagMs: 60_000 });
      const now = Date.now();
      const growing = await writeRun(store, 'run_growing', now - 10_000, { call: true });
      await writeRun(store, 'run_done', now - 9_000, { call: true, end: true });
      assert.deepEqual(await exporter.exportOnce(), { spans: 3, batches: 1, standby: false });

      // The open run ends; a run dated before everything already seen commits only now.
      await end(growing, now - 5_000);
      await writeRun(store, 'run_late', now - 20_000, { call: true, end: true });
      assert.deepEqual(await exporter.exportOnce(), { spans: 3, batches: 1, standby: false });
      assert.deepEqual(await exporter.exportOnce(), { spans: 0, batches: 0, standby: false });
      assert.equal(new Set(sink.spanIds).size, sink.spanIds.length, 'no span twice');
      assert.equal(sink.spanIds.length, 6);
    } finally {
      await sender.close();
      sink.close();
      await dispose();
    }
  });
}

test('two exporters under one name: the second stands by while the first holds the cursor, then takes over when it gives it up', async () => {
  const store = await openStore({ database: join(folder, 'holders.db'), create: true, environment: {} });
  const sink = await receiver();
  const sender = await openOtlpSpanSender({ url: sink.url });
  try {
    const first = new JournalSpanExporter({ store, sender, holder: 'exporter-a' });
    const second = new JournalSpanExporter({ store, sender, holder: 'exporter-b' });
    const now = Date.now();
    await writeRun(store, 'run_one', now - 3_000, { call: true, end: true });
    assert.equal((await first.exportOnce()).spans, 2);
    await writeRun(store, 'run_two', now - 2_000, { call: true, end: true });
    assert.deepEqual(await second.exportOnce(), { spans: 0, batches: 0, standby: true });
    await first.release();
    assert.deepEqual(await second.exportOnce(), { spans: 2, batches: 1, standby: false });
    assert.deepEqual(await first.exportOnce(), { spans: 0, batches: 0, standby: true });
    assert.equal(new Set(sink.spanIds).size, 4);
    assert.equal(sink.spanIds.length, 4);
  } finally {
    await sender.close();
    sink.close();
    await store.close();
  }
});

test('a batch the receiver refuses leaves the cursor where it was: the next pass sends it again, and nothing after it is skipped', async () => {
  const store = await openStore({ database: join(folder, 'refused.db'), create: true, environment: {} });
  let refuse = true;
  const received: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      // 400 is not retried by the OTLP exporter: the pass fails at once.
      if (refuse) return void response.writeHead(400, { 'content-type': 'application/json' }).end('{}');
      const decoded = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
      for (const resource of decoded.resourceSpans) for (const scope of resource.scopeSpans) for (const span of scope.spans) received.push(span.spanId);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sender = await openOtlpSpanSender({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces` });
  try {
    const exporter = new JournalSpanExporter({ store, sender, holder: 'exporter-a', maxBatchSpans: 2 });
    const now = Date.now();
    await writeRun(store, 'run_a', now - 3_000, { call: true, end: true });
    await writeRun(store, 'run_b', now - 2_000, { call: true, end: true });
    await assert.rejects(exporter.exportOnce(), { code: 'telemetry-export-failed' });
    refuse = false;
    assert.deepEqual(await exporter.exportOnce(), { spans: 4, batches: 2, standby: false });
    assert.equal(new Set(received).size, 4);
  } finally {
    await sender.close();
    server.closeAllConnections();
    server.close();
    await store.close();
  }
});
