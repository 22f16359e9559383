import { KeelError } from '../errors/index.ts';

/** What one streamed answer holds in the gateway's memory, and how far it has gone. */
export interface StreamFlow {
  /** Bytes of events written by the relay and not yet taken by the HTTP server. */
  readonly queuedBytes: number;
  /** The most bytes that were ever queued at once. */
  readonly peakQueuedBytes: number;
  /** Bytes the HTTP server has taken, toward the client's socket. */
  readonly sentBytes: number;
  /** Upstream parts written as events so far (a part adding nothing the client has not seen is not counted). */
  readonly parts: number;
  /** True while the upstream is held: the queue is full and the client has not read it down. */
  readonly holding: boolean;
  /** Resolves once the upstream is held (now or later), or the stream has ended or lost its client. */
  held(): Promise<void>;
}

/** Bytes of events queued before the upstream is held; the HTTP server's socket buffer comes on top. */
export const relayQueueBytes = 16 * 1024;

/**
 * The body of a streamed answer: server-sent events written as the upstream's parts arrive, each
 * enqueued as it is written (the HTTP server flushes it). A client that reads slower than the
 * upstream answers fills the queue up to `relayQueueBytes`; then `write` returns a promise that
 * settles once the server has taken some of it, and the caller holds the upstream until then, so a
 * slow client costs the gateway a bounded buffer, not the whole answer.
 *
 * When the client goes away the run is not abandoned: the upstream is read on, for up to `drainMs`,
 * as fast as it answers, so the call settles from the usage the provider reports; past that, the
 * next part cuts the stream (`check` throws), and the call is billed its reservation, the worst
 * case. Either way it is never settled at zero.
 */
export class SseRelay implements StreamFlow {
  readonly body: ReadableStream<Uint8Array>;
  readonly #drainMs: number;
  readonly #bytes = new TextEncoder();
  /** Events written and not yet taken by the server, oldest first. */
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #peakQueuedBytes = 0;
  #sentBytes = 0;
  #parts = 0;
  #closed = false;
  #leftAt: number | undefined;
  /** The server's read waiting for the next event: the queue was empty when it asked. */
  #reading: ReadableStreamDefaultController<Uint8Array> | undefined;
  #readingDone: (() => void) | undefined;
  /** Settles when the server takes from a full queue; present only while the upstream is held. */
  #room: PromiseWithResolvers<void> | undefined;
  #heldWaiters: (() => void)[] = [];

  constructor(drainMs: number) {
    this.#drainMs = drainMs;
    // A mark of 0: the stream asks (pull) only when the server reads, so the queue here is all there is.
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => {
          this.#leftAt ??= performance.now();
          this.#queue.length = 0;
          this.#queuedBytes = 0;
          this.#reading = undefined;
          this.#readingDone?.();
          this.#release();
          this.#wakeHeldWaiters();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** The client stopped reading (disconnected). */
  get clientLeft(): boolean {
    return this.#leftAt !== undefined;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get peakQueuedBytes(): number {
    return this.#peakQueuedBytes;
  }

  get sentBytes(): number {
    return this.#sentBytes;
  }

  get parts(): number {
    return this.#parts;
  }

  get holding(): boolean {
    return this.#room !== undefined;
  }

  held(): Promise<void> {
    if (this.#room !== undefined || this.#closed || this.#leftAt !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#heldWaiters.push(resolve));
  }

  /** Called on every upstream part: throws once the client has been gone longer than the drain allows. */
  check(): void {
    if (this.#leftAt === undefined) return;
    const goneMs = performance.now() - this.#leftAt;
    if (goneMs >= this.#drainMs) {
      throw new KeelError('model-aborted', `the client disconnected and the answer was not finished within ${this.#drainMs} ms of it, so the stream was cut; it is billed its reservation`);
    }
  }

  /**
   * Sends the events of one part, at once if the server is waiting for them, else queued. Returns a
   * promise when the queue is full: the caller reads no more from the upstream until it settles
   * (the server took some, or the client left).
   */
  write(text: string): Promise<void> | undefined {
    if (text === '' || this.#closed || this.#leftAt !== undefined) return undefined;
    const chunk = this.#bytes.encode(text);
    this.#parts += 1;
    const reading = this.#reading;
    if (reading !== undefined) {
      this.#hand(reading, chunk);
      return undefined;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#queuedBytes > this.#peakQueuedBytes) this.#peakQueuedBytes = this.#queuedBytes;
    if (this.#queuedBytes < relayQueueBytes) return undefined;
    this.#room ??= Promise.withResolvers<void>();
    this.#wakeHeldWaiters();
    return this.#room.promise;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reading = this.#reading;
    if (reading !== undefined && this.#leftAt === undefined) {
      this.#reading = undefined;
      reading.close();
      this.#readingDone?.();
    }
    this.#release();
    this.#wakeHeldWaiters();
  }

  /** The server reads: the oldest queued event, the end, or (queue empty) the next event written. */
  #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | undefined {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queuedBytes -= chunk.byteLength;
      this.#sentBytes += chunk.byteLength;
      controller.enqueue(chunk);
      if (this.#queuedBytes < relayQueueBytes) this.#release();
      return undefined;
    }
    if (this.#closed) {
      controller.close();
      return undefined;
    }
    this.#reading = controller;
    return new Promise((resolve) => {
      this.#readingDone = resolve;
    });
  }

  #hand(reading: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): void {
    this.#reading = undefined;
    this.#sentBytes += chunk.byteLength;
    reading.enqueue(chunk);
    this.#readingDone?.();
  }

  #release(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
  }

  #wakeHeldWaiters(): void {
    const waiters = this.#heldWaiters;
    this.#heldWaiters = [];
    for (const wake of waiters) wake();
  }
}
