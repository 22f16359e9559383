/**
 * The real `keel` command (bin/keel.js on this Node), spawned the way a user runs it, for the
 * tests of this folder. The child's environment carries nothing of ours (no KEEL_DB, KEEL_TASKS,
 * KEEL_CONFIG or KEEL_PG_SCHEMA from outside).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
export const tasksModule = join(import.meta.dirname, '..', 'cli', 'fixtures', 'tasks.ts');

export interface KeelResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_PG_SCHEMA: _schema, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'tester', ...extra };
}

/** Runs `keel ARGS` to its end in `cwd`. `wrap` runs it through another program (`unshare …`), which gets the node command line after its own arguments. */
export function keel(args: string[], options: { cwd: string; env?: Record<string, string>; wrap?: string[] }): Promise<KeelResult> {
  const command = [process.execPath, launcher, ...args];
  const [program = '', ...programArgs] = options.wrap === undefined ? command : [...options.wrap, ...command];
  const child = spawn(program, programArgs, { cwd: options.cwd, env: childEnvironment(options.env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A user error: the exit code, and one line on stderr naming the code, without a stack. */
export function assertOneLineError(result: KeelResult, exitCode: number, errorCode: string, context: string): void {
  assert.equal(result.code, exitCode, `${context}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.equal(result.stderr.split('\n').length, 2, `${context}: one line on stderr, got:\n${result.stderr}`);
  assert.ok(result.stderr.startsWith(`keel: error [${errorCode}]: `), `${context}: ${result.stderr}`);
}

/**
 * What a file is: its bytes, its modification time, and the files beside it in its folder. Any
 * write through SQLite changes the first two; a journal or WAL file it left would show in the third.
 */
export function fileState(path: string): string {
  if (!existsSync(path)) return 'missing';
  const folder = join(path, '..');
  return JSON.stringify({
    sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
    mtimeMs: statSync(path).mtimeMs,
    folder: readdirSync(folder).sort(),
  });
}
