import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JournalWriter, genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';

// The cursor store's contract, held by both stores: compare-and-set writes, and runs listed in the
// order their latest events were dated, a page at a time.
const folder = mkdtempSync(join(tmpdir(), 'keel-cursors-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const postgres = await openTestPostgres();

const stores: { name: string; open: () => Promise<{ store: StoreV1; dispose: () => Promise<void> }>; skip?: string }[] = [
  {
    name: 'sqlite',
    open: () => {
      const store = SqliteStore.open({ path: join(folder, `${Math.random().toString(36).slice(2)}.db`) });
      return Promise.resolve({ store, dispose: () => store.close() });
    },
  },
  {
    name: 'postgres',
    ...('skipReason' in postgres ? { skip: postgres.skipReason } : {}),
    open: async () => {
      const url = 'url' in postgres ? postgres.url : '';
      const schema = uniqueSchemaName('keel_cursors');
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
  test(`${entry.name}: a cursor is swapped only from the value the writer expects`, { ...(entry.skip === undefined ? {} : { skip: entry.skip }) }, async () => {
    const { store, dispose } = await entry.open();
    try {
      const cursors = store.telemetryCursors;
      assert.ok(cursors !== undefined);
      assert.equal(await cursors.readCursor('otlp'), undefined);
      assert.equal(await cursors.writeCursor('otlp', { at: 1 }, null), true);
      assert.equal(await cursors.writeCursor('otlp', { at: 9 }, null), false, 'there is one already');
      assert.equal(await cursors.writeCursor('otlp', { at: 2 }, { at: 5 }), false, 'not the stored value');
      assert.deepEqual(await cursors.readCursor('otlp'), { at: 1 });
      assert.equal(await cursors.writeCursor('otlp', { at: 2, runs: { a: 1 } }, { at: 1 }), true);
      assert.equal(await cursors.writeCursor('otlp', { at: 3 }, { at: 2, runs: { a: 1 } }), true);
      assert.equal(await cursors.writeCursor('otlp', { at: 4 }), true, 'unconditional');
      assert.deepEqual(await cursors.readCursor('otlp'), { at: 4 });
      assert.equal(await cursors.readCursor('another'), undefined, 'one cursor per exporter name');
    } finally {
      await dispose();
    }
  });

  test(`${entry.name}: runs are listed by the time of their latest event, then id, after a position`, { ...(entry.skip === undefined ? {} : { skip: entry.skip }) }, async () => {
    const { store, dispose } = await entry.open();
    try {
      const base = Date.parse('2026-12-01T10:00:00.000Z');
      const writers = new Map<string, JournalWriter>();
      for (const [id, offset] of [['run_b', 0], ['run_a', 0], ['run_c', 1_000]] as const) {
        const first = sealEvent({ runId: id, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'c', config: null }, new Date(base + offset));
        await store.createRun({ run: { id, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first: toRecord(first) });
        writers.set(id, new JournalWriter({ store, runId: id, lastSeq: 1, lastHash: first.hash }));
      }
      const cursors = store.telemetryCursors;
      assert.ok(cursors !== undefined);
      const order = async (after?: { updatedAt: string; id: string }) => (await cursors.listChangedRuns({ limit: 10, ...(after === undefined ? {} : { after }) })).map((run) => `${run.id}@${run.lastSeq}`);
      assert.deepEqual(await order(), ['run_a@1', 'run_b@1', 'run_c@1']);
      // run_a's next event is dated last: it moves to the end.
      const writer = writers.get('run_a');
      assert.ok(writer !== undefined);
      await writer.commit([writer.build('run-end', { status: 'ok' }, new Date(base + 2_000))], { status: 'ok' });
      assert.deepEqual(await order(), ['run_b@1', 'run_c@1', 'run_a@2']);
      assert.deepEqual(await order({ updatedAt: new Date(base).toISOString(), id: 'run_b' }), ['run_c@1', 'run_a@2']);
      const page = await cursors.listChangedRuns({ limit: 1 });
      assert.deepEqual(page.map((run) => [run.id, run.status, run.updatedAt]), [['run_b', 'running', new Date(base).toISOString()]]);
    } finally {
      await dispose();
    }
  });
}
