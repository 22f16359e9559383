import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultPriceTable } from '../cost/index.ts';
import { KeelError } from '../errors/index.ts';
import { GovernedModel } from '../models/index.ts';
import type { Alert } from '../models/index.ts';
import { buildGovernance, configHash, loadConfig, parseConfig } from './index.ts';

const source = 'keel.config.json';
const directory = mkdtempSync(join(tmpdir(), 'keel-config-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function validConfig(): Record<string, unknown> {
  return {
    version: 1,
    prices: {
      version: 'acme-2026-12',
      models: { 'sim:fast': { inputPerMillion: 200_000, outputPerMillion: 800_000 }, 'openai-compatible:llama3:8b': { inputPerMillion: 10, outputPerMillion: 20 } },
      free: ['openai:gpt-oss-120b'],
    },
    routes: [
      {
        name: 'support',
        models: ['sim:smart', 'sim:fast', 'sim:realistic'],
        strategy: 'ordered',
        rules: [{ when: { tier: 'simple', maxInputTokens: 2000 }, use: 'sim:fast', reason: 'small requests go to the small model' }],
        maxOutputTokens: 512,
        resilience: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 100, breaker: { consecutiveFailures: 3 }, bulkhead: { maxConcurrent: 4 } },
        onBudgetExceeded: 'downgrade',
      },
      { name: 'triage', models: ['sim:default'] },
    ],
    budgets: [{ scope: 'tenant-day', match: 'acme', micros: 5_000_000, alertAt: [0.5, 0.8, 1] }, { scope: 'run', tokens: 100_000 }],
    latencySlas: [{ task: 'support', p95Ms: 3000, window: 20 }],
    alerts: { webhooks: ['https://hooks.example.com/keel'] },
  };
}

type Json = Record<string | number, unknown>;

/** The valid config with the setting at `path` set to `value`. */
function withSetting(path: (string | number)[], value: unknown): Json {
  const config: Json = validConfig();
  const last = path.at(-1);
  if (last === undefined) throw new Error('empty path');
  let target = config;
  for (const key of path.slice(0, -1)) target = target[key] as Json;
  target[last] = value;
  return config;
}

function assertConfigError(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof KeelError, `expected a KeelError, got ${String(error)}`);
    assert.equal(error.code, 'config-invalid');
    assert.equal(error.message, message);
    return true;
  });
}

function build(config: unknown, environment: Record<string, string | undefined> = {}) {
  return buildGovernance(parseConfig(config, source), { environment, source });
}

test('a valid config builds every route, merges prices and sets up budgets, SLAs and hooks', async () => {
  const governance = build(validConfig());
  assert.deepEqual([...governance.routes.keys()], ['support', 'triage']);
  assert.ok(governance.routes.get('support') instanceof GovernedModel);
  assert.equal(governance.prices.version, 'acme-2026-12');
  assert.deepEqual(governance.prices.models['sim:fast'], { inputPerMillion: 200_000, outputPerMillion: 800_000 });
  assert.deepEqual(governance.prices.models['sim:smart'], defaultPriceTable.models['sim:smart']);
  assert.deepEqual(governance.prices.free, [...(defaultPriceTable.free ?? []), 'openai:gpt-oss-120b']);
  assert.ok(governance.ledger !== undefined);
  assert.ok(governance.latency !== undefined);
  assert.equal(governance.alertHooks.length, 1);
  assert.match(governance.hash, /^[0-9a-f]{64}$/);

  // The built route answers: resilience settings with partial breaker and bulkhead are complete.
  // A budgeted route answers only inside a run (model-call-outside-step), so ask a budget-free build.
  const { budgets: _budgets, ...unbudgeted } = validConfig();
  const result = await build(unbudgeted).routes.get('triage')?.doGenerate({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
  assert.equal(result?.cost?.priceVersion, 'acme-2026-12');
});

test('without prices the built-in table is used as it is', () => {
  const governance = build({ version: 1, routes: [{ name: 'triage', models: ['sim:default'] }] });
  assert.equal(governance.prices, defaultPriceTable);
  assert.equal(governance.ledger, undefined);
  assert.equal(governance.latency, undefined);
  assert.deepEqual(governance.alertHooks, []);
});

test('the config hash ignores key order and changes with any value', () => {
  const config = validConfig();
  const reordered = Object.fromEntries(Object.entries(config).reverse());
  const first = configHash(parseConfig(config, source));
  assert.equal(configHash(parseConfig(reordered, source)), first);
  assert.equal(configHash(parseConfig(JSON.parse(JSON.stringify(config, null, 2)), source)), first);
  assert.notEqual(configHash(parseConfig(withSetting(['routes', 1, 'maxOutputTokens'], 100), source)), first);
  assert.equal(build(config).hash, first);
});

test('an unknown provider names the model setting', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 0, 'models', 3], 'foo:bar'), source),
    "keel.config.json: routes[0].models[3]: unknown provider 'foo' in 'foo:bar' (known: sim, openai, openai-responses, anthropic)",
  );
});

