import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { keelPlugin } from '../../eslint.config.js';

const root = join(import.meta.dirname, '..', '..');

// Only the boundary rule, without type information: the snippets need not exist on disk.
const linter = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { keel: keelPlugin }, rules: { 'keel/component-boundaries': 'error' } }],
});

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await linter.lintText(code, { filePath: join(root, file) });
  assert.ok(result !== undefined);
  return result.messages.map((message) => `${message.ruleId ?? 'parse'}: ${message.message}`);
}

test("reaching into another component's internals is an error that names the index to use", async () => {
  assert.deepEqual(await problems('src/tools/example.ts', "import { GovernedModel } from '../models/governance/governed-model.ts';\n"), [
    'keel/component-boundaries: import from ../models/index.ts: ../models/governance/governed-model.ts reaches into the models component (components talk through their index.ts)',
  ]);
  const deeper = await problems('src/tools/sub/example.ts', "import type { RecordedRequest } from '../../models/openai/testing/openai-wire-server.ts';\n");
  assert.equal(deeper.length, 1);
  assert.match(deeper[0] ?? '', /import from \.\.\/\.\.\/models\/index\.ts/);
  // A sub-folder's own index.ts is still an internal of its component, unless named a narrow entry.
  assert.match((await problems('src/engine/example.ts', "import { PostgresStore } from '../store/postgres/index.ts';\n"))[0] ?? '', /import from \.\.\/store\/index\.ts/);
});

test('a narrow entry (eslint.config.js) may be imported as its index.ts is; a file beside it may not', async () => {
  const code = [
    "import { openStore } from '../../store/open-store.ts';",
    "import { SqliteStore } from '../../store/sqlite/index.ts';",
    "import { verifyChain } from '../../journal/verify.ts';",
    "import { loadRun } from '../../journal/read-run.ts';",
    "import { openSealedFieldsIn } from '../../redaction/open-sealed-fields.ts';",
    'export { openStore, SqliteStore, verifyChain, loadRun, openSealedFieldsIn };',
    '',
  ].join('\n');
  assert.deepEqual(await problems('src/cli/commands/example.ts', code), []);
  assert.deepEqual(await problems('test/example/example.test.ts', "import { verifyChain } from '../../src/journal/verify.ts';\nexport { verifyChain };\n"), []);
  const beside = await problems('src/cli/commands/example.ts', "import { JournalWriter } from '../../journal/journal-writer.ts';\nexport { JournalWriter };\n");
  assert.equal(beside.length, 1);
  assert.match(beside[0] ?? '', /import from \.\.\/\.\.\/journal\/index\.ts/);
  // spec and errors still import no component, narrow entries included.
  assert.match((await problems('src/errors/example.ts', "import { canonicalJson } from '../journal/hash.ts';\nexport { canonicalJson };\n"))[0] ?? '', /src\/errors imports nothing from other components/);
});

test('every way of naming a module is checked: re-exports, dynamic imports, import types', async () => {
  const code = [
    "export { sealEvent } from '../journal/seal.ts';",
    "export * from '../journal/events.ts';",
    "const seal = await import('../journal/seal.ts');",
    "type Marker = import('../journal/events.ts').ConfidenceMarker;",
    'export { seal, type Marker };',
    '',
  ].join('\n');
  const found = await problems('src/context/example.ts', code);
  assert.equal(found.length, 4, found.join('\n'));
  assert.ok(found.every((message) => message.includes('import from ../journal/index.ts')));
});

test("through index.ts, and inside one's own component (tests and testing/ helpers included), nothing is reported", async () => {
  const code = [
    "import { GovernedModel } from '../models/index.ts';",
    "import type { JsonValue } from '../spec/index.ts';",
    "import { KeelError } from '../errors/index.ts';",
    "import { callTool } from './governed-tool-call.ts';",
    "import { RecordingRunContext } from './testing/recording-run-context.ts';",
    "import { z } from 'zod';",
    'export { GovernedModel, KeelError, callTool, RecordingRunContext, z, type JsonValue };',
    '',
  ].join('\n');
  assert.deepEqual(await problems('src/tools/example.ts', code), []);
  assert.deepEqual(await problems('src/tools/example.test.ts', code), []);
  const helper = [
    "import { GovernedModel } from '../../models/index.ts';",
    "import { callTool } from '../governed-tool-call.ts';",
    "import { RecordingRunContext } from './recording-run-context.ts';",
    'export { GovernedModel, callTool, RecordingRunContext };',
    '',
  ].join('\n');
  assert.deepEqual(await problems('src/tools/testing/example.ts', helper), []);
});

test("a test may reach its own component's internals, never another's", async () => {
  const found = await problems('src/tools/example.test.ts', "import { RecordingRunContext } from './testing/recording-run-context.ts';\nimport { wordTokenizer } from '../context/testing/word-tokenizer.ts';\nexport { RecordingRunContext, wordTokenizer };\n");
  assert.equal(found.length, 1);
  assert.match(found[0] ?? '', /import from \.\.\/context\/index\.ts/);
});

test('spec and errors import no other component, and spec imports types only', async () => {
  assert.deepEqual(await problems('src/spec/example.ts', "import type { KeelError } from '../errors/index.ts';\nexport type { KeelError };\n"), [
    'keel/component-boundaries: src/spec imports nothing from other components, but ../errors/index.ts is in errors',
  ]);
  assert.deepEqual(await problems('src/errors/example.ts', "import type { JsonValue } from '../spec/index.ts';\nexport type { JsonValue };\n"), [
    'keel/component-boundaries: src/errors imports nothing from other components, but ../spec/index.ts is in spec',
  ]);
  assert.deepEqual(await problems('src/spec/example.ts', "import { z } from 'zod';\nexport type Schema = z.ZodType;\n"), ['keel/component-boundaries: src/spec is types only: use `import type`']);
  assert.deepEqual(await problems('src/spec/example.ts', "import type { z } from 'zod';\nimport type { JsonValue } from './store-v1.ts';\nexport type Schema = z.ZodType<JsonValue>;\n"), []);
});

test('root test/ and bench/ files use component index.ts files only; components do not import the package root', async () => {
  const found = await problems('test/example/example.test.ts', "import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';\nimport { Engine } from '../../src/engine/index.ts';\nexport { SqliteStore, Engine };\n");
  assert.equal(found.length, 1);
  assert.match(found[0] ?? '', /import from \.\.\/\.\.\/src\/store\/index\.ts: \.\.\/\.\.\/src\/store\/sqlite\/sqlite-store\.ts reaches into the store component/);
  assert.deepEqual(await problems('bench/example.ts', "import { Engine } from '../src/engine/index.ts';\nimport * as keel from '../src/index.ts';\nexport { Engine, keel };\n"), []);
  assert.match((await problems('src/tools/example.ts', "import * as keel from '../index.ts';\nexport { keel };\n"))[0] ?? '', /do not import the package root/);
});

test("the project's own lint configuration applies the rule to src, test and bench", async () => {
  const project = new ESLint({ cwd: root });
  for (const file of ['src/tools/tool-registry.ts', 'src/spec/index.ts', 'test/security/suite.ts', 'bench/run.ts']) {
    const config = (await project.calculateConfigForFile(join(root, file))) as { rules?: Record<string, unknown> };
    assert.deepEqual(config.rules?.['keel/component-boundaries'], [2], file);
  }
});
