/**
 * Online monitoring in the real `keel worker`: runs of a monitored task pass on `sim:default`,
 * then the simulator degrades (a seeded 60% of later answers break the output contract, so those
 * runs escalate); the worker's drop test alarms, and the `quality-drop` alert is journaled in a
 * `keel-monitor` run and delivered to the config's webhook (a real HTTP server here).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasks = join(import.meta.dirname, 'fixtures', 'quality-agent.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-worker-monitor-'));
const database = join(folder, 'keel.db');
// The worker's degraded simulator is part of the agent's configuration: runs are queued under the same one.
const degraded = { KEEL_FIXTURE_DEGRADE_AFTER: '30', KEEL_FIXTURE_DEGRADE_SHARE: '0.6' };
Object.assign(process.env, degraded);
const { qualityAsk } = await import('./fixtures/quality-agent.ts');

after(() => rmSync(folder, { recursive: true, force: true }));

test('a worker with a monitor raises a journaled quality-drop alert and calls the webhook when the pass rate drops', { timeout: 120_000 }, async () => {
  const received: Record<string, unknown>[] = [];
  let dropHeard: (body: Record<string, unknown>) => void = () => undefined;
  const drop = new Promise<Record<string, unknown>>((resolve) => (dropHeard = resolve));
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const alert = JSON.parse(body) as Record<string, unknown>;
      received.push(alert);
      if (alert.kind === 'quality-drop') dropHeard(alert);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const config = join(folder, 'keel.json');
    writeFileSync(config, JSON.stringify({ version: 1, routes: [], alerts: { webhooks: [`http://127.0.0.1:${port}/hook`] }, monitors: [{ task: 'quality-ask', baselineRuns: 30, alpha: 0.05 }] }));

    // 30 baseline runs, then up to 90 more: queued for the worker, one model call each.
    const keel = await createKeel({ database, config, agents: [qualityAsk], environment: {} });
    for (let index = 0; index < 120; index += 1) await keel.enqueue('quality-ask', { message: `Ticket ${index}: where is my parcel?` }, { principal: 'user:ops', tenant: 'acme' });
    await keel.close();

    const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
    const worker = spawn(process.execPath, [launcher, 'worker', '--db', database, '--config', config, '--tasks', tasks, '--concurrency', '1'], {
      cwd: folder,
      env: { ...environment, NO_COLOR: '1', ...degraded },
    });
    let output = '';
    worker.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => worker.once('close', resolve));
    let alert: Record<string, unknown>;
    try {
      alert = await Promise.race([drop, exited.then(() => assert.fail(`the worker exited before alerting:\n${output}`))]);
    } finally {
      worker.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);

    assert.equal(alert.kind, 'quality-drop');
    assert.equal(alert.scope, 'task:quality-ask');
    const monitorRun = alert.runId as string;
    assert.match(output, new RegExp(`alert   quality-drop  task quality-ask: the pass rate dropped to .* \\(journaled in ${monitorRun}\\)`));
    // On stopping, the worker says the figures it kept for the task.
    const stats = /stats {3}quality-ask: (\d+) scored runs, pass (\d+\.\d)%, escalated (\d+\.\d)%, latency p50 \d+ ms, p95 \d+ ms, p99 \d+ ms\n/.exec(output);
    assert.ok(stats !== null, output);
    assert.ok(Number(stats[1]) > 30 && Number(stats[2]) < 100 && Number(stats[3]) > 0, stats[0]);
    assert.ok(Math.abs(Number(stats[2]) + Number(stats[3]) - 100) < 0.2, `every scored run either passed or escalated: ${stats[0]}`);

    const store = await openStore({ database, create: false, environment: {} });
    try {
      const { events } = await loadRun(store, monitorRun);
      const start = events[0];
      assert.ok(start?.type === 'run-start' && start.data.task === 'keel-monitor');
      const raised = events.filter((event) => event.type === 'alert-raise');
      const journaled = raised.find((event) => event.type === 'alert-raise' && event.data.kind === 'quality-drop');
      assert.ok(journaled?.type === 'alert-raise', 'the quality-drop alert is journaled in the monitor run');
      assert.equal(journaled.data.message, alert.message);
      assert.ok(journaled.data.value < journaled.data.threshold, `live pass rate ${journaled.data.value} under the baseline bound ${journaled.data.threshold}`);
      // It fired after the change, within the runs the worker had: the alarm names the run it was raised on.
      const about = await store.getRun(journaled.data.about ?? '');
      assert.equal(about?.task, 'quality-ask');
      const scored = await store.listRuns({ task: 'quality-ask', statuses: ['ok', 'escalated'], limit: 1_000 });
      const escalatedBefore = scored.filter((run) => run.status === 'escalated').length;
      assert.ok(escalatedBefore > 0, 'runs escalated once the simulator degraded');
    } finally {
      await store.close();
    }
    // Fault alerts ride along: the broken answers were malformed output.
    assert.ok(received.some((body) => body.kind === 'malformed-output'), 'the malformed answers were alerted too');
  } finally {
    server.close();
  }
});
