/**
 * The installable package: build, `npm pack`, install the tarball in an empty project, and use it
 * there the way a user would (import 'keel', run the `keel` bin) on Node 24 and Node 22.18+.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InstalledPackage, PackedKeel } from './installed-package.ts';
import { cleanEnvironment, findUnsupportedNode, installPackage, nodeBinaries, packKeel, pathWithNode, repositoryRoot, runCommand } from './installed-package.ts';

const consumerScript = join(import.meta.dirname, 'consumer.ts');
const quickstartScript = join(repositoryRoot, 'examples', 'quickstart', 'agent.ts');
const aiSdkScript = join(repositoryRoot, 'examples', 'ai-sdk', 'refund-loop.ts');
const langChainScript = join(repositoryRoot, 'examples', 'langchain', 'refund-agent.ts');
const openAiAgentsScript = join(repositoryRoot, 'examples', 'openai-agents', 'refund-agent.ts');

interface ConsumerReport {
  runId: string;
  status: string;
  output: unknown;
  events: number;
  tools: string[];
  refused: string;
}

function singleJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stdout, got:\n${stdout}`);
  return JSON.parse(lines[0] ?? '');
}

// Cases share one install and touch separate files, so they run side by side.
describe('the packed package', { concurrency: true }, () => {
  let packed: PackedKeel;
  let installation: InstalledPackage | undefined;
  const installed = (): InstalledPackage => {
    assert.ok(installation !== undefined, 'the tarball was not installed');
    return installation;
  };

  before(async () => {
    packed = await packKeel();
    const { peerDependencies } = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    // The project asks for zod itself, as a user defining schemas would, and for the AI SDK and LangChain, as users of keel/ai-sdk and keel/langchain would.
    installation = await installPackage(packed.tarball, [`zod@${peerDependencies.zod}`, `ai@${peerDependencies.ai}`, `@ai-sdk/provider@${peerDependencies['@ai-sdk/provider']}`, `langchain@${peerDependencies.langchain}`, `@langchain/core@${peerDependencies['@langchain/core']}`, `@openai/agents@${peerDependencies['@openai/agents']}`]);
  });
  after(() => installation?.remove());

  test('ships the build with its runtime files, the compiled examples, the bin and the Cedar starter policies, and no sources, tests or fixtures', () => {
    // Files the code reads beside its modules (policies, documents) ship beside the compiled modules.
    const assets = (folder: string, into: string): string[] =>
      readdirSync(join(repositoryRoot, folder), { recursive: true, encoding: 'utf8' })
        .filter((file) => !file.endsWith('.ts') && !/(^|[\\/])(\.[^\\/]*|testing|fixtures|conformance)([\\/]|$)/.test(file) && statSync(join(repositoryRoot, folder, file)).isFile())
        .map((file) => `${into}/${file.split(sep).join('/')}`);
    const expected = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/ai-sdk/index.js', 'dist/ai-sdk/index.d.ts', 'dist/langchain/index.js', 'dist/langchain/index.d.ts', 'dist/openai-agents/index.js', 'dist/openai-agents/index.d.ts', 'bin/keel.js', 'policies/keel.cedarschema', 'dist/examples/support-refund/index.js'];
    for (const file of [...expected, ...assets('src', 'dist'), ...assets('examples', 'dist/examples')]) {
      assert.ok(packed.files.includes(file), `${file} is missing from the tarball`);
    }
    const unwanted = packed.files.filter((file) => /(^|\/)(src|test|testing|fixtures|conformance)\/|\.test\.|\.fixture\.|test-helpers|test-database|(?<!\.d)\.ts$/.test(file));
    assert.deepEqual(unwanted, []);
  });

  for (const [label, node] of [
    ['Node 24', nodeBinaries.node24],
    ['Node 22', nodeBinaries.node22],
  ] as const) {
    describe(`on ${label}`, { concurrency: true }, () => {
      test('the node binary is the version it claims', async () => {
        const version = await runCommand(node, ['--version'], { cwd: repositoryRoot });
        assert.match(version.stdout, label === 'Node 24' ? /^v24\./ : /^v22\.(1[89]|[2-9]\d)\./);
      });

      test("a script importing only 'keel' and zod runs a task on SQLite with the simulator, and the installed CLI lists it", async () => {
        const database = join(installed().directory, `${label.replace(' ', '-')}.db`);
        const ran = await installed().runScript(consumerScript, node, [database]);
        assert.equal(ran.code, 0, ran.stderr);
        const report = singleJsonLine(ran.stdout) as ConsumerReport;
        assert.equal(report.status, 'ok');
        assert.deepEqual(report.output, { orderId: 'A-1001', refundCents: 4200 });
        assert.ok(report.events >= 4, `a run with a tool and a model step journals at least run-start, two steps and run-end; got ${report.events}`);
        assert.deepEqual(report.tools, ['lookup_order']);
        assert.equal(report.refused, 'db-url-invalid');

        const listed = await installed().runBin('keel', node, ['runs', '--db', database, '--json']);
        assert.equal(listed.code, 0, listed.stderr);
        const { runs } = JSON.parse(listed.stdout) as { runs: { id: string; task: string; status: string }[] };
        assert.deepEqual(
          runs.map(({ id, task, status }) => ({ id, task, status })),
          [{ id: report.runId, task: 'refund', status: 'ok' }],
        );
      });

      test('the quickstart agent (examples/quickstart/agent.ts) runs from the package and prints its run', async () => {
        const database = join(installed().directory, `quickstart-${label.replace(' ', '-')}.db`);
        const ran = await installed().runScript(quickstartScript, node, [], { environment: { KEEL_DB: database } });
        assert.equal(ran.code, 0, ran.stderr);
        const report = singleJsonLine(ran.stdout) as { id: string; status: string };
        assert.deepEqual(Object.keys(report), ['id', 'status']);
        assert.ok(report.status === 'ok' || report.status === 'degraded', `status ${report.status}`);
        const listed = await installed().runBin('keel', node, ['runs', '--db', database, '--json']);
        const { runs } = JSON.parse(listed.stdout) as { runs: { id: string; task: string; status: string }[] };
        assert.deepEqual(runs.map(({ id, task, status }) => ({ id, task, status })), [{ id: report.id, task: 'refund-agent', status: report.status }]);
      });

      test('the AI SDK example (examples/ai-sdk/refund-loop.ts) runs its generateText loop under keel/ai-sdk from the package', async () => {
        const database = join(installed().directory, `ai-sdk-${label.replace(' ', '-')}.db`);
        const ran = await installed().runScript(aiSdkScript, node, [], { environment: { KEEL_DB: database } });
        assert.equal(ran.code, 0, ran.stderr);
        const report = singleJsonLine(ran.stdout) as { runs: { principal: string; status: string; costMicros: number; output: { text: string } }[]; refunds: number };
        assert.deepEqual(report.runs.map((run) => [run.principal, run.status]), [['ada', 'ok'], ['guest', 'ok']]);
        assert.equal(report.refunds, 1, 'the guest\'s refund was refused by policy and never ran');
        assert.match(report.runs[1]?.output.text ?? '', /refused/);
        for (const run of report.runs) assert.ok(run.costMicros > 0, 'each run is priced');
      });

      test('the LangChain example (examples/langchain/refund-agent.ts) runs its createAgent loop under keel/langchain from the package', async () => {
        const database = join(installed().directory, `langchain-${label.replace(' ', '-')}.db`);
        const ran = await installed().runScript(langChainScript, node, [], { environment: { KEEL_DB: database } });
        assert.equal(ran.code, 0, ran.stderr);
        const report = singleJsonLine(ran.stdout) as { runs: { principal: string; status: string; costMicros: number; output: { text: string } }[]; refunds: number };
        assert.deepEqual(report.runs.map((run) => [run.principal, run.status]), [['ada', 'ok'], ['guest', 'ok']]);
        assert.equal(report.refunds, 1, "the guest's refund was refused by policy and never ran");
        assert.match(report.runs[1]?.output.text ?? '', /refused/);
        for (const run of report.runs) assert.ok(run.costMicros > 0, 'each run is priced');
      });

      test('the OpenAI Agents example (examples/openai-agents/refund-agent.ts) runs the SDK loop with Keel as its model provider from the package', async () => {
        const database = join(installed().directory, `openai-agents-${label.replace(' ', '-')}.db`);
        const ran = await installed().runScript(openAiAgentsScript, node, [], { environment: { KEEL_DB: database } });
        assert.equal(ran.code, 0, ran.stderr);
        const report = singleJsonLine(ran.stdout) as { runs: { principal: string; status: string; costMicros: number; spans: number; output: { text: string; turns: number } }[]; refunds: number };
        assert.deepEqual(report.runs.map((run) => [run.principal, run.status, run.output.turns]), [['ada', 'ok', 3], ['guest', 'ok', 3]], `the example printed: ${ran.stdout}`);
        assert.equal(report.refunds, 1, "the guest's refund was refused by policy and never ran");
        assert.match(report.runs[1]?.output.text ?? '', /refused/);
        for (const run of report.runs) {
          assert.ok(run.costMicros > 0, 'each run is priced');
          assert.ok(run.spans >= 6, `the SDK's spans are in each run's journal (got ${run.spans})`);
        }
      });

      test('the MCP proxy example (examples/mcp-proxy) runs the installed `keel mcp-proxy` in front of its MCP server: allowed, refused by policy, approved by `keel approve`', async () => {
        const folder = join(installed().directory, `mcp-proxy-${label.replace(' ', '-')}`);
        cpSync(join(repositoryRoot, 'examples', 'mcp-proxy'), folder, { recursive: true });
        const ran = await runCommand(node, [join(folder, 'client.ts')], {
          cwd: installed().directory,
          environment: cleanEnvironment({ PATH: pathWithNode(node), KEEL_BIN: join(installed().directory, 'node_modules', 'keel', 'bin', 'keel.js'), KEEL_DB: join(folder, 'keel.db') }),
        });
        assert.equal(ran.code, 0, `${ran.stdout}${ran.stderr}`);
        assert.match(ran.stdout, /^tools: notes__read_note, notes__write_note, notes__delete_note, notes__publish_note$/m);
        assert.match(ran.stdout, /^read_note: ship it$/m);
        assert.match(ran.stdout, /^delete_note: Keel refused notes__delete_note \(policy-denied by policy no-destructive-tools\)/m);
        assert.match(ran.stdout, /^keel approve: user:example-lead approved run_/m);
        assert.match(ran.stdout, /^publish_note: published plan: ship it$/m);
      });

      test('`keel --help` prints the usage', async () => {
        // npx on one Node is enough to show the bin is wired; the other runs the linked bin directly.
        const help = label === 'Node 24' ? await installed().runNpx('keel', node, ['--help']) : await installed().runBin('keel', node, ['--help']);
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, /^keel: the production harness for LLM agents\n\nusage: keel COMMAND/);
      });
    });
  }

  test('the quickstart stays a quickstart: at most 80 lines, importing only keel, zod and node built-ins', () => {
    const text = readFileSync(quickstartScript, 'utf8');
    assert.ok(text.trimEnd().split('\n').length <= 80, 'examples/quickstart/agent.ts is longer than 80 lines');
    const imported = [...text.matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    assert.deepEqual([...new Set(imported)].sort(), ['keel', 'zod']);
  });

  test('the LangChain example imports only keel, keel/langchain, langchain and zod', () => {
    const imported = [...readFileSync(langChainScript, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    assert.deepEqual([...new Set(imported)].sort(), ['keel', 'keel/langchain', 'langchain', 'zod']);
  });

  test('the OpenAI Agents example imports only keel, keel/openai-agents, @openai/agents and zod', () => {
    const imported = [...readFileSync(openAiAgentsScript, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    assert.deepEqual([...new Set(imported)].sort(), ['@openai/agents', 'keel', 'keel/openai-agents', 'zod']);
  });

  test('the AI SDK example imports only keel, keel/ai-sdk, ai and zod', () => {
    const imported = [...readFileSync(aiSdkScript, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    assert.deepEqual([...new Set(imported)].sort(), ['ai', 'keel', 'keel/ai-sdk', 'zod']);
  });

  test('`keel demo` runs from the package', async () => {
    const database = join(installed().directory, 'demo', 'keel.db');
    const demo = await installed().runNpx('keel', nodeBinaries.node24, ['demo', '--db', database, '--json']);
    assert.equal(demo.code, 0, demo.stderr);
    const runs = await installed().runNpx('keel', nodeBinaries.node24, ['runs', '--db', database, '--json']);
    const statuses = (JSON.parse(runs.stdout) as { runs: { status: string }[] }).runs.map((run) => run.status).sort();
    assert.deepEqual(statuses, ['degraded', 'failed', 'ok', 'ok', 'waiting']);
  });

  test('`keel serve` from the package serves the dashboard and the admin API with its OpenAPI document', async () => {
    const { spawn } = await import('node:child_process');
    const database = join(installed().directory, 'admin', 'keel.db');
    const token = 'package-test-admin-token-8c1f';
    const serve = spawn(nodeBinaries.node24, [join(installed().directory, 'node_modules', 'keel', 'bin', 'keel.js'), 'serve', '--port', '0', '--db', database], {
      cwd: installed().directory,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEEL_ADMIN_TOKEN: token },
    });
    const exited = new Promise<number | null>((resolve) => serve.once('close', resolve));
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        serve.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const found = /dashboard at (http:\/\/\S+)\/dashboard\//.exec(stdout);
          if (found?.[1] !== undefined) resolve(found[1]);
        });
        void exited.then((code) => reject(new Error(`keel serve exited (${code}) before listening: ${stdout}`)));
      });
      const page = await fetch(`${url}/dashboard/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="app.js">/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      for (const file of ['app.js', 'api.js', 'timeline.js', 'views/escalations.js', 'dashboard.css']) assert.equal((await fetch(`${url}/dashboard/${file}`)).status, 200, file);
      const openApi = await fetch(`${url}/admin/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(((await openApi.json()) as { openapi: string }).openapi, '3.1.0');
      assert.equal((await fetch(`${url}/admin/runs`)).status, 401);
    } finally {
      serve.kill('SIGTERM');
      await exited;
    }
  });

  test('the bin refuses a Node older than 22.18 in one line', async (context) => {
    const old = await findUnsupportedNode();
    if (old === undefined) {
      context.skip('no Node older than 22.18 on PATH');
      return;
    }
    const refused = await installed().runBin('keel', old, ['runs']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^keel: error \[runtime-unsupported\]: Node 2?\d\.\d+\.\d+ is too old \(need >= 22\.18\); install Node 22\.18 or later \(24 recommended\)\n$/);
  });

  test('the consumer type-checks against the installed declarations (no sources, no Keel tsconfig)', async () => {
    writeFileSync(
      join(installed().directory, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2024',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          // What `tsc --init` writes; the consumer's @ts-expect-error line catches declarations gone missing.
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(repositoryRoot, 'node_modules', '@types')],
        },
        files: ['typed-consumer.ts'],
      }),
    );
    // Declarations name their neighbours by the .js that exists beside each .d.ts, not the .ts source.
    const dist = join(installed().directory, 'node_modules', 'keel', 'dist');
    const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts'));
    assert.ok(declarations.length > 50, `only ${declarations.length} declaration files installed`);
    const sourceSpecifiers = declarations.filter((file) => /(from\s+|import\s*\(\s*)["']\.{1,2}\/[^"']+\.ts["']/.test(readFileSync(join(dist, file), 'utf8')));
    assert.deepEqual(sourceSpecifiers, []);

    copyFileSync(consumerScript, join(installed().directory, 'typed-consumer.ts'));
    const tsc = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await runCommand(nodeBinaries.node24, [tsc, '-p', 'tsconfig.json'], { cwd: installed().directory });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  test("the repo's `import 'keel'` (sources, keel-source condition) and the package export the same names", async () => {
    const listNames = "import('keel').then((keel) => console.log(JSON.stringify(Object.keys(keel).sort())))";
    const built = await runCommand(nodeBinaries.node24, ['--input-type=module', '-e', listNames], { cwd: installed().directory });
    assert.equal(built.code, 0, built.stderr);
    const source = await runCommand(nodeBinaries.node24, ['--conditions=keel-source', '--input-type=module', '-e', listNames], { cwd: join(repositoryRoot, 'examples') });
    assert.equal(source.code, 0, source.stderr);
    const names = JSON.parse(built.stdout) as string[];
    assert.deepEqual(JSON.parse(source.stdout), names);
    for (const name of ['defineTask', 'Engine', 'defineTool', 'ToolRegistry', 'defineOutputContract', 'defineFailureContract', 'openStore', 'KeelError', 'errorCodes', 'SimulatorModel', 'resolveModel', 'GovernedModel', 'loadConfig', 'parseConfig', 'CedarPolicyEngine']) {
      assert.ok(names.includes(name), `${name} is not exported from 'keel'`);
    }
    const listAiSdkNames = "import('keel/ai-sdk').then((adapter) => console.log(JSON.stringify(Object.keys(adapter).sort())))";
    const builtAdapter = await runCommand(nodeBinaries.node24, ['--input-type=module', '-e', listAiSdkNames], { cwd: installed().directory });
    assert.equal(builtAdapter.code, 0, builtAdapter.stderr);
    const sourceAdapter = await runCommand(nodeBinaries.node24, ['--conditions=keel-source', '--input-type=module', '-e', listAiSdkNames], { cwd: join(repositoryRoot, 'examples') });
    assert.equal(sourceAdapter.code, 0, sourceAdapter.stderr);
    assert.deepEqual(JSON.parse(sourceAdapter.stdout), JSON.parse(builtAdapter.stdout));
    for (const name of ['keelModel', 'createKeelProvider', 'keelMiddleware', 'governTools', 'throwIfRunInterrupted']) {
      assert.ok((JSON.parse(builtAdapter.stdout) as string[]).includes(name), `${name} is not exported from 'keel/ai-sdk'`);
    }
    const listAgentsNames = "import('keel/openai-agents').then((adapter) => console.log(JSON.stringify(Object.keys(adapter).sort())))";
    const builtAgents = await runCommand(nodeBinaries.node24, ['--input-type=module', '-e', listAgentsNames], { cwd: installed().directory });
    assert.equal(builtAgents.code, 0, builtAgents.stderr);
    const sourceAgents = await runCommand(nodeBinaries.node24, ['--conditions=keel-source', '--input-type=module', '-e', listAgentsNames], { cwd: join(repositoryRoot, 'examples') });
    assert.equal(sourceAgents.code, 0, sourceAgents.stderr);
    assert.deepEqual(JSON.parse(sourceAgents.stdout), JSON.parse(builtAgents.stdout));
    assert.deepEqual(JSON.parse(builtAgents.stdout), ['KeelAgentsModel', 'KeelTraceProcessor', 'governTools', 'idempotencyKeyOf', 'keelModelProvider', 'throwIfRunInterrupted', 'toolExecutionOf']);
    const listLangChainNames = "import('keel/langchain').then((adapter) => console.log(JSON.stringify(Object.keys(adapter).sort())))";
    const builtLangChain = await runCommand(nodeBinaries.node24, ['--input-type=module', '-e', listLangChainNames], { cwd: installed().directory });
    assert.equal(builtLangChain.code, 0, builtLangChain.stderr);
    const sourceLangChain = await runCommand(nodeBinaries.node24, ['--conditions=keel-source', '--input-type=module', '-e', listLangChainNames], { cwd: join(repositoryRoot, 'examples') });
    assert.equal(sourceLangChain.code, 0, sourceLangChain.stderr);
    assert.deepEqual(JSON.parse(sourceLangChain.stdout), JSON.parse(builtLangChain.stdout));
    for (const name of ['keelMiddleware', 'keelChatModel', 'KeelChatModel', 'runAgentLoop', 'idempotencyKeyOf']) {
      assert.ok((JSON.parse(builtLangChain.stdout) as string[]).includes(name), `${name} is not exported from 'keel/langchain'`);
    }
  });
});
