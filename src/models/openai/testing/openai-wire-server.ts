import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const fixturesDirectory = new URL('../fixtures/', import.meta.url);

/** What the server answers to one request. */
export interface WireReply {
  /** A file in `fixtures/`: `.json` is sent as one JSON body, `.sse` as an event stream, event by event. */
  fixture: string;
  /** Default 200. */
  status?: number;
  /** Extra response headers (`retry-after`, `x-should-retry`, …); an `x-request-id` here replaces the default one. */
  headers?: Record<string, string>;
  /** Wait this long before answering (to let a caller's deadline pass). */
  delayMs?: number;
  /** Stop an `.sse` reply after this many events. */
  cutAfterEvents?: number;
  /** `destroy` (default) kills the socket mid-body, as a dropped connection does; `end` closes the response cleanly but early. */
  cutMode?: 'destroy' | 'end';
  /** Answer as this model (the body's `model`, in every chunk of a stream): a provider's silent update, or a pinned version. */
  model?: string;
  /** Answer with this `system_fingerprint` (in every chunk of a stream). */
  systemFingerprint?: string;
}

/** One request as the server received it, for asserting exactly what an adapter sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
}

/**
 * A real HTTP server on 127.0.0.1 that speaks OpenAI's wire format from fixtures. Tests queue
 * replies in order with `reply()`, point an adapter at `baseURL`, and read `requests` back.
 * It knows nothing about OpenAI's semantics: what a test queues is what the client gets.
 */
export class OpenAIWireServer {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #replies: WireReply[] = [];
  #requestCount = 0;

  private constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(599, { 'content-type': 'text/plain' });
          response.end(`wire server failed: ${error instanceof Error ? error.message : String(error)}`);
        } else {
          response.destroy();
        }
      });
    });
  }

  static async start(): Promise<OpenAIWireServer> {
    const wire = new OpenAIWireServer();
    await new Promise<void>((resolve, reject) => {
      wire.#server.once('error', reject);
      wire.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return wire;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:PORT/v1`, the base URL to give the SDK. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Queues replies, answered in order, one per request. */
  reply(...replies: WireReply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  get lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    if (last === undefined) throw new Error('wire server: no request received');
    return last;
  }

  /** Forgets recorded requests and unanswered replies between tests. */
  reset(): void {
    this.requests.length = 0;
    this.#replies.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error === undefined ? resolve() : reject(error))));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    this.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: parseJson(text) });
    this.#requestCount += 1;
    const reply = this.#replies.shift();
    if (reply === undefined) {
      // An unexpected request is a test bug; say so in OpenAI's error shape and forbid retrying.
      response.writeHead(500, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      response.end(JSON.stringify({ error: { message: `wire server: no reply queued for ${request.method} ${request.url}`, type: 'test_error', param: null, code: null } }));
      return;
    }
    if (reply.delayMs !== undefined) {
      // A client that gave up closes the socket; stop waiting so the test process can exit.
      const gaveUp = new AbortController();
      response.once('close', () => gaveUp.abort());
      try {
        await sleep(reply.delayMs, undefined, { signal: gaveUp.signal });
      } catch {
        return;
      }
    }
    const fixture = answeredAs(await readFile(new URL(reply.fixture, fixturesDirectory), 'utf8'), reply);
    const headers: Record<string, string> = {
      'x-request-id': `req_wire${String(this.#requestCount).padStart(4, '0')}`,
      'openai-processing-ms': '42',
      'openai-version': '2020-10-01',
      ...reply.headers,
    };
    if (!reply.fixture.endsWith('.sse')) {
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...headers });
      response.end(fixture);
      return;
    }
    response.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    const events = fixture.split(/\n\n+/).filter((event) => event.trim() !== '');
    for (const [index, event] of events.entries()) {
      if (reply.cutAfterEvents !== undefined && index >= reply.cutAfterEvents) {
        // Let what was written reach the client first, so it sees a stream that stopped, not one that never began.
        await sleep(20);
        if (reply.cutMode === 'end') response.end();
        else response.socket?.destroy();
        return;
      }
      response.write(`${event}\n\n`);
      // One write per event, so the client parses a real sequence of network reads.
      await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The fixture with its `model` and `system_fingerprint` replaced as the reply asks (each `data:` line of a stream). */
function answeredAs(fixture: string, reply: WireReply): string {
  if (reply.model === undefined && reply.systemFingerprint === undefined) return fixture;
  const rewrite = (text: string): string => {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (reply.model !== undefined && 'model' in body) body.model = reply.model;
    if (reply.systemFingerprint !== undefined && 'system_fingerprint' in body) body.system_fingerprint = reply.systemFingerprint;
    return JSON.stringify(body);
  };
  if (!reply.fixture.endsWith('.sse')) return rewrite(fixture);
  return fixture
    .split('\n')
    .map((line) => (line.startsWith('data: {') ? `data: ${rewrite(line.slice('data: '.length))}` : line))
    .join('\n');
}
