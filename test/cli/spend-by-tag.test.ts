/**
 * End to end: a real `keel serve` process (bin/keel.js, on this Node) on a SQLite file, the
 * official OpenAI client sending request metadata, then `keel spend --by tag:project` reporting
 * what each project spent from the runs' tags.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-spend-tags-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// No provider keys and no KEEL_ settings reach the children.
const environment = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_)/.test(name))), NO_COLOR: '1' };

function keel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: environment, cwd: folder });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function serve(database: string) {
  const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', database], { env: environment, cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const address = /listening on (http:\/\/\S+:\d+):/.exec(stdout)?.[1];
      if (address !== undefined) resolve(address);
    });
    void exited.then((code) => reject(new Error(`keel serve exited ${code} before listening: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

interface SpendRow {
  group: string | null;
  runs: number;
  costMicros: number;
  inputTokens: number;
  outputTokens: number;
}

test('keel spend --by tag:project: the runs of the requests that sent project=search, project=ads and none, each group costing what its run did', async () => {
  const database = join(folder, 'spend.db');
  const served = serve(database);
  const runIds: Record<string, string> = {};
  try {
    const client = new OpenAI({ baseURL: `${await served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // Prompts of different lengths, so the three runs cost different amounts.
    const requests = [
      { name: 'search', prompt: 'Find the parcels shipped to Lisbon last week, and the ones still waiting at the depot', metadata: { project: 'search' } },
      { name: 'ads', prompt: 'Write an ad', metadata: { project: 'ads', campaign: 'spring' } },
      { name: 'none', prompt: 'Hello there', metadata: undefined },
    ];
    for (const request of requests) {
      const { response } = await client.chat.completions
        .create({ model: 'sim:default', messages: [{ role: 'user', content: request.prompt }], ...(request.metadata === undefined ? {} : { metadata: request.metadata }) })
        .withResponse();
      runIds[request.name] = response.headers.get('keel-run-id') ?? '';
    }
    // A bad keel-metadata header is a 400 naming it, and opens no run.
    const refused = await client.chat.completions.create({ model: 'sim:default', messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'keel-metadata': '{"project":' } }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
    assert.match(refused.message, /header keel-metadata must be a JSON object of strings/);
    assert.equal(refused.param, 'keel-metadata');
  } finally {
    served.child.kill('SIGTERM');
  }
  assert.equal(await served.exited, 0, served.stderr());

  const listed = keel(['runs', '--json', '--db', database]);
  assert.equal(listed.status, 0, listed.stderr);
  const runs = (JSON.parse(listed.stdout) as { runs: { id: string; costMicros: number; tokens: { input: number; output: number }; tags?: Record<string, string> }[] }).runs;
  assert.equal(runs.length, 3, 'three runs: the refused request opened none');
  const byId = new Map(runs.map((run) => [run.id, run]));
  assert.deepEqual(byId.get(runIds.ads ?? '')?.tags, { project: 'ads', campaign: 'spring' }, 'keel runs --json shows the tags');
  const rowOf = (group: string | null, runId: string | undefined): SpendRow => {
    const run = byId.get(runId ?? '');
    assert.ok(run !== undefined && run.costMicros > 0, `run ${runId} was billed`);
    return { group, runs: 1, costMicros: run.costMicros, inputTokens: run.tokens.input, outputTokens: run.tokens.output };
  };
  const expected = [rowOf('search', runIds.search), rowOf('ads', runIds.ads), rowOf(null, runIds.none)].toSorted((left, right) => right.costMicros - left.costMicros);
  assert.equal(new Set(expected.map((row) => row.costMicros)).size, 3, 'three different costs, so the order is by cost alone');

  // An explicit period around now: this month's default would miss the runs if the month turned meanwhile.
  const period = ['--since', new Date(Date.now() - 3_600_000).toISOString(), '--until', new Date(Date.now() + 3_600_000).toISOString()];
  const spent = keel(['spend', '--by', 'tag:project', '--json', ...period, '--db', database]);
  assert.equal(spent.status, 0, spent.stderr);
  const report = JSON.parse(spent.stdout) as { by: string; tag: string; rows: SpendRow[]; total: Omit<SpendRow, 'group'> };
  assert.equal(report.by, 'tag');
  assert.equal(report.tag, 'project');
  assert.deepEqual(report.rows, expected);
  assert.equal(report.total.costMicros, runs.reduce((sum, run) => sum + run.costMicros, 0));

  const table = keel(['spend', '--by', 'tag:project', ...period, '--db', database]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /by tag:project/);
  assert.match(table.stdout, /PROJECT\s+RUNS\s+COST/);
  assert.match(table.stdout, /\(none\)\s+1\s+\$/);
  assert.match(table.stdout, /search\s+1\s+\$/);

  const badName = keel(['spend', '--by', 'tag:bad name', ...period, '--db', database]);
  assert.equal(badName.status, 2, badName.stderr);
  assert.match(badName.stderr, /by tag needs the tag's name, 1 to 64 letters/);
  const badGrouping = keel(['spend', '--by', 'tags', '--db', database]);
  assert.equal(badGrouping.status, 2, badGrouping.stderr);
  assert.match(badGrouping.stderr, /--by must be tenant, principal, task or tag:NAME; got "tags"/);
});
