/**
 * `keel serve --policies DIR`: the real process, the deployment's Cedar policy set (under the
 * repository's own policies/keel.cedarschema) deciding `call-model` on every request, beside a
 * virtual key's model list; and a policy set that cannot be used stopping the start in one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JournalEvent } from '../../src/journal/index.ts';
import type { KeelResult } from '../cli-hygiene/keel-process.ts';
import { assertOneLineError, childEnvironment, fileState, keel, launcher } from '../cli-hygiene/keel-process.ts';
import type { KeelChild } from '../gateway-load/keel-child.ts';
import { journalOnceItHolds, listeningURL, startKeel } from '../gateway-load/keel-child.ts';

const repositorySchema = join(import.meta.dirname, '..', '..', 'policies', 'keel.cedarschema');
const folder = mkdtempSync(join(tmpdir(), 'keel-serve-policies-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** A policy directory: the repository's schema (unless `schema` replaces it, or is null: none) and the given `*.cedar` files. */
function policyDirectory(name: string, files: Record<string, string>, schema?: string | null): string {
  const directory = join(folder, name);
  mkdirSync(directory);
  if (schema === undefined) copyFileSync(repositorySchema, join(directory, 'keel.cedarschema'));
  else if (schema !== null) writeFileSync(join(directory, 'keel.cedarschema'), schema);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(directory, file), text);
  return directory;
}

const gatewayPolicies = `
@id("models-for-everyone")
@reason("every principal may call every model")
permit (principal, action == Action::"call-model", resource is Model);

@id("globex-no-sim-fast")
@reason("tenant globex may not call sim:fast")
forbid (principal, action == Action::"call-model", resource == Model::"sim:fast")
when { context.tenant == "globex" };

@id("intern-sim-only")
@reason("principal intern may only use sim: models")
forbid (principal == User::"intern", action == Action::"call-model", resource)
unless { resource.name like "sim:*" };
`;

const hello = [{ role: 'user', content: 'Hello' }];

describe('keel serve --policies', () => {
  const database = join(folder, 'keel.db');
  let served: KeelChild;
  let url: string;

  before(async () => {
    const config = join(folder, 'keel.config.json');
    // A tenant budget, so a call that reaches the model reserves, and one the policy denies visibly does not.
    writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'support', models: ['sim:default'] }], budgets: [{ scope: 'tenant', micros: 1_000_000_000 }] }));
    const policies = policyDirectory('gateway', { 'gateway.cedar': gatewayPolicies });
    served = startKeel(['serve', '--port', '0', '--db', database, '--config', config, '--policies', policies], {}, { withoutVariables: /^(OPENAI_|ANTHROPIC_|KEEL_|OTEL_)/ });
    url = await listeningURL(served);
  });
  after(async () => {
    served.child.kill('SIGTERM');
    assert.equal((await served.exited).code, 0, served.output());
  });

  async function post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown; runId: string }> {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify(body) });
    const runId = response.headers.get('keel-run-id');
    assert.ok(runId !== null, `${path} ${response.status}: the answer names its run`);
    return { status: response.status, body: await response.json(), runId };
  }

  function journal(runId: string): Promise<readonly JournalEvent[]> {
    return journalOnceItHolds(database, runId, (events) => events.some((event) => event.type === 'run-end'));
  }

  function decisions(events: readonly JournalEvent[]): [unknown, unknown][] {
    return events.filter((event) => event.type === 'policy-decision').map((event) => [event.data.effect, event.data.policyIds]);
  }

  test('a tenant the policy forbids a model is a 403 in OpenAI\'s and Anthropic\'s shapes, journaled as the deny with its policy id, nothing reserved', async () => {
    const message = 'anonymous of tenant globex may not call model sim:fast: forbidden by globex-no-sim-fast (tenant globex may not call sim:fast)';
    const openai = await post('/v1/chat/completions', { model: 'sim:fast', messages: hello }, { 'keel-tenant': 'globex' });
    assert.equal(openai.status, 403);
    assert.deepEqual(openai.body, { error: { message, type: 'permission_error', param: null, code: 'policy_denied' } });
    const anthropic = await post('/v1/messages', { model: 'sim:fast', max_tokens: 64, messages: hello }, { 'keel-tenant': 'globex' });
    assert.equal(anthropic.status, 403);
    assert.deepEqual(anthropic.body, { type: 'error', error: { type: 'permission_error', message }, request_id: anthropic.runId });
    for (const { runId } of [openai, anthropic]) {
      const events = await journal(runId);
      const decision = events.find((event) => event.type === 'policy-decision');
      assert.equal(decision?.type, 'policy-decision');
      assert.deepEqual(
        decision.type === 'policy-decision' && { ...decision.data, policySetVersion: typeof decision.data.policySetVersion },
        {
          principal: 'anonymous',
          action: 'call-model',
          resource: 'Model::sim:fast',
          effect: 'deny',
          policyIds: ['globex-no-sim-fast'],
          reason: 'forbidden by globex-no-sim-fast (tenant globex may not call sim:fast)',
          engine: 'cedar',
          policySetVersion: 'string',
        },
      );
      assert.deepEqual(events.filter((event) => event.type === 'budget-decision'), [], 'no budget was reserved');
      assert.ok(!events.some((event) => event.type === 'step-start'), 'no model step ran');
      const end = events.at(-1);
      assert.equal(end?.type === 'run-end' ? end.data.status : undefined, 'failed');
    }
  });

  test('another tenant calls the same model (200), after the policy allowed it and the budget was reserved', async () => {
    for (const [path, body] of [
      ['/v1/chat/completions', { model: 'sim:fast', messages: hello }],
      ['/v1/messages', { model: 'sim:fast', max_tokens: 64, messages: hello }],
    ] as const) {
      const answer = await post(path, body, { 'keel-tenant': 'acme' });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const events = await journal(answer.runId);
      assert.deepEqual(decisions(events), [['allow', ['models-for-everyone']]]);
      assert.ok(events.some((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved'), 'the call reserved its budget');
    }
  });

  test('policies read the model by name: principal intern may call sim: models only, not the route support', async () => {
    const denied = await post('/v1/chat/completions', { model: 'support', messages: hello }, { 'keel-principal': 'intern' });
    assert.equal(denied.status, 403);
    assert.deepEqual(decisions(await journal(denied.runId)), [['deny', ['intern-sim-only']]]);
    const allowed = await post('/v1/chat/completions', { model: 'sim:default', messages: hello }, { 'keel-principal': 'intern' });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    const otherwise = await post('/v1/chat/completions', { model: 'support', messages: hello }, { 'keel-principal': 'support-lead' });
    assert.equal(otherwise.status, 200, JSON.stringify(otherwise.body));
  });

  // Last: once the store holds a key, every request needs one.
  test('a virtual key\'s model list applies alongside: a call needs both the key\'s and the deployment\'s policies to allow it', async () => {
    const key = async (tenant: string, models: string): Promise<string> => {
      const created = await keel(['keys', 'create', '--tenant', tenant, '--principal', 'svc', '--models', models, '--db', database], { cwd: folder });
      assert.equal(created.code, 0, created.stderr);
      return created.stdout.trim();
    };
    const acme = await key('acme', 'sim:default');
    const globex = await key('globex', 'sim:fast');
    const call = (secret: string, model: string) => post('/v1/chat/completions', { model, messages: hello }, { authorization: `Bearer ${secret}` });

    const both = await call(acme, 'sim:default');
    assert.equal(both.status, 200, JSON.stringify(both.body));
    assert.deepEqual(decisions(await journal(both.runId)), [
      ['allow', ['key-models']],
      ['allow', ['models-for-everyone']],
    ]);
    // The deployment permits every model to acme; the key lists only sim:default.
    const unlisted = await call(acme, 'sim:fast');
    assert.equal(unlisted.status, 403);
    assert.match((unlisted.body as { error: { message: string } }).error.message, /^svc of tenant acme with key key_[0-9a-f]{12} may not call model sim:fast: no policy permits/);
    assert.deepEqual(decisions(await journal(unlisted.runId)), [['not-applicable', []]]);
    // The key lists sim:fast; the deployment forbids it to globex.
    const forbidden = await call(globex, 'sim:fast');
    assert.equal(forbidden.status, 403);
    const events = await journal(forbidden.runId);
    assert.deepEqual(decisions(events), [
      ['allow', ['key-models']],
      ['deny', ['globex-no-sim-fast']],
    ]);
    assert.deepEqual(events.filter((event) => event.type === 'budget-decision'), [], 'no budget was reserved');
  });
});

/** `keel ARGS` expected to exit before it listens; if it listens instead, it is stopped and the test fails (rather than waiting on a server). */
async function failedStart(args: string[]): Promise<KeelResult> {
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: childEnvironment() });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('listening on')) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.ok(!stdout.includes('listening on'), `keel ${args.join(' ')} started serving: ${stdout}`);
  return { code, stdout, stderr };
}

