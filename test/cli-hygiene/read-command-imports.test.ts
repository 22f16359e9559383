/**
 * Read commands load only what they use: `keel runs`, `show`, `escalations`, `audit verify` and
 * `--help` on a SQLite store must not load the model SDKs, the PostgreSQL driver, Cedar, the
 * tokenizer tables, the gateway's server or Redis. Each case runs the real `keel` with a preload
 * that records every module file the process loads. (How fast they start is measured in bench/.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/store/index.ts';

const repositoryRoot = join(import.meta.dirname, '..', '..');
const bin = join(repositoryRoot, 'bin', 'keel.js');
const recorder = join(import.meta.dirname, 'record-modules.ts');
const heavy = /\/node_modules\/(openai|@anthropic-ai\/sdk|pg|pg-[a-z-]+|@cedar-policy\/cedar-wasm|gpt-tokenizer|hono|@hono\/node-server|redis|@redis\/[a-z-]+|@modelcontextprotocol\/sdk|cockatiel|minisearch|zod)\//;
// Keel's own parts no read command uses on SQLite, which the component index files would bring:
// the PostgreSQL store, the journal's writer, and redaction's and retention's acts.
const unused = /\/src\/(store\/postgres\/|journal\/(journal-writer|seal|step-scope)\.ts|redaction\/(run-sealer|redact-subject|apply-retention|sealed-memory)\.ts)/;
// Built-ins an ES import of node:fs, node:util or node:crypto loads (their namespaces' lazy members:
// fs streams and promises; util's diff and worker_threads; Web Crypto), and node:crypto itself,
// which only the commands that hash need.
const unusedBuiltins = (command: string[]) =>
  new RegExp(`^builtin:(internal/fs/streams|internal/fs/promises|internal/util/diff|worker_threads|internal/crypto/webcrypto${['--help', 'runs'].includes(command[0] ?? '') ? '|crypto' : ''})$`);

let folder = '';
let database = '';
let runId = '';

/** Runs node with the recorder preloaded; returns the module files it loaded and its exit code. */
function loadedBy(args: string[], cwd: string): { code: number | null; modules: string[]; builtins: string[]; stderr: string } {
  const output = join(folder, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = spawnSync(process.execPath, ['--import', recorder, ...args], { cwd, encoding: 'utf8', env: { ...process.env, KEEL_RECORD_MODULES: output } });
  const lines = readFileSync(output, 'utf8').split('\n');
  return { code: result.status, modules: lines.filter((url) => url.startsWith('file:')), builtins: lines.filter((line) => line.startsWith('builtin:')), stderr: result.stderr };
}

describe('read commands', () => {
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'keel-imports-'));
    database = join(folder, 'keel.db');
    // The demo's store: ended runs and one waiting for a person, so escalations reads a journal.
    const demo = spawnSync(process.execPath, [bin, 'demo', '--db', database], { cwd: folder, encoding: 'utf8' });
    assert.equal(demo.status, 0, demo.stderr);
    const store = SqliteStore.open({ path: database, readOnly: true });
    runId = (await store.listRuns({ limit: 1 }))[0]?.id ?? '';
    assert.equal((await store.listRuns({ statuses: ['waiting'] })).length, 1, 'the demo leaves one run waiting');
    await store.close();
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  for (const command of [['--help'], ['runs'], ['show', 'RUN'], ['escalations'], ['audit', 'verify'], ['runs', '--json']]) {
    test(`keel ${command.join(' ')} loads no model SDK, pg, Cedar, tokenizer table, server or Redis, nor Keel's PostgreSQL store, journal writer or redaction acts, nor fs streams, util's diff or Web Crypto${['--help', 'runs'].includes(command[0] ?? '') ? ' or node:crypto' : ''}`, () => {
      const args = command.map((argument) => (argument === 'RUN' ? runId : argument));
      const { code, modules, builtins, stderr } = loadedBy([bin, ...args, ...(command[0] === '--help' ? [] : ['--db', database])], folder);
      assert.equal(code, 0, stderr);
      // It did load Keel's own modules: the recorder saw the process.
      assert.ok(modules.some((url) => url.includes('/cli/')), `no CLI module recorded: ${modules.join('\n')}`);
      assert.deepEqual(modules.filter((url) => heavy.test(url)), []);
      assert.deepEqual(modules.filter((url) => unused.test(url)), []);
      // audit verify reads journals as stored text; the journal's reader waits for a retention run, which the demo has none of.
      if (command[0] === 'audit') assert.deepEqual(modules.filter((url) => /\/src\/(journal\/(read-run|fold)|audit\/prove-run)\.ts$/.test(url)), []);
      assert.ok(builtins.includes('builtin:sqlite') === (command[0] !== '--help'), `the recorder lists built-ins: ${builtins.join(' ')}`);
      assert.deepEqual(builtins.filter((builtin) => unusedBuiltins(command).test(builtin)), []);
    });
  }
});

describe('tokenizer tables', () => {
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'keel-encodings-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const cost = join(repositoryRoot, 'src', 'cost', 'index.ts');
  const tables = (modules: string[]) => modules.filter((url) => /gpt-tokenizer\/esm\/(encoding|bpeRanks)\//.test(url));
  // Which `.tiktoken` rank files the script read, written to stderr: their parse is the tables' memory.
  const script = (count: string) =>
    `const fs = process.getBuiltinModule('node:fs'); const read = fs.readFileSync; const files = [];
     fs.readFileSync = (path, ...rest) => { if (String(path).endsWith('.tiktoken')) files.push(String(path).replace(/^.*\\//, '')); return read(path, ...rest); };
     (await import('node:module')).syncBuiltinESMExports();
     const cost = await import(${JSON.stringify(cost)}); ${count}; console.error(JSON.stringify(files));`;
  const ranksRead = (stderr: string) => JSON.parse(stderr.trim().split('\n').at(-1) ?? '[]') as string[];

  test("importing the cost component reads no ranks; counting for GPT-4o reads o200k's and not cl100k's; for GPT-4, cl100k's; never gpt-tokenizer's JavaScript tables (~45 MB of RSS)", () => {
    const imported = loadedBy(['--conditions=keel-source', '--input-type=module', '-e', script('')], folder);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(ranksRead(imported.stderr), []);
    assert.deepEqual(tables(imported.modules), []);
    const gpt4o = loadedBy(['--conditions=keel-source', '--input-type=module', '-e', script(`if (cost.countPromptTokens('openai', 'gpt-4o', { messages: [{ role: 'user', content: 'hello' }] }).tokens !== 8) process.exit(3);`)], folder);
    assert.equal(gpt4o.code, 0, gpt4o.stderr);
    assert.deepEqual(ranksRead(gpt4o.stderr), ['o200k_base.tiktoken']);
    assert.deepEqual(tables(gpt4o.modules), []);
    const gpt4 = loadedBy(['--conditions=keel-source', '--input-type=module', '-e', script(`cost.countPromptTokens('openai', 'gpt-4', { messages: [{ role: 'user', content: 'hello' }] });`)], folder);
    assert.equal(gpt4.code, 0, gpt4.stderr);
    assert.deepEqual(ranksRead(gpt4.stderr), ['cl100k_base.tiktoken']);
    assert.deepEqual(tables(gpt4.modules), []);
  });
});
