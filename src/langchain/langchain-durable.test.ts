/**
 * Durable mode: a LangChain agent inside a Keel run is killed with SIGKILL in the middle (after
 * its refund, inside the next tool) and resumed in a new process. The resumed agent gets its
 * recorded model answers and the refund's recorded output back: the refund happened once, and
 * only the model call after the crash reached the model.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent, verifyChain } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-langchain-durable-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const childPath = join(import.meta.dirname, 'durable-agent-child.fixture.ts');

interface Child {
  /** Resolves with the child's first stdout line. */
  firstLine: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(): void;
}

function child(args: string[]): Child {
  const environment = { ...process.env };
  delete environment.NODE_TEST_CONTEXT;
  const spawned = spawn(process.execPath, ['--conditions=keel-source', childPath, ...args], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const line = Promise.withResolvers<string>();
  spawned.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const end = stdout.indexOf('\n');
    if (end !== -1) line.resolve(stdout.slice(0, end));
  });
  spawned.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    spawned.on('exit', (code, signal) => {
      line.reject(new Error(`child exited (${code ?? signal}) before printing a line: ${stderr}`));
      resolve({ code, signal, stderr });
    });
  });
  line.promise.catch(() => undefined);
  return { firstLine: line.promise, exited, kill: () => spawned.kill('SIGKILL') };
}

function refundsIn(path: string): { orderId: string; key: string }[] {
  const database = new DatabaseSync(path);
  try {
    return database.prepare('SELECT order_id, idempotency_key FROM refunds ORDER BY rowid').all().map((row) => ({ orderId: String(row.order_id), key: String(row.idempotency_key) }));
  } finally {
    database.close();
  }
}

test('SIGKILL in the middle of a durable LangChain agent, then resume: the refund ran once, earlier model calls were replayed', async () => {
  const journalPath = join(folder, 'keel.db');
  const refundsPath = join(folder, 'refunds.db');
  const runId = 'langchain-durable-1';

  const first = child([journalPath, refundsPath, 'start', runId]);
  assert.equal(await first.firstLine, 'blocked');
  first.kill();
  assert.equal((await first.exited).signal, 'SIGKILL');
  assert.equal(refundsIn(refundsPath).length, 1, 'the refund happened before the kill');

  const second = child([journalPath, refundsPath, 'resume', runId]);
  const report = JSON.parse(await second.firstLine) as { status: string; reason: string | null; liveModelCalls: number; lookups: number; text: string | null };
  assert.equal((await second.exited).code, 0);
  assert.equal(report.status, 'ok', report.reason ?? '');
  assert.equal(report.text, 'Refunded A-1; it shows as delivered.');
  assert.equal(report.liveModelCalls, 1, 'the two model calls before the kill were replayed from the journal; only the last one reached the model');
  assert.equal(report.lookups, 1, 'the read the kill interrupted ran again (it is safe to repeat)');

  const refunds = refundsIn(refundsPath);
  assert.equal(refunds.length, 1, 'the refund did not run twice');
  const store = SqliteStore.open({ path: journalPath, durability: 'normal' });
  after(() => store.close());
  const records = await store.readJournal(runId);
  verifyChain(records);
  const events: JournalEvent[] = records.map(parseEvent);
  const refundSteps = events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call' && event.data.name === 'issue_refund');
  assert.equal(refundSteps.length, 1);
  assert.equal(refundSteps[0]?.type === 'step-start' ? refundSteps[0].data.idempotencyKey : undefined, refunds[0]?.key);
  assert.equal(events.filter((event) => event.type === 'step-end' && event.data.kind === 'model-call').length, 3, 'each model call journaled once');
  assert.equal(events.filter((event) => event.type === 'run-resume').length, 2);
});
