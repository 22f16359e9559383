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
  /** Why the client stopped being served: it disconnected, or it stalled and was cut off; undefined while it is served. */
  readonly departure: Departure | undefined;
}

/** How a stream lost its client: it closed the connection, or it read nothing for too long and the gateway closed it. */
export type Departure = 'disconnected' | 'stalled';

export interface SseRelayOptions {
  /** How long the upstream is still read once the client is gone, to settle from its usage. */
  drainMs: number;
  /** How long events may wait, queued, without the server taking any before the client counts as stalled. */
  stallMs: number;
  /** Closes the client's connection, for a client that stalled; absent where there is none (an in-process request). */
  cut?: (() => void) | undefined;
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
 * A client that stays connected but reads nothing would hold all of that (its run, its budget
 * reservation, the upstream connection) for as long as it likes: once events have waited queued for
 * `stallMs` without the server taking a byte, the client is stalled, its connection is cut (`cut`)
 * and it is treated as gone.
 *
 * When the client goes away the run is not abandoned: the upstream is read on, for up to `drainMs`,
 * as fast as it answers, so the call settles from the usage the provider reports; past that, the
 * next part cuts the stream (`check` throws), and the call is billed its reservation, the worst
 * case. Either way it is never settled at zero.
 */
export class SseRelay implements StreamFlow {
  readonly body: ReadableStream<Uint8Array>;
  readonly #drainMs: number;
  readonly #stallMs: number;
  readonly #cut: (() => void) | undefined;
  /** The stream's controller, to fail the body of a stalled reader that has no connection to cut. */
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Armed while events are queued; every byte the server takes restarts it. */
  #stallTimer: NodeJS.Timeout | undefined;
  #departure: Departure | undefined;
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

  constructor(options: SseRelayOptions) {
    this.#drainMs = options.drainMs;
    this.#stallMs = options.stallMs;
    this.#cut = options.cut;
    // A mark of 0: the stream asks (pull) only when the server reads, so the queue here is all there is.
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#leave('disconnected'),
      },
      { highWaterMark: 0 },
    );
  }

  /** The client is gone: it disconnected, or stalled and was cut off. */
  get clientLeft(): boolean {
    return this.#leftAt !== undefined;
  }

  get departure(): Departure | undefined {
    return this.#departure;
  }

  /**
   * Why the answer was not delivered, once the client stalled: the run ends failed with it, though
   * it is settled from the usage like any other. A client that disconnected chose to; its run ends as the upstream does.
   */
  undelivered(): string | undefined {
    if (this.#departure !== 'stalled') return undefined;
    return `${this.#stalledWords()}; the answer was read to its end and settled from its usage`;
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
      const gone = this.#departure === 'stalled' ? `${this.#stalledWords()},` : 'the client disconnected';
      throw new KeelError('model-aborted', `${gone} and the answer was not finished within ${this.#drainMs} ms of it, so the stream was cut; it is billed its reservation`);
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
    this.#stallTimer ??= setTimeout(() => this.#stalled(), this.#stallMs).unref();
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
      if (this.#queue.length > 0) this.#stallTimer?.refresh();
      else this.#stopStallTimer();
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

  /** The client counts as gone from here on; what was queued for it is dropped and the upstream released. */
  #leave(departure: Departure): void {
    if (this.#leftAt === undefined) {
      this.#leftAt = performance.now();
      this.#departure = departure;
    }
    this.#stopStallTimer();
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#reading = undefined;
    this.#readingDone?.();
    this.#release();
    this.#wakeHeldWaiters();
  }

  /** Nothing queued was taken for `stallMs`: the client is not reading. Its connection is closed and its body failed. */
  #stalled(): void {
    this.#stallTimer = undefined;
    if (this.#leftAt !== undefined) return;
    this.#leave('stalled');
    // Cutting the connection makes the HTTP server cancel the body; failing the body instead would
    // be logged by the server as an error of its own. Without a connection, the reader sees the failure.
    if (this.#cut === undefined) this.#controller?.error(new KeelError('model-aborted', this.#stalledWords()));
    else this.#cut();
  }

  #stalledWords(): string {
    return `client-stalled: the client read nothing of the stream for ${this.#stallMs} ms, so its connection was closed`;
  }

  #stopStallTimer(): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
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
