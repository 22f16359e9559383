/**
 * One Keel process of the shared-bulkhead test, on the PostgreSQL schema it is given (and on Redis
 * when KEEL_REDIS_URL is set in its environment): makes `calls` calls at once through the `held`
 * route, whose bulkhead allows 2 at a time, and prints one JSON line with each call's outcome.
 *
 *   bulkhead-process.ts <postgres-url> <schema> <upstream base URL> <calls> <maxQueued> [gated]
 *
 * Gated, it prints `ready` once started and makes its calls when a line arrives on stdin, so the
 * test can have it call at a moment of its choosing without waiting for a start.
 */
import { createKeel } from 'keel';
import { bulkheadConfig, heldRoute } from './bulkhead-deployment.ts';

const [url, schema, baseURL, calls, maxQueued, gated] = process.argv.slice(2);
if (url === undefined || schema === undefined || baseURL === undefined) throw new Error('usage: bulkhead-process.ts <postgres-url> <schema> <base-url> <calls> <maxQueued>');
const keel = await createKeel({
  database: url,
  config: bulkheadConfig(Number(maxQueued)),
  environment: { ...process.env, KEEL_PG_SCHEMA: schema, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL },
});
const model = keel.runtime.model(heldRoute, { task: 'bulkhead-test' });
if (gated === 'gated') {
  const go = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  process.stdin.pause();
}
const outcomes = await Promise.all(
  Array.from({ length: Number(calls) }, async () => {
    try {
      await model.doGenerate({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hold' }] }] });
      return 'ok';
    } catch (error) {
      // A route's failure names every model's: the code of its last attempt says why.
      const failure = error as { code?: string; details?: { attempts?: { code?: string }[] } };
      return [failure.code, ...(failure.details?.attempts ?? []).map((attempt) => attempt.code)].join(' ');
    }
  }),
);
await keel.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, outcomes })}\n`);
