import type { Worker } from 'node:worker_threads';

export interface WalCheckpointerOptions {
  /** The database file; the thread opens its own connection to it. */
  path: string;
  intervalMs?: number;
}

// The worker is plain JavaScript evaluated from this text: it needs no module resolution, so it
// runs the same from the TypeScript sources and from the compiled package.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const database = new DatabaseSync(workerData.path);
database.exec('PRAGMA busy_timeout = 1000');
const checkpoint = database.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    const row = checkpoint.get();
    parentPort.postMessage({ checkpointed: Number(row.checkpointed) });
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  database.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a busy store's WAL on a worker thread of its own. SQLite's automatic checkpoint runs
 * inside the COMMIT that takes the WAL past 1,000 pages, on the event loop: it copies the pages into
 * the database file and fsyncs it, 5-25 ms on this disk during which no request moves (a gateway's
 * p99). The thread runs PASSIVE checkpoints, which never block writers, every `intervalMs` (default 250); the
 * writer's automatic checkpoint stays as a backstop at a larger size (sqlite-store.ts), should the
 * thread fall behind or die. A store starts one only once it has committed many groups, so
 * short-lived stores (commands, most tests) never pay for a thread.
 */
export class WalCheckpointer {
  /** Passes that copied at least one frame, for tests and benchmarks. */
  checkpoints = 0;
  /** The last pass's failure, if the last pass failed (busy past its timeout, a closed file). */
  lastFailure: string | undefined;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(options: WalCheckpointerOptions) {
    // node:worker_threads is loaded when a checkpointer starts, not with every store a read command opens.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    this.#worker = new Worker(workerSource, { eval: true, workerData: { path: options.path, intervalMs: options.intervalMs ?? 250 } });
    // A process that forgets to close its store still exits.
    this.#worker.unref();
    this.#worker.on('message', (message: { checkpointed?: number; failed?: string }) => {
      if (message.failed !== undefined) this.lastFailure = message.failed;
      else {
        this.lastFailure = undefined;
        if ((message.checkpointed ?? 0) > 0) this.checkpoints += 1;
      }
    });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    // A thread that fails leaves the writer's own automatic checkpoint to keep the WAL bounded.
    this.#worker.on('error', (error: unknown) => {
      this.lastFailure = error instanceof Error ? error.message : String(error);
    });
  }

  /** Stops the thread after its current pass and closes its connection. */
  async close(): Promise<void> {
    // Held until it has exited: unreferenced, the process could end first with the close unsettled.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#exited;
  }
}