test('a policy set keel serve cannot use stops the start: one line naming the file and the problem, exit 2, no database', async () => {
  // The repository's schema without its gateway part: policies validate, but no call-model request could.
  const withoutModels = `entity Role;\nentity User in [Role] { tenant: String };\nentity Service in [Role] { tenant: String };\naction "call-tool" appliesTo { principal: [User, Service], resource: [User], context: { tenant: String } };\n`;
  const broken = policyDirectory('broken', {
    'fine.cedar': '@id("models-for-everyone")\npermit (principal, action == Action::"call-model", resource is Model);\n',
    'broken.cedar': '@id("by-colour")\nforbid (principal, action == Action::"call-model", resource is Model)\nwhen { resource.colour == "red" };\n',
  });
  const cases: [string, RegExp][] = [
    [join(folder, 'missing'), /: policy directory \S+missing could not be read: ENOENT/],
    [policyDirectory('no-schema', { 'fine.cedar': '@id("a")\npermit (principal, action, resource);\n' }, null), /: policy directory \S+no-schema has no keel\.cedarschema$/],
    [broken, /: invalid policy set: \S+broken\.cedar:3:\d+: policy "by-colour": .*colour/],
    [
      policyDirectory('no-models', { 'tools.cedar': '@id("tools")\npermit (principal, action == Action::"call-tool", resource);\n' }, withoutModels),
      /: invalid policy set: \S+no-models\/keel\.cedarschema: does not accept the gateway's call-model request without a key \(declare it as policies\/keel\.cedarschema does\): /,
    ],
  ];
  for (const [directory, problem] of cases) {
    const database = join(folder, 'never.db');
    const result = await failedStart(['serve', '--port', '0', '--db', database, '--policies', directory]);
    assertOneLineError(result, 2, 'usage-invalid', directory);
    assert.ok(result.stderr.startsWith(`keel: error [usage-invalid]: --policies ${directory}: `), result.stderr);
    assert.match(result.stderr.trimEnd(), problem);
    assert.equal(result.stdout, '', 'it never listened');
    assert.equal(fileState(database), 'missing', 'no database was created');
  }
});