test('a model not written provider:model is refused', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 1, 'models'], ['gpt-4o']), source),
    "keel.config.json: routes[1].models[0]: must be written provider:model (e.g. openai:gpt-4o-mini, sim:default), got 'gpt-4o'",
  );
});

test('a missing OPENAI_API_KEY fails at start, naming the route', () => {
  const config = withSetting(['routes', 1, 'models'], ['openai:gpt-4o']);
  assertConfigError(() => build(config, {}), 'keel.config.json: routes[1] (triage): OPENAI_API_KEY is not set (needed for model openai:gpt-4o)');
  assert.ok(build(config, { OPENAI_API_KEY: 'sk-test' }).routes.has('triage'));
});

test('a missing ANTHROPIC_API_KEY fails at start, naming the route', () => {
  const config = withSetting(['routes', 0, 'models', 3], 'anthropic:claude-sonnet-4-5');
  assertConfigError(() => build(config, {}), 'keel.config.json: routes[0] (support): ANTHROPIC_API_KEY is not set (needed for model anthropic:claude-sonnet-4-5)');
});

test('an unpriced model fails at start, naming the route', () => {
  const config = withSetting(['routes', 1, 'models'], ['openai-responses:gpt-9']);
  assertConfigError(
    () => build(config, { OPENAI_API_KEY: 'sk-test' }),
    'keel.config.json: routes[1] (triage): no price for openai:gpt-9 in price table acme-2026-12; add it to the table or declare it free (free: ["openai:gpt-9"])',
  );
});

test('a rule may only use a model of its route', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 0, 'rules', 0, 'use'], 'sim:flaky'), source),
    "keel.config.json: routes[0].rules[0].use: 'sim:flaky' is not one of route support's models (sim:smart, sim:fast, sim:realistic)",
  );
});

test('route names are unique', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 1, 'name'], 'support'), source),
    "keel.config.json: routes[1].name: duplicate route name 'support' (also routes[0])",
  );
});

test('an unknown key is an error, not a silent default', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 0, 'maxOuputTokens'], 100), source),
    'keel.config.json: routes[0].maxOuputTokens: unknown setting (allowed here: name, models, strategy, rules, maxOutputTokens, resilience, onBudgetExceeded, rateLimit, pin)',
  );
  assertConfigError(
    () => parseConfig(withSetting(['routes', 0, 'resilience', 'breaker', 'threshold'], 3), source),
    'keel.config.json: routes[0].resilience.breaker.threshold: unknown setting (allowed here: consecutiveFailures, halfOpenAfterMs)',
  );
});

test('a fractional price is refused: money is integer micro-USD', () => {
  assertConfigError(
    () => parseConfig(withSetting(['prices', 'models', 'openai:gpt-4o'], { inputPerMillion: 2.5, outputPerMillion: 10 }), source),
    'keel.config.json: prices.models["openai:gpt-4o"].inputPerMillion: must be an integer (micro-USD per million tokens), got 2.5',
  );
});

test('a negative budget is refused', () => {
  assertConfigError(() => parseConfig(withSetting(['budgets', 0, 'micros'], -5), source), 'keel.config.json: budgets[0].micros: must be ≥ 0 (micro-USD), got -5');
});

test('a budget needs a limit, and alert thresholds are fractions', () => {
  assertConfigError(() => parseConfig(withSetting(['budgets', 1], { scope: 'task' }), source), 'keel.config.json: budgets[1]: sets neither micros nor tokens: a budget needs a limit');
  assertConfigError(
    () => parseConfig(withSetting(['budgets', 0, 'alertAt'], [0.5, 80]), source),
    'keel.config.json: budgets[0].alertAt[1]: must be a fraction of the budget in (0, 1.5], got 80',
  );
});

test('maxDelayMs may not be below initialDelayMs', () => {
  assertConfigError(
    () => parseConfig(withSetting(['routes', 0, 'resilience', 'maxDelayMs'], 5), source),
    'keel.config.json: routes[0].resilience.maxDelayMs: must be ≥ initialDelayMs (10), got 5',
  );
});

