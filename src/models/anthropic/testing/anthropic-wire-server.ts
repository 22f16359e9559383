import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server answers one request with. */
export interface WireReply {
  /** A file in `fixtures/`: `.json` goes out as a JSON body, `.sse` as an event stream. */
  fixture: string;
  /** Default 200. */
  status?: number;
  /** Extra response headers (`retry-after`, `request-id`, `x-should-retry`, …). */
  headers?: Record<string, string>;
  /** `.sse` only: send this many events, then destroy the socket, as a dropped connection would. */
  cutAfterEvents?: number;
  /** `.sse` only: send this many events, then end the response cleanly, without `message_stop`. */
  endAfterEvents?: number;
}

/** One request as it arrived, for asserting the exact wire format the adapter produced. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const fixturesDirectory = new URL('../fixtures/', import.meta.url);

/**
 * A stand-in for api.anthropic.com: a real HTTP server on 127.0.0.1 that answers
 * `POST /v1/messages` from recorded fixtures, so tests exercise the SDK's real HTTP, SSE and error
 * handling rather than a mocked client. Replies are queued per test and used in order.
 */
export class AnthropicWireServer {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #replies: WireReply[] = [];
  #served = 0;

  private constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  static async start(): Promise<AnthropicWireServer> {
    const wire = new AnthropicWireServer();
    await new Promise<void>((resolve, reject) => {
      wire.#server.once('error', reject);
      wire.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return wire;
  }

  /** For the client's `baseURL`. */
  get baseURL(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Queue the answers for the next requests, in order. */
  reply(...replies: WireReply[]): void {
    this.#replies.push(...replies);
  }

  get lastRequest(): RecordedRequest {
    const request = this.requests.at(-1);
    if (request === undefined) throw new Error('the wire server has received no request');
    return request;
  }

  /** Forget recorded requests and unused replies between tests. */
  reset(): void {
    this.requests.length = 0;
    this.#replies.length = 0;
  }

  async close(): Promise<void> {
    // The SDK's keep-alive connections would otherwise hold close() open.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error === undefined ? resolve() : reject(error))));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    this.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: text === '' ? undefined : JSON.parse(text) });
    this.#served += 1;
    const headers = { 'request-id': `req_wire_${this.#served}` };
    if (request.method !== 'POST' || request.url !== '/v1/messages') {
      sendJson(response, 404, headers, { type: 'error', error: { type: 'not_found_error', message: `Not found: ${request.method} ${request.url}` } });
      return;
    }
    const reply = this.#replies.shift();
    if (reply === undefined) {
      // Loud, and not retryable, so a test that forgot its reply fails at once.
      sendJson(response, 500, { ...headers, 'x-should-retry': 'false' }, { type: 'error', error: { type: 'api_error', message: 'anthropic wire server: no reply queued' } });
      return;
    }
    const fixture = await readFile(new URL(reply.fixture, fixturesDirectory), 'utf8');
    const status = reply.status ?? 200;
    if (reply.fixture.endsWith('.sse')) {
      await sendEvents(response, status, { ...headers, ...reply.headers }, fixture, reply);
    } else {
      response.writeHead(status, { ...headers, ...reply.headers, 'content-type': 'application/json' });
      response.end(fixture);
    }
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  response.writeHead(status, { ...headers, 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Writes the transcript one event per chunk, the way the API flushes them. */
async function sendEvents(response: ServerResponse, status: number, headers: Record<string, string>, transcript: string, reply: WireReply): Promise<void> {
  const events = transcript.split(/\n\n+/).filter((event) => event.trim() !== '');
  const limit = reply.cutAfterEvents ?? reply.endAfterEvents ?? events.length;
  response.writeHead(status, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of events.slice(0, limit)) {
    await new Promise<void>((resolve, reject) => response.write(`${event}\n\n`, (error) => (error == null ? resolve() : reject(error))));
  }
  if (reply.cutAfterEvents !== undefined) response.socket?.destroy();
  else response.end();
}
