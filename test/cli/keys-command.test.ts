/**
 * End to end: the real `keel keys` and `keel serve` processes (bin/keel.js, on this Node) on a
 * SQLite file in a temporary folder, and the official OpenAI client against the served gateway.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-keys-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// No provider keys and no KEEL_ settings reach the children.
const environment = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_)/.test(name))), NO_COLOR: '1' };

function keel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: environment, cwd: folder });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface CreatedKey {
  secret: string;
  key: { keyId: string; tenant: string; principal: string; settings: { models: string[]; budget?: { micros: number; per: string }; rpm?: number }; revokedAt: string | null };
}

describe('keel keys', () => {
  const database = join(folder, 'keys.db');

  test('create prints the secret once, stores only its hash; list shows keys without secrets; revoke marks one', () => {
    const created = keel(['keys', 'create', '--db', database, '--tenant', 'acme', '--principal', 'svc-support', '--budget-micros', '5000', '--per', 'day', '--models', 'support, sim:default', '--rpm', '10', '--json']);
    assert.equal(created.status, 0, created.stderr);
    const first = JSON.parse(created.stdout) as CreatedKey;
    assert.match(first.secret, /^keel_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(first.key.settings, { models: ['support', 'sim:default'], budget: { micros: 5000, per: 'day' }, rpm: 10 });

    const before = Date.now();
    const expiring = keel(['keys', 'create', '--db', database, '--tenant', 'acme', '--principal', 'contractor', '--expires-in', '30d', '--json']);
    assert.equal(expiring.status, 0, expiring.stderr);
    const expiresAt = Date.parse((JSON.parse(expiring.stdout) as { key: { settings: { expiresAt: string } } }).key.settings.expiresAt);
    const thirtyDays = 30 * 86_400_000;
    assert.ok(expiresAt >= before + thirtyDays && expiresAt <= Date.now() + thirtyDays, 'expires 30 days after it was made');

    const plain = keel(['keys', 'create', '--db', database, '--tenant', 'acme', '--principal', 'batch-job']);
    assert.equal(plain.status, 0, plain.stderr);
    const secret = plain.stdout.trim();
    assert.match(secret, /^keel_[A-Za-z0-9_-]{43}$/, 'stdout is the secret and nothing else, for $(keel keys create …)');
    assert.match(plain.stderr, /created key_[0-9a-f]{12} for batch-job of tenant acme \(every model\); the secret above is shown once/);

    const listed = keel(['keys', 'list', '--db', database, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(first.secret) && !listed.stdout.includes(secret), 'no secret is ever listed');
    const keys = (JSON.parse(listed.stdout) as { keys: CreatedKey['key'][] }).keys;
    assert.deepEqual(
      keys.map((key) => [key.principal, key.revokedAt]),
      [
        ['svc-support', null],
        ['contractor', null],
        ['batch-job', null],
      ],
    );
    const bytes = readFileSync(database).toString('latin1') + (existsSync(`${database}-wal`) ? readFileSync(`${database}-wal`).toString('latin1') : '');
    assert.ok(!bytes.includes(first.secret.slice(5)) && !bytes.includes(secret.slice(5)), 'the database holds no secret');

    const revoked = keel(['keys', 'revoke', first.key.keyId, '--db', database]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^${first.key.keyId} revoked at \\d{4}-`));
    const table = keel(['keys', 'list', '--db', database]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`${first.key.keyId}\\s+acme\\s+svc-support\\s+models support,sim:default, .* per day, 10 rpm\\s+\\$0\\.00 of \\$0\\.005 on \\d{4}-\\d{2}-\\d{2}\\s+\\S+ \\S+\\s+\\d{4}-`));
    // A key without a budget has no account in the budget book: its SPENT is a dash.
    assert.match(table.stdout, /batch-job\s+every model\s+-\s+\S+ \S+\s+-/);
    assert.match(table.stdout, /contractor\s+every model, expires \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+-/);

    // A new secret for a live key, printed once; the key stays the same key.
    const contractor = keys.find((key) => key.principal === 'contractor');
    const rotated = keel(['keys', 'rotate', contractor?.keyId ?? '', '--db', database]);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /^keel_[A-Za-z0-9_-]{43}\n$/);
    assert.match(rotated.stderr, new RegExp(`${contractor?.keyId ?? ''} has a new secret, shown above once; the old one is refused from now on`));
    const revokedRotation = keel(['keys', 'rotate', first.key.keyId, '--db', database]);
    assert.equal(revokedRotation.status, 1);
    assert.match(revokedRotation.stderr, /^keel: error \[key-not-found\]: no live key key_[0-9a-f]{12}: it does not exist or was revoked/);

    const unknown = keel(['keys', 'revoke', 'key_000000000000', '--db', database]);
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
    assert.match(unknown.stderr, /^keel: error \[key-not-found\]: no key key_000000000000 in /);
  });

  test('bad arguments are one line and exit 2, before any database is made', () => {
    const fresh = join(folder, 'never.db');
    const cases: [string[], RegExp][] = [
      [['keys'], /keel keys needs a sub-command/],
      [['keys', 'create', '--principal', 'p'], /needs --tenant T and --principal P/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--budget-micros', '100'], /--budget-micros and --per go together/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--budget-micros', '100', '--per', 'week'], /--per must be one of run, day, month; got "week"/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--rpm', '0'], /--rpm must be a whole number from 1/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--models', 'a,,b'], /--models is a comma-separated list/],
      [['keys', 'create', '--tenant', 'bad tenant', '--principal', 'p'], /key tenant must be 1 to 200 letters/],
      [['keys', 'list', '--rpm', '3'], /keel keys list does not take --rpm/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--expires-in', '30w'], /--expires-in takes a whole number of minutes, hours or days up to ten years \(90m, 12h, 30d\); got "30w"/],
      [['keys', 'create', '--tenant', 't', '--principal', 'p', '--expires-in', '3651d'], /--expires-in takes a whole number/],
      [['keys', 'revoke'], /keel keys revoke needs KEY/],
      [['keys', 'rotate'], /keel keys rotate needs KEY/],
    ];
    for (const [args, message] of cases) {
      const result = keel([...args, '--db', fresh]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, message);
    }
    assert.ok(!existsSync(fresh), 'no database was created');
    const missing = keel(['keys', 'list', '--db', fresh]);
    assert.equal(missing.status, 1, missing.stderr);
    assert.ok(!existsSync(fresh), 'listing opens read-only and creates nothing');
  });
});

describe('keel serve with keys', () => {
  function serve(args: string[]) {
    const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', ...args], { env: environment, cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
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
    /** Resolves with stdout once it holds a line matching `pattern`. */
    const printed = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const look = () => {
          if (!stdout.split('\n').some((line) => pattern.test(line))) return;
          child.stdout.off('data', look);
          resolve(stdout);
        };
        child.stdout.on('data', look);
        look();
        void exited.then((code) => reject(new Error(`keel serve exited ${code} before printing ${String(pattern)}: ${stdout}`)));
      });
    return { child, url, exited, stderr: () => stderr, printed };
  }

  test('once the store holds a key, requests need one: the key works, none is a 401, and keys list shows what it spent', async () => {
    const database = join(folder, 'serve.db');
    const created = keel(['keys', 'create', '--db', database, '--tenant', 'acme', '--principal', 'svc-support', '--budget-micros', '1000000', '--per', 'month', '--json']);
    assert.equal(created.status, 0, created.stderr);
    const { secret, key } = JSON.parse(created.stdout) as CreatedKey;
    const served = serve(['--db', database, '--access-log']);
    try {
      const url = await served.url;
      const { data: answer, response } = await new OpenAI({ baseURL: `${url}/v1`, apiKey: secret, maxRetries: 0 }).chat.completions.create({ model: 'sim:default', messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
      assert.equal(answer.choices[0]?.message.content, 'Acknowledged: Hello');
      // --access-log: one JSON line on stdout per request, as its response ends.
      const logged = (await served.printed(/^\{"time"/))
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { method: string; path: string; status: number; runId?: string; completed: boolean });
      assert.deepEqual(
        logged.map((entry) => [entry.method, entry.path, entry.status, entry.runId, entry.completed]),
        [['POST', '/v1/chat/completions', 200, response.headers.get('keel-run-id') ?? '', true]],
      );
      const refused = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-not-a-keel-key', maxRetries: 0 }).models.list().catch((caught: unknown) => caught);
      assert.ok(refused instanceof OpenAI.AuthenticationError, String(refused));
    } finally {
      served.child.kill('SIGTERM');
    }
    assert.equal(await served.exited, 0, served.stderr());
    const runs = keel(['runs', '--json', '--db', database]);
    const listed = (JSON.parse(runs.stdout) as { runs: { tenant: string; principal: string; costMicros: number; tokens?: { input: number; output: number } }[] }).runs;
    assert.deepEqual(listed.map((run) => [run.tenant, run.principal]), [[key.tenant, key.principal]]);
    const cost = listed[0]?.costMicros ?? 0;
    assert.ok(cost > 0, 'the call was billed');
    // Read from the budget book the gateway reserved and settled in, in the key's month (UTC).
    const usage = (JSON.parse(keel(['keys', 'list', '--json', '--db', database]).stdout) as { keys: { usage: { period: string } & Record<string, unknown> }[] }).keys[0]?.usage;
    assert.match(usage?.period ?? '', /^\d{4}-\d{2}$/);
    assert.deepEqual({ ...usage, period: 'this month' }, { window: 'month', period: 'this month', limitMicros: 1_000_000, spentMicros: cost, reservedMicros: 0, remainingMicros: 1_000_000 - cost });
    // keel spend: the runs of a period around now by principal, from the run index (an explicit period:
    // this month's default would miss the run if the month turned between the call and the report).
    const period = ['--since', new Date(Date.now() - 3_600_000).toISOString(), '--until', new Date(Date.now() + 3_600_000).toISOString()];
    const spent = keel(['spend', '--by', 'principal', '--json', ...period, '--db', database]);
    assert.equal(spent.status, 0, spent.stderr);
    assert.deepEqual((JSON.parse(spent.stdout) as { rows: unknown[] }).rows, [{ group: 'svc-support', runs: 1, costMicros: cost, inputTokens: listed[0]?.tokens?.input ?? -1, outputTokens: listed[0]?.tokens?.output ?? -1 }]);
    const spentTable = keel(['spend', ...period, '--db', database]);
    assert.match(spentTable.stdout, /TENANT\s+RUNS\s+COST/);
    assert.match(spentTable.stdout, new RegExp(`acme\\s+1\\s+\\$0\\.0*${cost}\\b`));
    const badGrouping = keel(['spend', '--by', 'key', '--db', database]);
    assert.equal(badGrouping.status, 2, badGrouping.stderr);
    assert.match(badGrouping.stderr, /--by must be tenant, principal, task or tag:NAME; got "key"/);
    const table = keel(['keys', 'list', '--db', database]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /SPENT/);
    assert.match(table.stdout, new RegExp(`\\$0\\.0*${cost} of \\$1\\.00 in ${usage?.period ?? ''}`));
  });

  test('a host other than loopback without keys is refused in one line, unless --allow-anonymous', async () => {
    const database = join(folder, 'open.db');
    const refused = keel(['serve', '--port', '0', '--host', '0.0.0.0', '--db', database]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /keel serve on 0\.0\.0\.0 would answer other machines without keys: create one with keel keys create \(or pass --require-keys\), or pass --allow-anonymous/);

    const anonymous = serve(['--host', '0.0.0.0', '--allow-anonymous', '--db', database]);
    try {
      assert.match(await anonymous.url, /^http:\/\/0\.0\.0\.0:\d+$/);
    } finally {
      anonymous.child.kill('SIGTERM');
    }
    assert.equal(await anonymous.exited, 0, anonymous.stderr());

    const required = serve(['--require-keys', '--db', database]);
    try {
      const url = await required.url;
      const response = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(response.status, 401);
      assert.deepEqual(((await response.json()) as { error: { type: string } }).error.type, 'authentication_error');
    } finally {
      required.child.kill('SIGTERM');
    }
    assert.equal(await required.exited, 0, required.stderr());
  });
});
