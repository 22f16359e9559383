/**
 * What the SQLite store writes as an event's data: the canonical text the journal hashed when the
 * event was sealed, so an audit hashes the stored bytes as they are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson, genesisHash, sealEvent, toRecord, verifyStoredChain } from '../../journal/index.ts';
import { SqliteStore } from './index.ts';

test('a sealed event is stored as the canonical text it was hashed from, even where JSON.stringify would order keys differently', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-stored-text-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  try {
    const runId = 'run_stored_text';
    // Integer-like keys: a parsed object lists them first in numeric order, canonical JSON sorts them as strings.
    const first = toRecord(sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: { '10': 'ten', '9': 'nine', b: 1, a: 2 }, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
    await store.createRun({ run: { id: runId, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first });
    // A record built without sealEvent (a copy) carries no text: its data is serialised as before.
    const copy = { ...toRecord(sealEvent({ runId, seq: 2, prevHash: first.hash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' })) };
    await store.append({ runId, records: [copy], summary: {} });
    const stored = await store.readJournalText(runId);
    assert.equal(stored[0]?.dataText, canonicalJson(first.data));
    assert.notEqual(stored[0]?.dataText, JSON.stringify(first.data));
    assert.equal(stored[1]?.dataText, JSON.stringify(copy.data));
    assert.equal(verifyStoredChain(stored).ok, true);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
