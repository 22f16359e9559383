/**
 * The evaluation layer end to end, through the real `keel` command: 200 demo runs recorded,
 * pinned as a dataset, exported in both formats (the chat lines checked against OpenAI's chat
 * fine-tuning format), then evaluated against the unchanged model (not regressed, exit 0) and
 * against `sim:default@0.85` (regressed, exit 1), with every refund the demo paid still paid once:
 * replay answers tools from the journal.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { chatLineProblems } from '../../src/evaluation/index.ts';
import type { EvaluationReport } from '../../src/evaluation/index.ts';
import { fileState, keel } from '../cli-hygiene/keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-eval-cli-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const database = join(folder, 'keel.db');
const exports = mkdtempSync(join(tmpdir(), 'keel-eval-exports-'));
after(() => rmSync(exports, { recursive: true, force: true }));

function refundsPaid(): number {
  const payments = new DatabaseSync(join(folder, 'demo-payments.db'), { readOnly: true });
  try {
    return Number(payments.prepare('SELECT count(*) AS n FROM refunds').get()?.n);
  } finally {
    payments.close();
  }
}

test('200 demo runs, a pinned dataset in both formats, and a verdict that passes the unchanged model and catches a 15% drop', async () => {
  const began = performance.now();
  const recorded = await keel(['demo', '--count', '200', '--json', '--db', database], { cwd: folder });
  assert.equal(recorded.code, 0, recorded.stderr);
  const runs = (JSON.parse(recorded.stdout) as { runs: { status: string }[] }).runs;
  assert.equal(runs.length, 200);
  const recordMs = performance.now() - began;
  const ended = runs.filter((run) => ['ok', 'degraded', 'escalated', 'failed'].includes(run.status)).length;

  const created = await keel(['dataset', 'create', 'refunds', '--task', 'support-refund', '--json', '--db', database], { cwd: folder });
  assert.equal(created.code, 0, created.stderr);
  const pinned = JSON.parse(created.stdout) as { items: number; contentHash: string };
  assert.equal(pinned.items, ended, 'every run that ended is pinned; the waiting ones are not');
  assert.match(pinned.contentHash, /^[0-9a-f]{64}$/);

  // Reading and exporting leave the database as it was. (A first reader of a WAL database makes
  // SQLite's shared-memory index beside it; that is the reader's, not a write, so it is made first.)
  const listed = await keel(['dataset', 'list', '--json', '--db', database], { cwd: folder });
  assert.deepEqual((JSON.parse(listed.stdout) as { datasets: { name: string; itemCount: number }[] }).datasets.map((entry) => [entry.name, entry.itemCount]), [['refunds', pinned.items]]);
  const before = fileState(database);
  const jsonl = join(exports, 'refunds.jsonl');
  const chat = join(exports, 'refunds-chat.jsonl');
  for (const [format, out] of [['jsonl', jsonl], ['openai-chat', chat]]) {
    const exported = await keel(['dataset', 'export', 'refunds', '--format', format ?? '', '--out', out ?? '', '--db', database], { cwd: folder });
    assert.equal(exported.code, 0, exported.stderr);
  }
  const shown = await keel(['dataset', 'show', 'refunds', '--json', '--db', database], { cwd: folder });
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal((JSON.parse(shown.stdout) as { contentHash: string }).contentHash, pinned.contentHash);
  assert.equal(fileState(database), before, 'dataset show and export never write');

  const items = readFileSync(jsonl, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; reference: { status: string } });
  assert.equal(items.length, ended);
  const chatLines = readFileSync(chat, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { messages: { role: string; tool_calls?: unknown[] }[] });
  assert.equal(chatLines.length, ended, 'every pinned run made a model call');
  for (const [index, line] of chatLines.entries()) assert.deepEqual(chatLineProblems(line), [], `chat line ${index + 1}`);
  assert.ok(
    chatLines.some((line) => line.messages.some((message) => message.role === 'tool') && line.messages.some((message) => (message.tool_calls?.length ?? 0) > 0)),
    'tool calls and their results are in the fine-tuning lines',
  );

  const paid = refundsPaid();
  assert.ok(paid > 0, 'the demo paid refunds');
  const evalBegan = performance.now();
  const unchanged = await keel(['eval', 'run', '--dataset', 'refunds', '--model', 'sim:default', '--json', '--db', database], { cwd: folder });
  const unchangedMs = performance.now() - evalBegan;
  assert.equal(unchanged.code, 0, unchanged.stderr);
  const same = JSON.parse(unchanged.stdout) as EvaluationReport & { report: string };
  assert.notEqual(same.verdict, 'regressed');
  assert.equal(same.verdict, 'no-evidence');
  assert.equal(same.divergences, 0);

  const dropped = await keel(['eval', 'run', '--dataset', 'refunds', '--model', 'sim:default@0.85', '--json', '--db', database], { cwd: folder });
  assert.equal(dropped.code, 1, dropped.stderr);
  const worse = JSON.parse(dropped.stdout) as EvaluationReport & { report: string; statistics: { interval: { upper: number }; candidateMean: number } };
  assert.equal(worse.verdict, 'regressed');
  assert.ok(worse.statistics.interval.upper < 0);
  assert.ok(worse.statistics.candidateMean > 0.7 && worse.statistics.candidateMean < 0.97, `candidate exact-match rate ${worse.statistics.candidateMean}`);
  assert.equal(refundsPaid(), paid, 'no refund was paid again: tools were answered from the journal');

  // The scores are the evaluation run's journal: one score-record per item, on a verified chain.
  const journal = await keel(['show', worse.evaluation, '--json', '--db', database], { cwd: folder });
  assert.equal(journal.code, 0, journal.stderr);
  const shownRun = JSON.parse(journal.stdout) as { chain: { ok: boolean }; events: { type: string; data: { item?: string } }[] };
  assert.equal(shownRun.chain.ok, true);
  assert.deepEqual(
    shownRun.events.filter((event) => event.type === 'score-record').map((event) => event.data.item),
    items.map((item) => item.id),
  );
  assert.ok(existsSync(worse.report));
  const html = readFileSync(worse.report, 'utf8');
  assert.match(html, /regressed/);
  assert.equal((html.match(/<svg/g) ?? []).length, 3, 'distributions, per-item differences and the interval');
  console.log(`recorded 200 demo runs in ${Math.round(recordMs)} ms; one evaluation of ${ended} items in ${Math.round(unchangedMs)} ms (spawned keel, this machine under load)`);
});
