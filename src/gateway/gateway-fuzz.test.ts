import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Gateway } from './index.ts';
import { createGateway } from './index.ts';
import type { FuzzRoute, HostileRequest } from './testing/hostile-requests.ts';
import { hostileRequests } from './testing/hostile-requests.ts';

// Malformed and hostile requests against every POST route, in process (no port, for speed):
// every answer must be a 4xx in the shape of the API the route speaks, nothing may open a run,
// and the heap must not grow with them. `KEEL_FUZZ_REQUESTS` and `KEEL_FUZZ_SEED` change the mix.
const count = Number(process.env.KEEL_FUZZ_REQUESTS ?? 10_000);
const seed = Number(process.env.KEEL_FUZZ_SEED ?? 20_261_202);
const maxBodyBytes = 256 * 1024;
const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-fuzz-'));
const internalErrors: string[] = [];
let gateway: Gateway;

before(async () => {
  gateway = await createGateway({ database: join(folder, 'keel.db'), environment: {}, maxBodyBytes, log: (line) => internalErrors.push(line) });
});
after(async () => {
  await gateway.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The garbage collector, exposed on demand: `--expose-gc` is not needed on the command line. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const speaksOpenAI = (route: FuzzRoute) => route === '/v1/chat/completions' || route === '/v1/responses';

/** The problem with an answer, or undefined when it is a 4xx in the route's error shape. */
function problemWith(request: HostileRequest, status: number, text: string): string | undefined {
  if (status < 400 || status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON: ${text.slice(0, 300)}`;
  }
  const error = (body as { error?: { message?: unknown; type?: unknown } }).error;
  if (typeof error?.message !== 'string' || error.message === '' || typeof error.type !== 'string') return `no {error: {message, type}}: ${text.slice(0, 300)}`;
  if (error.message.includes('\n')) return `a message of more than one line: ${error.message.slice(0, 300)}`;
  if (!speaksOpenAI(request.route) && (body as { type?: unknown }).type !== 'error') return `not Anthropic's {type: 'error', …}: ${text.slice(0, 300)}`;
  if (speaksOpenAI(request.route) && !('param' in error && 'code' in error)) return `not OpenAI's {error: {message, type, param, code}}: ${text.slice(0, 300)}`;
  return undefined;
}

async function send(request: HostileRequest): Promise<{ status: number; text: string }> {
  const response = await gateway.fetch(
    new Request(`http://gateway.test${request.route}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
  );
  return { status: response.status, text: await response.text() };
}

describe('the gateway under hostile input', () => {
  test(`${count} malformed or hostile requests: each a 4xx in its API's error shape, no run opened, the heap bounded`, async (t) => {
    const gc = collector();
    const requests = [...hostileRequests(count, seed, { maxBodyBytes })];
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let heapBefore = 0;
    const batch = 16;
    for (let start = 0; start < requests.length; start += batch) {
      // The first batches warm up what is built once (the routes, zod's schemas); the heap is measured after them.
      if (start === batch * 8) {
        gc();
        heapBefore = process.memoryUsage().heapUsed;
      }
      const slice = requests.slice(start, start + batch);
      const answers = await Promise.all(slice.map((request) => send(request)));
      answers.forEach(({ status, text }, index) => {
        const request = slice[index] as HostileRequest;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const problem = problemWith(request, status, text);
        if (problem !== undefined && failures.length < 10) failures.push(`${request.method} ${request.route} (${request.kind}): ${problem}`);
      });
    }
    gc();
    const grownBytes = process.memoryUsage().heapUsed - heapBefore;
    assert.deepEqual(failures, []);
    assert.deepEqual(internalErrors, []);
    assert.equal((await gateway.keel.store.listRuns({ limit: 10 })).length, 0, 'no hostile request opened a run');
    // The requests were all made before the first measure; what each answer needed must be gone.
    assert.ok(grownBytes < 48 * 1024 * 1024, `the heap grew by ${Math.round(grownBytes / 1024 / 1024)} MiB`);
    const seen = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, times]) => `${status}: ${times}`);
    t.diagnostic(`seed ${seed}: ${seen.join(', ')}; heap after GC grew ${(grownBytes / 1024 / 1024).toFixed(1)} MiB`);
    assert.ok(statuses.has(400) && statuses.has(404) && statuses.has(413), `the mix reached every refusal: ${seen.join(', ')}`);
  });
});
