/**
 * An upstream speaking OpenAI's Chat Completions wire format (whole answers) that holds every
 * request until the test lets one go, and counts how many are in flight: what a provider would
 * see of a deployment's concurrency, with no clock to race.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HeldUpstream {
  /** Requests received and not yet answered or dropped. */
  inFlight = 0;
  /** The most ever in flight at once. */
  maxInFlight = 0;
  /** Requests received, in all. */
  received = 0;
  readonly #server: Server;
  readonly #held: { response: ServerResponse; uncount: () => void }[] = [];
  readonly #watchers = new Set<() => void>();

  private constructor() {
    this.#server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.received += 1;
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        let counted = true;
        const uncount = () => {
          if (!counted) return;
          counted = false;
          this.inFlight -= 1;
          const index = this.#held.findIndex((entry) => entry.response === response);
          if (index >= 0) this.#held.splice(index, 1);
          this.#notify();
        };
        // A client that dies (SIGKILL) drops its connection: its request is no longer in flight.
        response.on('close', uncount);
        this.#held.push({ response, uncount });
        this.#notify();
      });
    });
  }

  static async start(): Promise<HeldUpstream> {
    const upstream = new HeldUpstream();
    await new Promise<void>((resolve) => upstream.#server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** Resolves once `condition` holds (checked now and on every arrival or departure). */
  until(condition: (upstream: HeldUpstream) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition(this)) return;
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** Answers the oldest held request. */
  releaseOne(): void {
    const entry = this.#held[0];
    if (entry === undefined) throw new Error('no request is held');
    const { response, uncount } = entry;
    const body = {
      id: `chatcmpl-${this.received}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'gpt-5-nano',
      choices: [{ index: 0, message: { role: 'assistant', content: 'done' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
    // Answered is no longer in flight, from now on: the next check sees it gone at once.
    uncount();
  }

  async close(): Promise<void> {
    for (const entry of [...this.#held]) entry.response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}
