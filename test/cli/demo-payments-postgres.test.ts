/**
 * The demo's payments system lives where its runs live. With `--db postgres://…` the refunds are a
 * schema of that database, so a run started in one folder and finished from another pays once:
 * `keel demo` in folder A is SIGKILLed the moment its first refund is paid (a trigger on the
 * payments table notifies the test), `keel resume` in folder B finishes that run; a refund parked
 * for approval by a demo in B is approved from A. Neither folder gets a payments file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('demo_payments');
const paymentsSchema = `${schema}_demo_payments`;
const folderA = mkdtempSync(join(tmpdir(), 'keel-demo-a-'));
const folderB = mkdtempSync(join(tmpdir(), 'keel-demo-b-'));
after(async () => {
  rmSync(folderA, { recursive: true, force: true });
  rmSync(folderB, { recursive: true, force: true });
  if (skip === false) {
    await dropSchema(url, schema);
    await dropSchema(url, paymentsSchema);
  }
});

function keel(folder: string, args: string[]) {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...rest } = process.env;
  const child = spawn(process.execPath, [launcher, ...args, '--db', url], { cwd: folder, env: { ...rest, NO_COLOR: '1', KEEL_PG_SCHEMA: schema } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

interface PaidRefund {
  orderId: string;
  key: string;
}

async function refundsPaid(): Promise<PaidRefund[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ order_id: string; idempotency_key: string }>(`SELECT order_id, idempotency_key FROM ${paymentsSchema}.refunds ORDER BY number`);
    return rows.map((row) => ({ orderId: row.order_id, key: row.idempotency_key }));
  });
}

test('keel demo on PostgreSQL: killed in one folder, resumed and approved from another, each refund paid once in the database', { skip, timeout: 60_000 }, async (t) => {
  // The payments table as the example creates it, plus a trigger that tells the test a refund was paid.
  await withClient(url, async (client) => {
    await client.query(`CREATE SCHEMA ${paymentsSchema}`);
    await client.query(`CREATE TABLE ${paymentsSchema}.refunds (number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id text NOT NULL, amount_cents integer NOT NULL, idempotency_key text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`CREATE FUNCTION ${paymentsSchema}.announce() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('${paymentsSchema}', NEW.order_id); RETURN NEW; END $$`);
    await client.query(`CREATE TRIGGER announce AFTER INSERT ON ${paymentsSchema}.refunds FOR EACH ROW EXECUTE FUNCTION ${paymentsSchema}.announce()`);
  });
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  try {
    await listener.query(`LISTEN ${paymentsSchema}`);
    const firstRefund = new Promise<string>((resolve) => listener.once('notification', (message: pg.Notification) => resolve(message.payload ?? '')));

    const demo = keel(folderA, ['demo', '--json']);
    const paidFor = await Promise.race([firstRefund, demo.done.then((ended) => Promise.reject(new Error(`keel demo ended before paying: ${ended.stderr}`)))]);
    demo.child.kill('SIGKILL');
    assert.equal((await demo.done).signal, 'SIGKILL');
    assert.equal(paidFor, 'A-1001');

    const resumed = await keel(folderB, ['resume', '--json']).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    const finished = (JSON.parse(resumed.stdout) as { resumed: { id: string; status: string }[] }).resumed;
    assert.deepEqual(finished.map((run) => run.status), ['ok'], resumed.stdout);
    const afterResume = await refundsPaid();
    assert.deepEqual(afterResume.map((refund) => refund.orderId), ['A-1001'], 'paid once, though started in A and finished in B');
    // The kill lands some time after the refund: usually in the run that paid it, which B then
    // finishes; on a loaded machine as late as the demo's next run. Either way the refund is under
    // the idempotency key of the run that paid it, and that run ended ok, here or before the kill.
    const payer = afterResume[0]?.key.slice(0, afterResume[0].key.indexOf(':')) ?? '';
    const listed = await keel(folderB, ['runs', '--json']).done;
    const payerRun = (JSON.parse(listed.stdout) as { runs: { id: string; status: string }[] }).runs.find((run) => run.id === payer);
    assert.equal(payerRun?.status, 'ok', `the refund's key ${afterResume[0]?.key ?? ''} names a run that ended ok: ${listed.stdout.slice(0, 500)}`);
    if (!finished.some((run) => run.id === payer)) t.diagnostic(`the kill came after run ${payer} had ended; B finished ${finished.map((run) => run.id).join(', ')}`);

    // Parked for a lead by a demo in B, approved from A.
    const second = await keel(folderB, ['demo', '--json']).done;
    assert.equal(second.code, 0, second.stderr);
    const runs = (JSON.parse(second.stdout) as { runs: { id: string; status: string; customer: string }[] }).runs;
    const parked = runs.find((run) => run.status === 'waiting');
    assert.equal(parked?.customer, 'user:lena');
    const approved = await keel(folderA, ['approve', parked?.id ?? '', '--as', 'lead', '--json']).done;
    assert.equal(approved.code, 0, approved.stderr);
    const paid = await refundsPaid();
    const byRun = new Map<string, string[]>();
    for (const refund of paid) {
      const runId = refund.key.slice(0, refund.key.indexOf(':'));
      byRun.set(runId, [...(byRun.get(runId) ?? []), refund.orderId]);
    }
    assert.deepEqual(byRun.get(parked?.id ?? ''), ['A-1003'], 'the approved refund, paid once');
    assert.deepEqual(paid.map((refund) => refund.orderId).sort(), ['A-1001', 'A-1001', 'A-1003', 'A-1004'], 'the killed run’s refund, and the second demo’s two plus the approved one');
    assert.ok([...byRun.values()].every((orders) => orders.length === 1), 'no run paid twice');
    for (const folder of [folderA, folderB]) assert.equal(existsSync(join(folder, '.keel', 'demo-payments.db')), false, `no payments file in ${folder}`);
  } finally {
    await listener.end();
  }
});
