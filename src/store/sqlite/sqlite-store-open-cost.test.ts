/**
 * Opening a store and reading a run prepares only the statements reading runs needs: the
 * budgets', audit log's, limits', slots', keys' and datasets' statements wait for their first use,
 * as read commands (`keel runs`, `show`, `escalations`) never make one. Counted by wrapping
 * DatabaseSync's prepare in this process, over a real database file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import { SqliteStore } from './index.ts';

// Every table a sub-store of SqliteStore reads or writes, and nothing run reads touch.
const subStoreTables = /\b(budget_accounts|budget_holds|budget_settlements|audit_leaves|audit_tree_heads|rate_limit_counts|rate_limit_hits|breaker_states|concurrency_slots|api_keys|datasets|telemetry_cursors|subject_keys|subject_redactions|response_cache)\b/;
const runId = 'run_open_cost';

let folder = '';
let path = '';
const prepared: string[] = [];
// eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, and only ever called with .call(database)
const originalPrepare = DatabaseSync.prototype.prepare;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'keel-open-cost-'));
  path = join(folder, 'keel.db');
  const writer = SqliteStore.open({ path, durability: 'normal' });
  const first = toRecord(sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
  await writer.createRun({ run: { id: runId, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first });
  await writer.close();
  DatabaseSync.prototype.prepare = function prepare(this: DatabaseSync, sql: string) {
    prepared.push(sql);
    return originalPrepare.call(this, sql);
  };
});

after(() => {
  DatabaseSync.prototype.prepare = originalPrepare;
  rmSync(folder, { recursive: true, force: true });
});

test('a read-only store that lists runs, reads one and its journal prepares none of the sub-stores statements', async () => {
  prepared.length = 0;
  const store = SqliteStore.open({ path, readOnly: true });
  try {
    assert.equal((await store.listRuns()).length, 1);
    assert.equal((await store.getRun(runId))?.id, runId);
    assert.equal((await store.readJournal(runId)).length, 1);
    // The wrapper sees the store's own statements, so an empty list below means something.
    assert.ok(prepared.some((sql) => /\bjournal\b/.test(sql)), `no statement of the store's own recorded: ${prepared.join('\n')}`);
    assert.deepEqual(prepared.filter((sql) => subStoreTables.test(sql)), []);
    // A sub-store's statements are prepared at its first use, and answer as before.
    assert.deepEqual(await store.budgets.readBudget('tenant:t'), { spent: { micros: 0, tokens: 0 }, reserved: { micros: 0, tokens: 0 } });
    assert.ok(prepared.some((sql) => /\bbudget_accounts\b/.test(sql)), 'the budget book prepared its statements at first use');
    assert.deepEqual(prepared.filter((sql) => /\baudit_tree_heads\b/.test(sql)), [], 'the audit log is still untouched');
  } finally {
    await store.close();
  }
});

test('a read-only store refuses a sub-store write made at its first use, and a sub-store first used after close refuses as the store does', async () => {
  const store = SqliteStore.open({ path, readOnly: true });
  await assert.rejects(store.keys.createKey({ keyId: 'k', secretHash: 'h', tenant: 't', principal: 'p', settings: { models: [] }, createdAt: new Date().toISOString() }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'db-unavailable');
    assert.match(error.message, /readonly/);
    return true;
  });
  await store.close();
  await assert.rejects(store.auditLog.latestTreeHead(), { code: 'db-unavailable', message: /closed/ });
  await assert.rejects(store.datasets.listDatasets(), { code: 'db-unavailable', message: /closed/ });
});
