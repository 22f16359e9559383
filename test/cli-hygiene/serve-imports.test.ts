/**
 * `keel serve` loads what serving needs, not what it might: started and answering a request with no
 * OpenTelemetry endpoint set, it must not load the span exporter or the GenAI semantic conventions
 * (megabytes of JavaScript a gateway would hold for nothing); on SQLite, without an admin token, not
 * the PostgreSQL store, the agent loop (output contracts, context assembly, memory), the admin API
 * nor the dashboard. Runs the real `keel` with the preload that records every module file the process loads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listeningURL, startKeel } from '../gateway-load/keel-child.ts';

const recorder = join(import.meta.dirname, 'record-modules.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-serve-imports-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('keel serve, started and answering a request without an OTLP endpoint nor an admin token, loads no span exporter, GenAI semantic conventions, PostgreSQL store, agent loop, admin API or dashboard', { timeout: 60_000 }, async () => {
  const output = join(folder, 'modules.txt');
  // Nothing inherited may set a provider, an OTLP endpoint, an admin token or a preload of its own.
  const served = startKeel(['serve', '--port', '0', '--db', join(folder, 'keel.db')], { KEEL_RECORD_MODULES: output }, { nodeArguments: ['--import', recorder], withoutVariables: /^(OPENAI_|ANTHROPIC_|KEEL_|OTEL_|NODE_OPTIONS$)/ });
  try {
    const url = await listeningURL(served);
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim:fast', messages: [{ role: 'user', content: 'Hello' }] }) });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  } finally {
    served.child.kill('SIGTERM');
  }
  assert.equal((await served.exited).code, 0, served.output());
  const modules = readFileSync(output, 'utf8').split('\n').filter((url) => url.startsWith('file:'));
  assert.ok(modules.some((url) => url.endsWith('/src/telemetry/keel-metrics.ts')), 'the recorder lists what serve loads');
  assert.deepEqual(modules.filter((url) => /\/node_modules\/@opentelemetry\/semantic-conventions\/|\/src\/telemetry\/(span-export|journal-spans|gen-ai-attributes|journal-span-exporter)\.ts$/.test(url)), []);
  assert.ok(modules.some((url) => url.endsWith('/src/agent/create-keel.ts')), 'the gateway is a Keel deployment');
  // The admin token's check stays: it is the small file that reads KEEL_ADMIN_TOKEN.
  assert.deepEqual(modules.filter((url) => /\/src\/(store\/postgres|contracts|context|memory|dashboard)\/|\/src\/gateway\/admin\/(?!admin-token\.ts$)|\/src\/agent\/(define-agent|run-agent|agent-context)\.ts$/.test(url)), []);
});
