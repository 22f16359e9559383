/**
 * Every drill fault, run by the real `keel drill` against the support example (the demo's agent):
 * the report's expectations pass, and what it says the system alerted and logged is really there:
 * the alert-raise events in the journal, the events it points at in the runs' journals, and the
 * alerts at a webhook (a real HTTP server here, called by the config's webhook hook).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { drillFaultNames, drillFaults } from '../../src/drill/index.ts';
import type { DrillReport } from '../../src/drill/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import type { JournalEvent } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-drill-test-'));
const received: Record<string, unknown>[] = [];
const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    received.push(JSON.parse(body) as Record<string, unknown>);
    response.writeHead(204).end();
  });
});

function keel(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
  const child = spawn(process.execPath, [launcher, ...args], { cwd, env: { ...environment, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const reports = new Map<string, { report: DrillReport; database: string; cwd: string; html: string }>();

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const keys = generateKeyPairSync('ed25519');
  writeFileSync(join(folder, 'audit-signing.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(folder, 'audit-public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const config = join(folder, 'keel.json');
  writeFileSync(
    config,
    JSON.stringify({ version: 1, routes: [], alerts: { webhooks: [`http://127.0.0.1:${port}/alerts`] }, audit: { signingKeyFile: join(folder, 'audit-signing.pem'), publicKeyFile: join(folder, 'audit-public.pem') } }),
  );
  // Three at a time, each in its own folder and database (the demo's payments ledger lives beside it).
  const queue = [...drillFaultNames];
  const worker = async () => {
    for (let fault = queue.shift(); fault !== undefined; fault = queue.shift()) {
      const cwd = join(folder, fault);
      mkdirSync(cwd);
      const html = join(cwd, 'report.html');
      const result = await keel(['drill', 'support-refund', '--fault', fault, '--json', '--db', 'keel.db', '--config', config, '--html', html], cwd);
      assert.equal(result.code, 0, `keel drill --fault ${fault}: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
      reports.set(fault, { report: JSON.parse(result.stdout) as DrillReport, database: join(cwd, 'keel.db'), cwd, html });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

after(() => {
  server.close();
  rmSync(folder, { recursive: true, force: true });
});

async function journals(database: string, runIds: string[]): Promise<Map<string, JournalEvent[]>> {
  const store = await openStore({ database, create: false, environment: {} });
  try {
    const loaded = new Map<string, JournalEvent[]>();
    for (const runId of runIds) loaded.set(runId, (await loadRun(store, runId)).events);
    return loaded;
  } finally {
    await store.close();
  }
}

for (const fault of drillFaultNames) {
  test(`drill ${fault}: the report's expectations pass, and its alerts and log lines are in the journal and at the webhook`, async () => {
    const entry = reports.get(fault);
    assert.ok(entry !== undefined, `no report for ${fault}`);
    const { report, database } = entry;
    assert.equal(report.fault, fault);
    assert.equal(report.task, 'support-refund');
    for (const expectation of report.expectations) assert.ok(expectation.pass, `${fault}: ${expectation.name}: expected ${expectation.expected}, got ${expectation.actual}`);
    assert.ok(report.expectations.length >= 4, `${fault}: ${report.expectations.length} expectations`);
    assert.equal(report.pass, true);

    const wanted = drillFaults[fault].alert;
    const raised = report.alerts.filter((alert) => alert.kind === wanted);
    assert.ok(raised.length > 0, `${fault}: the report names no ${wanted} alert`);
    const loaded = await journals(database, [report.reportRunId, ...report.runs.map((run) => run.runId)]);

    // The report run: journaled under drill:support-refund, one alert-raise per alert it names, its output the report.
    const reportEvents = loaded.get(report.reportRunId) ?? [];
    const start = reportEvents[0];
    assert.ok(start?.type === 'run-start' && start.data.task === 'drill:support-refund', `${fault}: the report run is a drill:support-refund run`);
    const alertEvents = reportEvents.filter((event) => event.type === 'alert-raise');
    assert.deepEqual(
      alertEvents.map((event) => (event.type === 'alert-raise' ? [event.data.kind, event.data.about] : [])),
      report.alerts.map((alert) => [alert.kind, alert.about]),
      `${fault}: the alert-raise events are the alerts the report names`,
    );
    const end = reportEvents.at(-1);
    assert.ok(end?.type === 'run-end' && end.data.status === 'ok', `${fault}: the report run ended ok`);
    assert.equal((end.data.output as unknown as DrillReport).reportRunId, report.reportRunId);

    // What the report says was logged, and the evidence behind each alert, is in the runs' journals.
    for (const line of report.logged) {
      const event = loaded.get(line.runId)?.[line.seq - 1];
      assert.equal(event?.type, line.type, `${fault}: ${line.runId}#${line.seq} is a ${line.type} event`);
    }
    for (const alert of report.alerts) {
      const events = loaded.get(alert.about) ?? [];
      assert.ok(alert.evidence.length > 0);
      for (const seq of alert.evidence) assert.ok(events[seq - 1] !== undefined, `${fault}: evidence ${alert.about}#${seq} exists`);
    }
    // What the ended runs show: each drill run ended, as the report says.
    for (const run of report.runs) {
      const runEnd = loaded.get(run.runId)?.at(-1);
      assert.ok(runEnd?.type === 'run-end' && runEnd.data.status === run.status, `${fault}: ${run.runId} ended ${run.status}`);
    }

    // The webhook got every alert, naming the report run it was journaled in and the run it is about.
    for (const alert of raised) {
      const delivered = received.filter((body) => body.kind === alert.kind && body.about === alert.about && body.runId === report.reportRunId);
      assert.equal(delivered.length, 1, `${fault}: the webhook received the ${alert.kind} alert about ${alert.about}`);
    }
    assert.match(readFileSync(entry.html, 'utf8'), new RegExp(`Drill <code>${fault}</code> on <code>support-refund</code>: <span class="pass">PASS</span>`));
  });
}

test('drill store-outage: the store went down after the refund was journaled; the run was resumed from its journal and the refund paid once', async () => {
  const entry = reports.get('store-outage');
  assert.ok(entry !== undefined);
  const { report, database, cwd } = entry;
  assert.equal(report.seam, 'store');
  const [run] = report.runs;
  assert.ok(run !== undefined && ['ok', 'degraded', 'escalated', 'failed'].includes(run.status), JSON.stringify(report.runs));
  const events = (await journals(database, [run.runId])).get(run.runId) ?? [];
  // The execution that met the outage never ended the run; a second one resumed it from the journal.
  const resumes = events.filter((event) => event.type === 'run-resume');
  assert.deepEqual(resumes.map((event) => (event.type === 'run-resume' ? event.data.found : '')), ['new', 'interrupted']);
  assert.equal(events.filter((event) => event.type === 'run-end').length, 1);
  const refundSteps = events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call' && event.data.name === 'issue_refund');
  assert.equal(refundSteps.length, 1, 'the refund step was journaled once and not redone');
  assert.ok(
    refundSteps[0] !== undefined && resumes[1] !== undefined && refundSteps[0].seq < resumes[1].seq,
    'the refund was journaled before the outage, and answered from the journal after it',
  );
  const payments = new DatabaseSync(join(cwd, 'demo-payments.db'), { readOnly: true });
  try {
    assert.equal(Number(payments.prepare('SELECT count(*) AS n FROM refunds').get()?.n), 1, 'the refund was paid once');
  } finally {
    payments.close();
  }
  const [alert] = report.alerts.filter((raised) => raised.kind === 'store-unavailable');
  // Which calls come first depends on what the run had in flight; an append is always among them.
  assert.match(alert?.message ?? '', /the run store refused a write or a read \(\d+ calls? refused: [^)]*\bappend ×\d+/);
  assert.deepEqual(alert?.evidence, [resumes[1]?.seq]);
});

test('a drill report is anchored in the signed audit log', async () => {
  const entry = reports.get('tool-down');
  assert.ok(entry !== undefined);
  const result = await keel(['audit', 'prove', entry.report.reportRunId, '--json', '--db', 'keel.db'], entry.cwd);
  assert.equal(result.code, 0, result.stderr);
  const proof = JSON.parse(result.stdout) as { leaf: { runId: string }; treeHead: { signature: string } };
  assert.equal(proof.leaf.runId, entry.report.reportRunId);
  assert.ok(proof.treeHead.signature.length > 0);
});

test('keel drill refuses an unknown fault in one line, naming the known ones', async () => {
  const result = await keel(['drill', 'support-refund', '--fault', 'meteor-strike', '--db', 'keel.db'], folder);
  assert.equal(result.code, 2);
  assert.equal(result.stderr.split('\n').length, 2, result.stderr);
  assert.match(result.stderr, /^keel: error \[usage-invalid\]: unknown fault 'meteor-strike' \(known: retrieval-down, malformed-output/);
});
