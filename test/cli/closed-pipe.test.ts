/** `keel … | head`: a reader that closes the pipe early ends the command quietly, exit 0, no stack. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-pipe-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('keel demo whose reader closes the pipe after the first line exits 0 without a stack trace', async () => {
  const child = spawn(process.execPath, [launcher, 'demo', '--db', join(folder, 'keel.db')], { cwd: folder, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // The first chunk is the header; closing our end then is what `head -1` does.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
