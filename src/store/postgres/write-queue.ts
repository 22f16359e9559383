/**
 * Group commit: writes issued while a commit is in flight wait here and go out together in the
 * next one, so concurrency raises throughput instead of queueing on fsyncs. A single drainer
 * keeps the groups in issue order, which is what makes two appends to one run apply in order.
 */
import type { PendingWrite } from './write-group.ts';
import { recordsOf } from './write-group.ts';

// Bounds on one group, so one statement's arrays stay a sensible size.
const maximumWritesPerGroup = 1000;
const maximumRecordsPerGroup = 20_000;

export class WriteQueue {
  readonly #commit: (group: PendingWrite[]) => Promise<void>;
  #pending: PendingWrite[] = [];
  #draining: Promise<void> | undefined;

  /** `commit` must settle every write of the group and never throw. */
  constructor(commit: (group: PendingWrite[]) => Promise<void>) {
    this.#commit = commit;
  }

  push(write: PendingWrite): void {
    this.#pending.push(write);
    this.#draining ??= this.#drain();
  }

  /** Resolves once every write pushed so far has been settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  async #drain(): Promise<void> {
    // Yield once so writes issued in the same tick as the first join its group.
    await Promise.resolve();
    try {
      while (this.#pending.length > 0) await this.#commit(this.#takeGroup());
    } finally {
      this.#draining = undefined;
    }
  }

  #takeGroup(): PendingWrite[] {
    let records = 0;
    let count = 0;
    for (const write of this.#pending) {
      records += recordsOf(write).length;
      if (count > 0 && (count >= maximumWritesPerGroup || records > maximumRecordsPerGroup)) break;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }
}
