/**
 * An upstream that speaks OpenAI's Chat Completions wire format (whole and streamed) and reports a
 * different usage for every request, derived from the `case N` its last message names, so a test
 * can check each run against what the provider reported for it. A stream can be held after its
 * first chunks until the test opens its gate, which lets a client leave while the answer is still
 * coming, without racing a clock.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReportedUsage {
  promptTokens: number;
  completionTokens: number;
}

/** What the upstream reports for `case N`: between 11 and 15 tokens in, 6 and 22 out. */
export function usageOfCase(caseNumber: number): ReportedUsage {
  return { promptTokens: 11 + (caseNumber % 5), completionTokens: 6 + (caseNumber % 17) };
}

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export class UsageUpstream {
  /** Usage reported per case, once the whole answer has been written. */
  readonly reported = new Map<number, ReportedUsage>();
  /** Every request's body, as received. */
  readonly received: unknown[] = [];
  readonly #server: Server;
  readonly #gates = new Map<number, Gate>();
  /** Streams hold after this many content chunks until their gate opens; undefined: never hold. */
  holdAfterChunks: number | undefined;

  private constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
    this.#server.keepAliveTimeout = 60_000;
  }

  static async start(): Promise<UsageUpstream> {
    const upstream = new UsageUpstream();
    await new Promise<void>((resolve) => upstream.#server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** Lets the held stream of `case N` finish (idempotent; opening before it holds is fine). */
  release(caseNumber: number): void {
    this.#gateOf(caseNumber).open();
  }

  async close(): Promise<void> {
    for (const held of this.#gates.values()) held.open();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #gateOf(caseNumber: number): Gate {
    let held = this.#gates.get(caseNumber);
    if (held === undefined) {
      held = gate();
      this.#gates.set(caseNumber, held);
    }
    return held;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url?.endsWith('/chat/completions') !== true) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; stream?: boolean; messages: { content: unknown }[] };
    this.received.push(body);
    const last = body.messages.at(-1)?.content;
    const caseNumber = Number(/case (\d+)/.exec(typeof last === 'string' ? last : JSON.stringify(last))?.[1] ?? 0);
    const usage = usageOfCase(caseNumber);
    const words = Array.from({ length: usage.completionTokens }, (_, index) => `w${index}`);
    const id = `chatcmpl-case-${caseNumber}`;
    const created = 1_780_000_000;
    const wireUsage = { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
    if (body.stream !== true) {
      this.reported.set(caseNumber, usage);
      response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_case_${caseNumber}` });
      response.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop', logprobs: null }],
          usage: wireUsage,
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': `req_case_${caseNumber}` });
    const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] });
    send(chunk({ role: 'assistant', content: '' }, null));
    for (const [index, word] of words.entries()) {
      if (index === this.holdAfterChunks) await this.#gateOf(caseNumber).promise;
      send(chunk({ content: index === 0 ? word : ` ${word}` }, null));
    }
    send(chunk({}, 'stop'));
    send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage: wireUsage });
    this.reported.set(caseNumber, usage);
    response.end('data: [DONE]\n\n');
  }
}