test('loadConfig reads and validates a file', () => {
  const path = join(directory, 'good.json');
  writeFileSync(path, JSON.stringify(validConfig(), null, 2));
  assert.equal(configHash(loadConfig(path)), configHash(parseConfig(validConfig(), source)));

  const bad = join(directory, 'bad-setting.json');
  writeFileSync(bad, JSON.stringify(withSetting(['version'], 2)));
  assertConfigError(() => loadConfig(bad), `${bad}: version: unsupported config version 2 (this Keel reads version 1)`);
});

test('a file that is not JSON is reported with its position', () => {
  const path = join(directory, 'malformed.json');
  writeFileSync(path, '{\n  "version": 1,\n}\n');
  assertConfigError(() => loadConfig(path), `${path} is not valid JSON: Expected double-quoted property name in JSON at position 18 (line 3 column 1)`);
});

test('a missing file is reported as such', () => {
  const path = join(directory, 'absent.json');
  assertConfigError(() => loadConfig(path), `config file ${path} not found`);
});

test('a webhook receives the alert as a JSON POST', async () => {
  const received: { method: string | undefined; url: string | undefined; type: string | undefined; body: unknown }[] = [];
  let status = 204;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method, url: request.url, type: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const config = withSetting(['alerts', 'webhooks'], [`http://127.0.0.1:${port}/hooks/s3cret`]);
    const [hook] = build(config).alertHooks;
    assert.ok(hook !== undefined);
    const alert: Alert = { kind: 'budget-threshold', scope: 'tenant:acme', message: 'tenant:acme has spent 80% of its budget', threshold: 0.8, value: 0.81, runId: 'run_1' };
    await hook(alert);
    assert.deepEqual(received, [{ method: 'POST', url: '/hooks/s3cret', type: 'application/json', body: alert }]);

    // A failing webhook throws for the alert mechanism to report, without the secret path.
    status = 500;
    await assert.rejects(async () => hook(alert), { message: `webhook http://127.0.0.1:${port} answered 500` });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("the gateway's limits are whole numbers a timer can hold, and do not change the config hash", () => {
  const withGateway = parseConfig(withSetting(['gateway'], { writeStallMs: 5_000, drainMs: 0, maxBodyBytes: 1_048_576 }), source);
  assert.deepEqual(withGateway.gateway, { writeStallMs: 5_000, drainMs: 0, maxBodyBytes: 1_048_576 });
  assert.equal(configHash(withGateway), configHash(parseConfig(withSetting(['gateway'], { writeStallMs: 60_000 }), source)));
  assertConfigError(() => parseConfig(withSetting(['gateway'], { writeStallMs: 0 }), source), 'keel.config.json: gateway.writeStallMs: must be ≥ 1 (ms), got 0');
  assertConfigError(() => parseConfig(withSetting(['gateway'], { drainMs: 2.5 }), source), 'keel.config.json: gateway.drainMs: must be an integer (ms), got 2.5');
  assertConfigError(
    () => parseConfig(withSetting(['gateway'], { requestTimeoutMs: 2 ** 31 }), source),
    'keel.config.json: gateway.requestTimeoutMs: must be ≤ 2147483647 (ms, the longest a timer holds), got 2147483648',
  );
  assertConfigError(() => parseConfig(withSetting(['gateway'], { stallMs: 5 }), source), 'keel.config.json: gateway.stallMs: unknown setting (allowed here: writeStallMs, drainMs, headersTimeoutMs, requestTimeoutMs, maxBodyBytes, cache)');
});

test("the gateway's response cache names its models and keeps answers for a whole number of ms", () => {
  const cached = parseConfig(withSetting(['gateway'], { cache: { models: ['support', 'sim:default'], ttlMs: 300_000, maxBytes: 1_048_576 } }), source);
  assert.deepEqual(cached.gateway?.cache, { models: ['support', 'sim:default'], ttlMs: 300_000, maxBytes: 1_048_576 });
  assertConfigError(() => parseConfig(withSetting(['gateway'], { cache: { models: [], ttlMs: 1_000 } }), source), 'keel.config.json: gateway.cache.models: must list at least 1 item');
  assertConfigError(() => parseConfig(withSetting(['gateway'], { cache: { models: ['support'] } }), source), 'keel.config.json: gateway.cache.ttlMs: is required');
  assertConfigError(() => parseConfig(withSetting(['gateway'], { cache: { models: ['support'], ttlMs: 1_000, ttl: 5 } }), source), 'keel.config.json: gateway.cache.ttl: unknown setting (allowed here: models, ttlMs, maxBytes, maxEntryBytes, shared)');
});
