/**
 * Real Keel processes on one PostgreSQL schema share a route's bulkhead (`maxConcurrent: 2`):
 * through the store's concurrency slots, and through Redis when KEEL_REDIS_URL is set. Calls go to
 * an upstream that holds each one until the test lets it go and counts how many are in flight, so
 * nothing races a clock. (a) Two processes, three calls each: the upstream never sees more than 2
 * at once, and every call is served. (b) A process holding both slots makes another process with
 * `maxQueued: 0` refuse its call (`bulkhead-full`); SIGKILLed, its slots free themselves when their
 * lease (the route's attempt timeout) runs out, and a waiting call of a third process goes through.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createClient } from 'redis';
import { openTestRedis, uniqueRedisPrefix } from '../../src/redis/testing/index.ts';
import { PostgresStore, quoteIdentifier } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { attemptTimeoutMs, slotKey } from './bulkhead-deployment.ts';
import { HeldUpstream } from './held-upstream.ts';

const database = await openTestPostgres();
const redis = await openTestRedis();
const url = 'url' in database ? database.url : '';
const script = join(import.meta.dirname, 'bulkhead-process.ts');
const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(url, schema);
});

type Backend = 'postgres' | 'redis';

interface Deployment {
  schema: string;
  environment: NodeJS.ProcessEnv;
  /** Slots held on the route's key now, as the shared store has them. */
  slotsHeld: () => Promise<number>;
}

