/**
 * How every StoreV1 adapter opens a database: a reader never writes (it refuses what is not a Keel
 * database at this Keel's schema version, leaving it exactly as it was, and reads a Keel database
 * without changing it); a writer creates only when asked to, adopts only what is empty, and
 * refuses someone else's data untouched. Each adapter says what "a database" is for it (a file, a
 * schema) through an OpeningTarget.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { NewRunV1, StoreV1 } from '../../spec/index.ts';

export interface OpeningTarget {
  /** Opens the target: `create` makes or adopts an empty database, `readOnly` opens it for reading only. */
  open: (options: { create: boolean; readOnly: boolean }) => Promise<StoreV1>;
  /**
   * Everything a reader must leave as it found: for a file its bytes and modification time, for a
   * schema whether it exists, its tables and their rows.
   */
  snapshot: () => Promise<string>;
  /** Sets the schema version a Keel database records (made by `open` first), as an older or newer Keel would have left it. */
  setSchemaVersion: (version: number) => Promise<void>;
  /** Removes whatever the target holds. */
  dispose: () => Promise<void>;
}

export interface OpeningHarness {
  /** A target where nothing exists yet. */
  missing: () => Promise<OpeningTarget>;
  /** Targets that hold nothing, each by name ("a 0-byte file", "an empty schema"). */
  empty: Record<string, () => Promise<OpeningTarget>>;
  /** Targets that hold another application's data, each by name. */
  foreign: Record<string, () => Promise<OpeningTarget>>;
  /** The schema version this Keel writes. */
  latestVersion: number;
}

function newRun(): NewRunV1 {
  const id = `run-${randomUUID()}`;
  const time = new Date().toISOString();
  return {
    run: { id, task: 'opening', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: 'queued' },
    first: { runId: id, seq: 1, time, type: 'run-start', schemaVersion: 1, prevHash: '0'.repeat(64), hash: 'a'.repeat(64), data: { task: 'opening' } },
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, String(error));
    return true;
  });
}

export function runOpeningConformance(label: string, harness: OpeningHarness | { skip: string }): void {
  describe(`store opening conformance: ${label}`, { skip: 'skip' in harness ? harness.skip : false }, () => {
    if ('skip' in harness) return;
    const targets: OpeningTarget[] = [];
    const track = async (make: () => Promise<OpeningTarget>) => {
      const target = await make();
      targets.push(target);
      return target;
    };
    after(async () => {
      for (const target of targets) await target.dispose();
    });

    test('a reader finds no database where there is none, and creates nothing', async () => {
      const target = await track(harness.missing);
      const before = await target.snapshot();
      await expectCode(target.open({ create: false, readOnly: true }), 'db-missing');
      // Asking a reader to create is not enough to make it write.
      await expectCode(target.open({ create: true, readOnly: true }), 'db-missing');
      await expectCode(target.open({ create: false, readOnly: false }), 'db-missing');
      assert.equal(await target.snapshot(), before);
    });

    for (const [name, make] of Object.entries(harness.empty)) {
      test(`${name}: a reader and a writer that may not create refuse it untouched; a writer that creates adopts it`, async () => {
        const target = await track(make);
        const before = await target.snapshot();
        await expectCode(target.open({ create: false, readOnly: true }), 'db-missing');
        await expectCode(target.open({ create: false, readOnly: false }), 'db-missing');
        assert.equal(await target.snapshot(), before, 'left exactly as it was');
        const store = await target.open({ create: true, readOnly: false });
        const created = newRun();
        await store.createRun(created);
        assert.equal((await store.getRun(created.run.id))?.lastSeq, 1);
        await store.close();
      });
    }

    for (const [name, make] of Object.entries(harness.foreign)) {
      test(`${name}: every kind of open refuses it as db-foreign and leaves it exactly as it was`, async () => {
        const target = await track(make);
        const before = await target.snapshot();
        await expectCode(target.open({ create: false, readOnly: true }), 'db-foreign');
        await expectCode(target.open({ create: false, readOnly: false }), 'db-foreign');
        await expectCode(target.open({ create: true, readOnly: false }), 'db-foreign');
        assert.equal(await target.snapshot(), before);
      });
    }

    test('a reader reads a Keel database without changing it, and cannot write to it', async () => {
      const target = await track(harness.missing);
      const writer = await target.open({ create: true, readOnly: false });
      const created = newRun();
      await writer.createRun(created);
      await writer.close();
      const before = await target.snapshot();
      const reader = await target.open({ create: false, readOnly: true });
      try {
        assert.equal((await reader.getRun(created.run.id))?.status, 'queued');
        assert.deepEqual(await reader.readJournal(created.run.id), [created.first]);
        assert.deepEqual((await reader.listRuns()).map((run) => run.id), [created.run.id]);
        assert.deepEqual(await reader.listRunIds(), [created.run.id]);
        await assert.rejects(reader.createRun(newRun()));
        await assert.rejects(reader.requestStop(created.run.id, { by: 'user:ada', reason: 'a reader cannot stop a run' }));
      } finally {
        await reader.close();
      }
      assert.equal(await target.snapshot(), before, 'the reader changed the database');
    });

    test('a database from a newer Keel is db-too-new for a reader and a writer, untouched', async () => {
      const target = await track(harness.missing);
      await (await target.open({ create: true, readOnly: false })).close();
      await target.setSchemaVersion(harness.latestVersion + 1);
      const before = await target.snapshot();
      await expectCode(target.open({ create: false, readOnly: true }), 'db-too-new');
      await expectCode(target.open({ create: true, readOnly: false }), 'db-too-new');
      assert.equal(await target.snapshot(), before);
    });

    test('a database from an older Keel is db-too-old for a reader, which never migrates', async () => {
      const target = await track(harness.missing);
      await (await target.open({ create: true, readOnly: false })).close();
      await target.setSchemaVersion(harness.latestVersion - 1);
      const before = await target.snapshot();
      await expectCode(target.open({ create: false, readOnly: true }), 'db-too-old');
      assert.equal(await target.snapshot(), before);
    });
  });
}
