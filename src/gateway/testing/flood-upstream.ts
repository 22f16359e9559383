import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI chat completions upstream that streams a big answer as fast as its socket takes it,
 * waiting on its socket ('drain') only, then reports its usage: one output token per content part.
 * What it produced, and whether it is waiting on the gateway, can be read at any time.
 */
export class FloodUpstream {
  readonly answerBytes: number;
  readonly deltaText: string;
  readonly #server: Server;
  produced = 0;
  contentParts = 0;
  finished = false;
  #blocked = false;
  #waiters: (() => void)[] = [];

  constructor(options: { answerBytes: number; deltaText: string }) {
    this.answerBytes = options.answerBytes;
    this.deltaText = options.deltaText;
    this.#server = createServer((request, response) => {
      void (async () => {
        for await (const _chunk of request as AsyncIterable<Buffer>) void _chunk;
        // A connection per answer: its socket buffers start small, as a new provider connection's do.
        response.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' });
        const envelope = { id: 'chatcmpl-flood', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
        const send = async (data: unknown) => {
          const text = `data: ${JSON.stringify(data)}\n\n`;
          this.produced += text.length;
          if (response.write(text)) return;
          this.#blocked = true;
          this.#wake();
          await once(response, 'drain');
          this.#blocked = false;
        };
        await send({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
        while (this.produced < this.answerBytes && !response.destroyed) {
          this.contentParts += 1;
          await send({ ...envelope, choices: [{ index: 0, delta: { content: this.deltaText }, finish_reason: null }] });
        }
        await send({ ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        await send({ ...envelope, choices: [], usage: { prompt_tokens: 9, completion_tokens: this.contentParts, total_tokens: 9 + this.contentParts } });
        response.end('data: [DONE]\n\n');
        this.finished = true;
        this.#wake();
      })();
    });
  }

  /** Listens on a free loopback port; returns the base URL an OpenAI client is given. */
  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  reset(): void {
    this.produced = 0;
    this.contentParts = 0;
    this.finished = false;
  }

  /** Resolves once the upstream waits on its socket (the gateway stopped reading it), or has finished. */
  blocked(): Promise<void> {
    if (this.#blocked || this.finished) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