async function deployment(backend: Backend, label: string): Promise<Deployment> {
  const schema = uniqueSchemaName(`keel_bulkhead_${label}`);
  schemas.push(schema);
  await (await PostgresStore.open({ url, schema })).close();
  const rows = () => withClient(url, async (client) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(schema)}.concurrency_slots WHERE limit_key = $1`, [slotKey])).rows[0]?.n));
  if (backend === 'postgres' || !('url' in redis)) return { schema, environment: { ...process.env, KEEL_REDIS_URL: '' }, slotsHeld: rows };
  const prefix = uniqueRedisPrefix(label);
  const slotsHeld = async () => {
    assert.equal(await rows(), 0, 'with KEEL_REDIS_URL set, the slots are in Redis, not the store');
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      return await client.zCard(`${prefix}slots:${slotKey}`);
    } finally {
      await client.close();
    }
  };
  return { schema, environment: { ...process.env, KEEL_REDIS_URL: redis.url, KEEL_REDIS_PREFIX: prefix }, slotsHeld };
}

interface Started {
  child: ChildProcess;
  /** Gated: resolves once the process has started and waits for `go`. */
  ready: Promise<void>;
  /** Gated: lets the process make its calls. */
  go: () => void;
  /** The process's outcomes once it exits 0 (rejects on another exit). */
  report: Promise<{ pid: number; outcomes: string[] }>;
}

function start(target: Deployment, upstream: HeldUpstream, calls: number, maxQueued: number, gated = false): Started {
  const values = [url, target.schema, upstream.baseURL, String(calls), String(maxQueued), ...(gated ? ['gated'] : [])];
  const child = spawn(process.execPath, ['--conditions=keel-source', script, ...values], { env: target.environment, stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready\n')) markReady();
  });
  const report = new Promise<{ pid: number; outcomes: string[] }>((resolve, reject) => {
    child.on('exit', (code, signal) => (code === 0 ? resolve(JSON.parse(output.trim().split('\n').at(-1) ?? '') as { pid: number; outcomes: string[] }) : reject(new Error(`the process exited ${code ?? signal}`))));
  });
  // A process the test kills on purpose rejects; that is handled where it is awaited.
  report.catch(() => undefined);
  return { child, ready, go: () => child.stdin?.end('go\n'), report };
}

const backends: { backend: Backend; skip: string | false }[] = [
  { backend: 'postgres', skip: 'skipReason' in database ? database.skipReason : false },
  { backend: 'redis', skip: 'skipReason' in database ? database.skipReason : 'skipReason' in redis ? redis.skipReason : false },
];

for (const { backend, skip } of backends) {
  describe(`a bulkhead shared across processes: ${backend}`, { skip }, () => {
    test('two processes, three calls each, maxConcurrent 2: never more than 2 in flight at the upstream, all served', async () => {
      const target = await deployment(backend, 'pair');
      const upstream = await HeldUpstream.start();
      const processes = [start(target, upstream, 3, 8), start(target, upstream, 3, 8)];
      try {
        const heldSeen: number[] = [];
        const inFlightSeen: number[] = [];
        // Each round: wait for the upstream to hold calls, check the store agrees, let the oldest go.
        for (let served = 0; served < 6; served += 1) {
          await upstream.until((state) => state.inFlight >= 2 || (state.inFlight >= 1 && state.received === 6));
          inFlightSeen.push(upstream.inFlight);
          heldSeen.push(await target.slotsHeld());
          upstream.releaseOne();
        }
        const reports = await Promise.all(processes.map((entry) => entry.report));
        assert.deepEqual(
          reports.flatMap((report) => report.outcomes),
          ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
        );
        assert.equal(upstream.received, 6);
        assert.equal(upstream.maxInFlight, 2, 'per-process bulkheads would let up to 4 through at once');
        assert.ok(
          // A slot is taken before its call is sent and freed after its answer: never fewer than the calls in flight.
          heldSeen.every((held, round) => held >= (inFlightSeen[round] ?? 0) && held <= 2),
          `slots held in the store ${heldSeen.join(', ')} with calls in flight ${inFlightSeen.join(', ')}`,
        );
        assert.equal(await target.slotsHeld(), 0, 'every slot was released');
        process.stdout.write(`# ${backend}: 6 calls from 2 processes, at most ${upstream.maxInFlight} in flight; store slots per round ${heldSeen.join(',')}\n`);
      } finally {
        for (const entry of processes) entry.child.kill();
        await upstream.close();
      }
    });

    test('full slots refuse a call when nothing may queue; a SIGKILLed holder frees its slots after its lease', async () => {
      const target = await deployment(backend, 'kill');
      const upstream = await HeldUpstream.start();
      // Started together and gated, so the refusal and the wait come while the holder's calls are
      // held, well inside their attempt timeout.
      const holder = start(target, upstream, 2, 0);
      const refusing = start(target, upstream, 1, 0, true);
      const waiter = start(target, upstream, 1, 1, true);
      try {
        await Promise.all([upstream.until((state) => state.inFlight === 2), refusing.ready, waiter.ready]);
        assert.equal(await target.slotsHeld(), 2);
        refusing.go();
        const refused = await refusing.report;
        assert.deepEqual(refused.outcomes, ['route-exhausted bulkhead-full']);
        assert.equal(upstream.received, 2, 'the refused call never reached the upstream');

        holder.child.kill('SIGKILL');
        const killedAt = Date.now();
        await upstream.until((state) => state.inFlight === 0);
        assert.equal(await target.slotsHeld(), 2, "the dead process's slots are still held");
        waiter.go();
        await upstream.until((state) => state.received === 3);
        const freedAfterMs = Date.now() - killedAt;
        upstream.releaseOne();
        assert.deepEqual((await waiter.report).outcomes, ['ok']);
        // Renewed every half lease, a slot outlives its holder by between half a lease and a lease.
        assert.ok(freedAfterMs >= attemptTimeoutMs / 2 - 100, `a dead holder's slot was taken ${freedAfterMs} ms after the kill, before its lease could run out`);
        assert.ok(freedAfterMs <= attemptTimeoutMs + 3_000, `a dead holder's slot was freed ${freedAfterMs} ms after the kill (lease ${attemptTimeoutMs} ms)`);
        process.stdout.write(`# ${backend}: a call refused at once with maxQueued 0; a SIGKILLed holder's slot taken ${freedAfterMs} ms after the kill (lease ${attemptTimeoutMs} ms)\n`);
      } finally {
        holder.child.kill('SIGKILL');
        refusing.child.kill();
        waiter.child.kill();
        await upstream.close();
      }
    });
  });
}
