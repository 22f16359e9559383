import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { childEnvironment, keel } from './proxy-harness.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-mcp-proxy-example-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('examples/mcp-proxy runs: its client lists the tools, is refused by the policy, waits for keel approve, and the session is one ok run', async () => {
  const database = join(folder, 'keel.db');
  const environment = childEnvironment();
  // The example's config starts its upstream with `node`: this Node, which runs TypeScript.
  const child = spawn(process.execPath, ['--conditions=keel-source', join(import.meta.dirname, '..', '..', 'examples', 'mcp-proxy', 'client.ts')], {
    env: { ...environment, KEEL_DB: database, PATH: `${dirname(process.execPath)}${delimiter}${environment.PATH ?? ''}` },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /^tools: notes__read_note, notes__write_note, notes__delete_note, notes__publish_note$/m);
  assert.match(output, /^read_note: ship it$/m);
  assert.match(output, /^delete_note: Keel refused notes__delete_note \(policy-denied by policy no-destructive-tools\)/m);
  assert.match(output, /^keel approve: user:example-lead approved run_\S+; the keel mcp-proxy session holding it continues the call$/m);
  assert.match(output, /^publish_note: published plan: ship it$/m);
  const runId = /keel show (run_\S+)/.exec(output)?.[1] ?? '';
  const runs = await keel(['runs', '--json', '--db', database]);
  assert.deepEqual(
    (JSON.parse(runs.stdout) as { runs: { id: string; task: string; status: string }[] }).runs.map((run) => [run.id, run.task, run.status]),
    [[runId, 'mcp-proxy', 'ok']],
  );
});
