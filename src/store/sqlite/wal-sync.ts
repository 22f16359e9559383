import { KeelError } from '../../errors/index.ts';

// Not an ES import of node:fs, which every CLI start would pay for (docs/architecture.md, CLI start-up).
const { closeSync, fdatasync, openSync } = process.getBuiltinModule('node:fs');

/**
 * Durable group commit without blocking the event loop. SQLite commits to the WAL with
 * synchronous=NORMAL (a write, no fsync); this then fdatasyncs the WAL on libuv's thread pool and
 * acknowledges every commit made before that sync started. Commits keep landing while a sync runs,
 * and the next sync covers all of them. Checkpoints are safe: with synchronous=NORMAL SQLite syncs
 * the WAL before a checkpoint and the database file after it, so a frame is always durable in one.
 */
export class WalSync {
  readonly #fd: number;
  readonly #walPath: string;
  #next: PromiseWithResolvers<void> | undefined;
  #running: Promise<void> | undefined;
  /** Completed fdatasync calls, for benchmarks and tests. */
  syncs = 0;

  constructor(walPath: string) {
    this.#walPath = walPath;
    this.#fd = openSync(walPath, 'r');
  }

  /** Resolves once everything committed before this call is on stable storage. */
  whenDurable(): Promise<void> {
    this.#next ??= Promise.withResolvers<void>();
    const { promise } = this.#next;
    if (this.#running === undefined) this.#start();
    return promise;
  }

  #start(): void {
    const waiting = this.#next;
    this.#next = undefined;
    if (waiting === undefined) return;
    this.#running = new Promise<void>((done) => {
      fdatasync(this.#fd, (error) => {
        this.syncs += 1;
        if (error === null) waiting.resolve();
        else waiting.reject(new KeelError('db-unavailable', `cannot sync ${this.#walPath}: ${error.message}`, { cause: error }));
        this.#running = undefined;
        done();
        this.#start();
      });
    });
  }

  async close(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    closeSync(this.#fd);
  }
}
