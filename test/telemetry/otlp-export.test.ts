import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { journalSpans } from '../../src/telemetry/index.ts';

// The real `keel telemetry export` process, the official OTLP/HTTP exporter inside it, and a real
// HTTP receiver here decoding OTLP JSON. The exporter is SIGKILLed while the receiver holds its
// third batch unanswered; a new one is started and must send that batch again and nothing else twice.
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-otlp-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const baseEnvironment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_|OTEL_)/.test(name)));

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

/** ExportTraceServiceRequest in OTLP's JSON encoding (ids as hex, as the JSON mapping says). */
function decode(body: string): { spans: ReceivedSpan[]; serviceName: unknown; schemaUrl: unknown } {
  const request = JSON.parse(body) as {
    resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { schemaUrl?: string; spans: (Omit<ReceivedSpan, 'attributes'> & { attributes: { key: string; value: OtlpValue }[] })[] }[] }[];
  };
  const spans: ReceivedSpan[] = [];
  let serviceName: unknown;
  let schemaUrl: unknown;
  for (const resource of request.resourceSpans) {
    serviceName = valueOf(resource.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value ?? {});
    for (const scope of resource.scopeSpans) {
      schemaUrl = scope.schemaUrl;
      for (const span of scope.spans) spans.push({ ...span, parentSpanId: span.parentSpanId ?? '', attributes: Object.fromEntries(span.attributes.map((attribute) => [attribute.key, valueOf(attribute.value)])) });
    }
  }
  return { spans, serviceName, schemaUrl };
}

