/**
 * Budget, limit, key, slot and memory writes join the SQLite store's group commit (sqlite-store.ts,
 * #applyWork): issued in one turn of the event loop, they commit in one transaction with the
 * journal's appends, and one that fails is undone alone, under its savepoint, without taking the
 * others down with it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import type { MemoryScopeV1, NewMemoryEntryV1 } from '../../spec/index.ts';
import { SqliteStore } from './index.ts';

const start = (runId: string) => toRecord(sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
const scope: MemoryScopeV1 = { kind: 'session', tenant: 'acme', sessionId: 'session-1' };
const entry = (text: string): NewMemoryEntryV1 => ({
  scope,
  role: 'user',
  text,
  labels: { classification: 'internal' },
  createdAt: '2026-12-03T00:00:00.000Z',
  source: { runId: 'run_grouped', step: 1 },
  contentHash: createHash('sha256').update(text).digest('hex'),
});

test('writes issued together commit in one transaction; the one that fails is refused alone', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-grouped-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  try {
    const first = start('run_grouped');
    await store.createRun({ run: { id: 'run_grouped', task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first });
    const before = store.stats.transactions;
    const second = toRecord(sealEvent({ runId: 'run_grouped', seq: 2, prevHash: first.hash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
    const [appended, reserved, limited, remembered, replaced, settled] = await Promise.allSettled([
      store.append({ runId: 'run_grouped', records: [second], summary: { stepCount: 1 } }),
      store.budgets.reserveBudget({ reservationId: 'reservation-1', limits: [{ key: 'tenant-day:t', micros: 1_000, tokens: null }], amount: { micros: 400, tokens: 10 }, expiresInMs: 60_000 }),
      store.rateLimits.acquire([{ key: 'tenant:t', limit: 5, windowMs: 60_000 }]),
      store.appendMemory(entry('hello')),
      // Nothing at or below seq 7 in another scope: refused inside its savepoint.
      store.replaceMemory({ ...scope, sessionId: 'session-empty' }, { upToSeq: 7, summary: { ...entry('summary'), scope: { ...scope, sessionId: 'session-empty' } } }),
      store.budgets.settleBudget({ reservationId: 'reservation-1', actual: { micros: 250, tokens: 8 } }),
    ]);
    assert.equal(store.stats.transactions - before, 1, 'one transaction for the six writes');
    assert.equal(appended.status, 'fulfilled');
    assert.deepEqual(reserved.status === 'fulfilled' ? reserved.value : reserved.reason, { ok: true });
    assert.deepEqual(limited.status === 'fulfilled' ? limited.value : limited.reason, { allowed: true });
    assert.equal(remembered.status === 'fulfilled' ? remembered.value.seq : remembered.reason, 1);
    assert.equal(replaced.status, 'rejected');
    assert.equal((replaced.reason as { code?: string }).code, 'journal-conflict');
    // The settlement saw the reservation made before it in the same transaction.
    assert.equal(settled.status === 'fulfilled' ? settled.value[0]?.after.micros : settled.reason, 250);
    const account = await store.budgets.readBudget('tenant-day:t');
    assert.deepEqual(account, { spent: { micros: 250, tokens: 8 }, reserved: { micros: 0, tokens: 0 } });
    assert.equal((await store.readJournal('run_grouped')).length, 2);
    assert.deepEqual((await store.readMemory(scope)).map((memory) => memory.text), ['hello']);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
