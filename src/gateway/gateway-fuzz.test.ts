import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Gateway, ListeningGateway } from './index.ts';
import { createGateway, listenGateway } from './index.ts';
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

const speaksOpenAI = (route: FuzzRoute) => route === '/v1/chat/completions' || route === '/v1/responses' || route === '/v1/embeddings';

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
  if (request.kind === 'thousands of unknown fields' && error.message.length > 300) return `a message of ${error.message.length} characters: ${error.message.slice(0, 300)}`;
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

/** What came back on a raw connection, once the server closed it: its status and body. */
interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  /** Request bytes the client had written when the first byte of the answer arrived. */
  sentBeforeAnswer: number;
}

/** Opens a connection, lets `speak` write to it, and resolves once the server has closed it. */
function rawExchange(port: number, speak: (socket: Socket, sent: (bytes: number) => void) => void): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let written = 0;
    let sentBeforeAnswer = -1;
    socket.on('data', (chunk: Buffer) => {
      if (sentBeforeAnswer < 0) sentBeforeAnswer = written;
      text += chunk.toString('utf8');
    });
    // A server that closes on a client still writing resets the connection: expected here.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head.toLowerCase(), body: rest.join('\r\n\r\n'), sentBeforeAnswer });
    });
    socket.on('connect', () => speak(socket, (bytes) => (written += bytes)));
  });
}

describe('the gateway under hostile clients, over a socket', () => {
  const socketErrors: string[] = [];
  let served: Gateway;
  let listening: ListeningGateway;
  const socketMaxBodyBytes = 256 * 1024;

  before(async () => {
    served = await createGateway({
      database: join(folder, 'socket.db'),
      environment: {},
      maxBodyBytes: socketMaxBodyBytes,
      simulator: { latency: { firstTokenMs: 0, perOutputTokenMs: 5, jitter: 0 } },
      log: (line) => socketErrors.push(line),
    });
    // Short timeouts, set for the test: a slow client is cut off within a second.
    listening = await listenGateway(served, { port: 0, host: '127.0.0.1', headersTimeoutMs: 300, requestTimeoutMs: 600 });
  });
  after(() => listening.close({ graceMs: 0 }));

  test('a body declared larger than the limit is a 413 in OpenAI\'s shape before it is sent, and the connection is closed', async () => {
    const answer = await rawExchange(listening.port, (socket, sent) => {
      socket.write(`POST /v1/responses HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
      socket.write('{"model":"sim:default","input":"');
      sent(32);
    });
    assert.equal(answer.status, 413);
    assert.match(answer.headers, /connection: close/);
    assert.equal(answer.sentBeforeAnswer, 32);
    assert.deepEqual((JSON.parse(answer.body) as { error: { type: string; code: string } }).error.code, 'request_too_large');
  });

  test('a chunked body growing past the limit is refused while it streams in, in Anthropic\'s shape', async () => {
    const total = 64 * 1024 * 1024;
    const answer = await rawExchange(listening.port, (socket, sent) => {
      socket.write('POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = 'x'.repeat(64 * 1024);
      let written = 0;
      let answered = false;
      socket.once('data', () => (answered = true));
      const pump = () => {
        while (!answered && !socket.destroyed && written < total) {
          written += chunk.length;
          sent(chunk.length);
          if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    assert.equal(answer.status, 413);
    assert.ok(answer.sentBeforeAnswer < total, `answered after ${answer.sentBeforeAnswer} of ${total} bytes`);
    assert.deepEqual(JSON.parse(answer.body), { type: 'error', error: { type: 'request_too_large', message: "the request body is larger than the gateway's limit of 262144 bytes" }, request_id: null });
  });

  test('slow-loris: headers or a body dribbled slower than the timeouts are cut off with a 408', async () => {
    const headers = await rawExchange(listening.port, (socket) => {
      const request = 'POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nX-Slow: ' + 'y'.repeat(400);
      let index = 0;
      const dribble = setInterval(() => {
        if (socket.destroyed || index >= request.length) return clearInterval(dribble);
        socket.write(request[index] ?? '');
        index += 1;
      }, 10);
      socket.once('close', () => clearInterval(dribble));
    });
    assert.equal(headers.status, 408);
    const body = await rawExchange(listening.port, (socket) => {
      socket.write('POST /v1/responses HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":');
    });
    assert.equal(body.status, 408);
  });

  test('the request timeout bounds how long a request takes to arrive, not how long its answer streams', async () => {
    // Some 50 tokens at 40 ms each: the answer streams for longer than the 600 ms request timeout.
    const slow = await createGateway({ database: join(folder, 'slow.db'), environment: {}, simulator: { latency: { firstTokenMs: 0, perOutputTokenMs: 40, jitter: 0 } } });
    const slowListening = await listenGateway(slow, { port: 0, host: '127.0.0.1', headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const began = performance.now();
      const body = JSON.stringify({ model: 'sim:default', input: `Repeat: ${'parcels '.repeat(40)}`, stream: true });
      const response = await fetch(`${slowListening.url}/v1/responses`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const events = await response.text();
      assert.ok(performance.now() - began > 600, 'the answer took longer than the request timeout');
      assert.match(events, /event: response\.completed\n[^\n]*\n\n$/);
    } finally {
      await slowListening.close({ graceMs: 0 });
    }
  });

  test('bodies cut short by a client that leaves, oversized headers and bytes that are not HTTP end in a 4xx and a closed connection', async () => {
    const truncated = [
      'POST /v1/responses HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mod\r\n',
      'POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      `POST /v1/messages/count_tokens HTTP/1.1\r\nHost: gateway\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`,
      '\u0000\u0001 not http at all\r\n\r\n',
    ];
    for (const request of truncated) {
      const answer = await rawExchange(listening.port, (socket) => socket.end(request));
      assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status} for ${JSON.stringify(request.slice(0, 60))}`);
    }
  });

  test('clients that abort mid-stream on every streaming route leave no run open and the server serving', async () => {
    const bodies: [string, object][] = [
      ['/v1/chat/completions', { model: 'sim:default', stream: true, messages: [{ role: 'user', content: 'Tell me about parcels and their long journeys' }] }],
      ['/v1/responses', { model: 'sim:default', stream: true, input: 'Tell me about parcels and their long journeys' }],
      ['/v1/messages', { model: 'sim:default', stream: true, max_tokens: 256, messages: [{ role: 'user', content: 'Tell me about parcels and their long journeys' }] }],
    ];
    const aborted = await Promise.all(
      Array.from({ length: 24 }, async (_, index) => {
        const [path, body] = bodies[index % bodies.length] as [string, object];
        const controller = new AbortController();
        const response = await fetch(`${listening.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: controller.signal });
        assert.equal(response.status, 200);
        const reader = response.body?.getReader();
        await reader?.read();
        // The client reads one piece of the stream and leaves.
        controller.abort();
        await reader?.cancel().catch(() => undefined);
        return response.headers.get('keel-run-id') ?? '';
      }),
    );
    await served.settled();
    for (const runId of aborted) {
      const run = await served.keel.store.getRun(runId);
      assert.ok(run !== undefined && ['ok', 'failed'].includes(run.status), `${runId}: ${run?.status}`);
    }
    const still = await fetch(`${listening.url}/v1/responses`, { method: 'POST', body: JSON.stringify({ model: 'sim:default', input: 'still there?' }), headers: { 'content-type': 'application/json' } });
    assert.equal(still.status, 200);
    assert.equal(((await still.json()) as { status: string }).status, 'completed');
    assert.deepEqual(socketErrors, []);
  });
});