class Receiver {
  readonly acknowledged: ReceivedSpan[] = [];
  readonly held: ReceivedSpan[] = [];
  requests = 0;
  serviceName: unknown;
  schemaUrl: unknown;
  /** The request number (1-based) to hold without an answer. */
  holdRequest = 0;
  /** Settles when the held request's connection closes. */
  heldClosed: Promise<void> | undefined;
  #onHeld: (() => void) | undefined;
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  readonly server = createServer((request, response) => void this.#handle(request, response));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when the held request arrives. */
  heldArrives(): Promise<void> {
    return new Promise((resolve) => (this.#onHeld = resolve));
  }

  until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${this.acknowledged.length} span(s) acknowledged`)), timeoutMs);
      this.#waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    assert.equal(request.url, '/v1/traces');
    assert.match(String(request.headers['content-type']), /application\/json/);
    const decoded = decode(body);
    this.serviceName = decoded.serviceName;
    this.schemaUrl = decoded.schemaUrl;
    this.requests += 1;
    if (this.requests === this.holdRequest) {
      // Never answered: the exporter is killed while it waits, so this batch was not acknowledged.
      this.held.push(...decoded.spans);
      this.heldClosed = new Promise((resolve) => request.socket.once('close', () => resolve()));
      this.#onHeld?.();
      return;
    }
    this.acknowledged.push(...decoded.spans);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    this.#waiters = this.#waiters.filter((waiter) => (waiter.check() ? (waiter.resolve(), false) : true));
  }
}

function startExporter(database: string, endpoint: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [launcher, 'telemetry', 'export', '--db', database], {
    env: { ...baseEnvironment, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'keel-test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function expectedSpans(database: string): Promise<Map<string, ReturnType<typeof journalSpans>[number]>> {
  const store = await openStore({ database, create: false, readOnly: true, environment: {} });
  try {
    const spans = new Map<string, ReturnType<typeof journalSpans>[number]>();
    for (const id of await store.listRunIds()) for (const span of journalSpans(await store.readJournal(id))) spans.set(span.spanId, span);
    return spans;
  } finally {
    await store.close();
  }
}

function keel(database: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [launcher, ...args, '--db', database], { encoding: 'utf8', env: baseEnvironment });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('the demo runs reach an OTLP receiver with GenAI attributes; a SIGKILL mid-export and a restart deliver each span exactly once', async () => {
  const database = join(folder, 'keel.db');
  keel(database, 'demo');
  const receiver = new Receiver();
  const endpoint = await receiver.listen();
  try {
    const before = await expectedSpans(database);
    assert.ok(before.size > 3 * 16, `the demo gives enough spans for several batches (${before.size})`);

    receiver.holdRequest = 3;
    const held = receiver.heldArrives();
    const first = startExporter(database, endpoint);
    await held;
    // Batches 1 and 2 were acknowledged; the exporter waits on batch 3's answer when it dies.
    assert.equal(receiver.acknowledged.length, 32);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null);
    await receiver.heldClosed;
    assert.ok(receiver.held.length > 0);

    const second = startExporter(database, endpoint);
    await receiver.until(() => receiver.acknowledged.length >= before.size, 'every span of the demo');

    // The run waiting for a person ends once approved; the running exporter sends what it completes.
    const waiting = JSON.parse(keel(database, 'escalations', '--json')) as { escalations: { id: string }[] };
    assert.equal(waiting.escalations.length, 1);
    keel(database, 'approve', waiting.escalations[0]?.id ?? '', '--as', 'lead:ana');
    const afterApproval = await expectedSpans(database);
    assert.ok(afterApproval.size > before.size);
    await receiver.until(() => receiver.acknowledged.length >= afterApproval.size, 'the approved run’s spans');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());

    // Exactly once: every span the journal gives, acknowledged once, none twice, none unknown.
    const counts = new Map<string, number>();
    for (const span of receiver.acknowledged) counts.set(span.spanId, (counts.get(span.spanId) ?? 0) + 1);
    assert.deepEqual([...counts.entries()].filter(([, count]) => count !== 1), []);
    assert.deepEqual([...counts.keys()].sort(), [...afterApproval.keys()].sort());

    // The batch the killed exporter never heard back on was sent again, span for span the same.
    const byId = new Map(receiver.acknowledged.map((span) => [span.spanId, span]));
    for (const span of receiver.held) assert.deepEqual(byId.get(span.spanId), span);

    // What the spans say, checked against the journal.
    for (const span of receiver.acknowledged) {
      const expected = afterApproval.get(span.spanId);
      assert.ok(expected !== undefined);
      assert.equal(span.traceId, expected.traceId);
      assert.equal(span.parentSpanId, expected.parentSpanId ?? '');
      assert.equal(span.name, expected.name);
      assert.equal(BigInt(span.startTimeUnixNano), BigInt(Date.parse(expected.startTime)) * 1_000_000n);
      assert.equal(BigInt(span.endTimeUnixNano), BigInt(Date.parse(expected.endTime)) * 1_000_000n);
    }
    assert.equal(receiver.serviceName, 'keel-test');
    assert.equal(receiver.schemaUrl, 'https://opentelemetry.io/schemas/1.41.0');
    const chats = receiver.acknowledged.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    assert.ok(chats.length >= 5);
    for (const chat of chats) {
      assert.equal(chat.kind, 3, 'a model call is a CLIENT span');
      assert.equal(chat.attributes['gen_ai.request.model'], 'sim:default');
      assert.equal(chat.attributes['gen_ai.response.model'], 'default');
      assert.equal(chat.attributes['gen_ai.provider.name'], 'sim');
      assert.ok(Number(chat.attributes['gen_ai.usage.input_tokens']) > 0 && Number(chat.attributes['gen_ai.usage.output_tokens']) > 0);
      assert.match(String(chat.attributes['keel.journal.hash']), /^[0-9a-f]{64}$/);
      assert.ok(Number(chat.attributes['keel.budget.reserved_micros']) > 0);
      assert.ok(Number(chat.attributes['keel.budget.remaining_micros']) > 0);
      // Prompts and answers stay in the journal unless asked for.
      assert.equal(chat.attributes['keel.input.journal_hash'], undefined);
    }
    const agents = receiver.acknowledged.filter((span) => span.attributes['gen_ai.operation.name'] === 'invoke_agent');
    assert.equal(agents.length, 5);
    assert.deepEqual(agents.map((span) => span.attributes['gen_ai.agent.name']), Array(5).fill('support-refund'));
    assert.deepEqual(agents.map((span) => span.attributes['keel.run.status']).sort(), ['degraded', 'failed', 'ok', 'ok', 'ok']);
    const tools = receiver.acknowledged.filter((span) => span.attributes['gen_ai.operation.name'] === 'execute_tool');
    assert.ok(tools.some((span) => span.attributes['gen_ai.tool.name'] === 'issue_refund'));
    const policies = receiver.acknowledged.filter((span) => span.name.startsWith('policy_decision '));
    assert.ok(policies.some((span) => span.attributes['keel.policy.effect'] === 'allow' && (span.attributes['keel.policy.ids'] as string[]).includes('customer-reads-own-order')));
  } finally {
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
});

test('keel telemetry export without an OTLP endpoint is refused in one line, before the store is opened', () => {
  const database = join(folder, 'never-created.db');
  const result = spawnSync(process.execPath, [launcher, 'telemetry', 'export', '--once', '--db', database], { encoding: 'utf8', env: baseEnvironment });
  assert.equal(result.status, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /needs OTEL_EXPORTER_OTLP_ENDPOINT/);
  assert.equal(existsSync(database), false, 'no database created');
});
