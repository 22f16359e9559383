/**
 * Real Keel processes on one PostgreSQL schema share their rate limits and breakers: through the
 * store's tables, and through Redis when KEEL_REDIS_URL is set. (a) Two processes, two lanes each,
 * run a rate-limited agent of one tenant: across both, no window of the limit's length holds more
 * calls than the limit. (b) Three failures in one process open the breaker of `sim:default`; a
 * second process, whose `sim:default` never fails, sheds its calls to it within 1 s.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { JournalRecordV1 } from 'keel';
import { openTestRedis, uniqueRedisPrefix } from '../../src/redis/testing/index.ts';
import { PostgresStore, quoteIdentifier } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { limitedTenant, rateLimit } from './limits-agents.ts';

const run = promisify(execFile);
const database = await openTestPostgres();
const redis = await openTestRedis();
const url = 'url' in database ? database.url : '';
const script = join(import.meta.dirname, 'limits-process.ts');
const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(url, schema);
});

interface ProcessReport {
  pid: number;
  runs: { runId: string; status: string }[];
}

type Backend = 'postgres' | 'redis';

const backends: { backend: Backend; skip: string | false }[] = [
  { backend: 'postgres', skip: 'skipReason' in database ? database.skipReason : false },
  { backend: 'redis', skip: 'skipReason' in database ? database.skipReason : 'skipReason' in redis ? redis.skipReason : false },
];

/** A fresh schema (made before the processes start, so none spends while another migrates) and the processes' environment. */
async function deployment(backend: Backend, label: string): Promise<{ schema: string; environment: NodeJS.ProcessEnv }> {
  const schema = uniqueSchemaName(`keel_limits_${label}`);
  schemas.push(schema);
  await (await PostgresStore.open({ url, schema })).close();
  const shared = backend === 'redis' && 'url' in redis ? { KEEL_REDIS_URL: redis.url, KEEL_REDIS_PREFIX: uniqueRedisPrefix(label) } : { KEEL_REDIS_URL: '' };
  return { schema, environment: { ...process.env, ...shared } };
}

async function spawnReport(environment: NodeJS.ProcessEnv, values: string[]): Promise<ProcessReport> {
  const { stdout } = await run(process.execPath, ['--conditions=keel-source', script, ...values], { timeout: 60_000, env: environment });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ProcessReport;
}

async function journals(schema: string, reports: ProcessReport[]): Promise<JournalRecordV1[][]> {
  const store = await PostgresStore.open({ url, schema, create: false });
  try {
    return await Promise.all(reports.flatMap((report) => report.runs.map((entry) => store.readJournal(entry.runId))));
  } finally {
    await store.close();
  }
}

const timeOf = (event: JournalRecordV1): number => Date.parse(event.time);

for (const { backend, skip } of backends) {
  describe(`shared limits across processes: ${backend}`, { skip }, () => {
    test('a per-tenant rate limit holds across two processes: no window of its length holds more calls than the limit', async () => {
      const { schema, environment } = await deployment(backend, 'rate');
      const reports = await Promise.all([0, 1].map(() => spawnReport(environment, ['metered', url, schema, '2', '4'])));
      const all = await journals(schema, reports);
      // The route decision is journaled right after the limiter granted the call.
      const granted = all.flatMap((journal) => journal.filter((event) => event.type === 'route-decision').map(timeOf)).sort((left, right) => left - right);
      assert.equal(granted.length, 16);
      assert.ok(reports.every((report) => report.runs.every((entry) => entry.status === 'ok')));
      // The (limit+1)-th call after any call came at least a window later, less some slack for the
      // moment between the grant and its event on a busy machine. Per-process limits would let 8
      // calls through at once (gaps near 0).
      const slackMs = 250;
      const gaps = granted.slice(rateLimit.limit).map((time, index) => time - (granted[index] ?? 0));
      assert.ok(Math.min(...gaps) >= rateLimit.windowMs - slackMs, `calls ${rateLimit.limit} apart came ${Math.min(...gaps)} ms apart, under the ${rateLimit.windowMs} ms window`);
      const waits = all.map((journal) => journal.filter((event) => event.type === 'retry-wait' && (event.data as { reason?: string }).reason === 'rate-limit').length);
      assert.ok(waits.reduce((sum, count) => sum + count, 0) >= 16 - rateLimit.limit, 'every call past the first window waited, journaled');
      const key = `model:metered:tenant:${limitedTenant}`;
      const rows = await withClient(url, async (client) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(schema)}.rate_limit_hits WHERE limit_key = $1`, [key])).rows[0]?.n));
      if (backend === 'postgres') assert.ok(rows > 0, 'the windows are in the store');
      else assert.equal(rows, 0, 'with KEEL_REDIS_URL set, the windows are in Redis, not the store');
      process.stdout.write(`# ${backend}: 16 calls at ${rateLimit.limit} per ${rateLimit.windowMs} ms over ${granted.at(-1)! - granted[0]!} ms; tightest ${rateLimit.limit}-call gap ${Math.min(...gaps)} ms\n`);
    });

    test('a breaker opened by failures in one process sheds calls in another within 1 s', async () => {
      const { schema, environment } = await deployment(backend, 'breaker');
      const watching = spawn(process.execPath, ['--conditions=keel-source', script, 'watching', url, schema], { env: environment, stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      const ready = new Promise<void>((resolve, reject) => {
        watching.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready\n')) resolve();
        });
        watching.on('exit', (code) => reject(new Error(`the watching process exited (${code}) before it was ready`)));
      });
      const finished = new Promise<ProcessReport>((resolve, reject) => {
        watching.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output.trim().split('\n').at(-1) ?? '') as ProcessReport) : reject(new Error(`the watching process exited ${code}`))));
      });
      const bound = setTimeout(() => watching.kill(), 60_000);
      try {
        await ready;
        const failing = await spawnReport(environment, ['failing', url, schema, '3']);
        const watched = await finished;
        const [failingJournals, watchingJournals] = [await journals(schema, [failing]), await journals(schema, [watched])];
        const opened = failingJournals.flat().find((event) => event.type === 'breaker-transition' && (event.data as { to?: string }).to === 'open');
        assert.ok(opened !== undefined, 'the failing process opened the breaker');
        const attempts = watchingJournals.flat().filter((event) => event.type === 'model-attempt-end' && (event.data as { modelId?: string }).modelId === 'default');
        const shedAttempts = attempts.filter((event) => (event.data as { error?: { code?: string } }).error?.code === 'breaker-open');
        const firstShed = shedAttempts[0];
        assert.ok(firstShed !== undefined, 'the watching process shed calls');
        assert.ok(attempts.some((event) => (event.data as { outcome?: string }).outcome === 'ok'), 'before that, it reached sim:default');
        const lagMs = timeOf(firstShed) - timeOf(opened);
        assert.ok(lagMs < 1_000, `the watching process shed its first call ${lagMs} ms after the breaker opened`);
        // Every call to sim:default that started a second after the breaker opened was shed.
        const reachedLate = attempts.filter((event) => timeOf(event) > timeOf(opened) + 1_000 && (event.data as { outcome?: string }).outcome === 'ok');
        assert.deepEqual(reachedLate, []);
        assert.ok(watched.runs.every((entry) => entry.status === 'ok'), 'the watching process fell back to sim:fast');
        process.stdout.write(`# ${backend}: breaker opened by pid ${failing.pid}, first call shed by pid ${watched.pid} ${lagMs} ms later\n`);
      } finally {
        clearTimeout(bound);
        watching.kill();
      }
    });
  });
}
