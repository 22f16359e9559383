/**
 * `keel escalations` lists every waiting run, however many: 1,200 runs waiting for a person are
 * written straight through the store (a run-start and an approval request each, hash-chained), then
 * the real `keel escalations --json` must name all of them (it used to stop at 1,000).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { genesisHash, sealEvent } from '../../src/journal/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-escalations-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const waitingRuns = 1_200;

/** Writes `count` runs waiting on an approval request, with a few runs in other states around them. */
async function writeWaitingRuns(path: string, count: number): Promise<string[]> {
  const store = SqliteStore.open({ path, durability: 'normal' });
  try {
    const ids: string[] = [];
    const writes: Promise<void>[] = [];
    // Many runs share a creation millisecond, so pages end between runs with equal times.
    const created = new Date('2026-11-30T09:00:00.000Z');
    for (let index = 0; index < count + 3; index += 1) {
      const runId = `run-${String(index).padStart(5, '0')}`;
      const waiting = index < count;
      const time = new Date(created.getTime() + Math.floor(index / 7));
      const start = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 'refund', taskVersion: '1', input: { index }, principal: 'user:ada', tenant: 'acme', configHash: 'c'.repeat(64), config: {} }, time);
      writes.push(
        store.createRun({ run: { id: runId, task: 'refund', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: waiting ? 'waiting' : 'queued' }, first: start }).then(() => {
          if (!waiting) return;
          const request = sealEvent({ runId, seq: 2, prevHash: start.hash }, 'approval-request', { step: 1, id: `${runId}:1`, reason: `refund ${index} needs a lead`, details: { index } }, time);
          return store.append({ runId, records: [request], summary: { status: 'waiting', reason: request.data.reason } });
        }),
      );
      if (waiting) ids.push(runId);
    }
    await Promise.all(writes);
    return ids;
  } finally {
    await store.close();
  }
}

function keel(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...rest } = process.env;
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: { ...rest, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test(`keel escalations --json lists all ${waitingRuns} waiting runs, past any page size`, { timeout: 60_000 }, async () => {
  const database = join(folder, 'queue.db');
  const ids = await writeWaitingRuns(database, waitingRuns);
  const listed = await keel(['escalations', '--db', database, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const { escalations } = JSON.parse(listed.stdout) as { escalations: { id: string; requestId: string; reason: string }[] };
  assert.equal(escalations.length, waitingRuns);
  assert.deepEqual(escalations.map((item) => item.id).sort(), ids);
  assert.equal(new Set(escalations.map((item) => item.requestId)).size, waitingRuns, 'each waiting run once');
  // Newest first, as every listing is.
  assert.equal(escalations[0]?.id, ids.at(-1));
  assert.equal(escalations.at(-1)?.reason, 'refund 0 needs a lead');
});
