import { KeelError } from '../errors/index.ts';

/**
 * The body of a streamed answer: server-sent events written as the upstream's parts arrive, each
 * enqueued as it is written (the HTTP server flushes it). When the client goes away the run is not
 * abandoned: the upstream is read on, for up to `drainMs`, so the call settles from the usage the
 * provider reports; past that, the next part cuts the stream (`check` throws), and the call is
 * billed its reservation, the worst case. Either way it is never settled at zero.
 */
export class SseRelay {
  readonly body: ReadableStream<Uint8Array>;
  readonly #drainMs: number;
  readonly #bytes = new TextEncoder();
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #closed = false;
  #leftAt: number | undefined;

  constructor(drainMs: number) {
    this.#drainMs = drainMs;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        this.#leftAt ??= performance.now();
      },
    });
  }

  /** The client stopped reading (disconnected). */
  get clientLeft(): boolean {
    return this.#leftAt !== undefined;
  }

  /** Called on every upstream part: throws once the client has been gone longer than the drain allows. */
  check(): void {
    if (this.#leftAt === undefined) return;
    const goneMs = performance.now() - this.#leftAt;
    if (goneMs >= this.#drainMs) {
      throw new KeelError('model-aborted', `the client disconnected and the answer was not finished within ${this.#drainMs} ms of it, so the stream was cut; it is billed its reservation`);
    }
  }

  write(text: string): void {
    if (text === '' || this.#closed || this.#leftAt !== undefined) return;
    this.#controller?.enqueue(this.#bytes.encode(text));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#leftAt === undefined) this.#controller?.close();
  }
}
