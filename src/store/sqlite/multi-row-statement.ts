import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

// Chunk arrays kept for the next group past this many are dropped: a rare huge group does not
// keep its arrays for the life of the store.
const keptChunks = 64;

/**
 * One `INSERT … VALUES (…), (…), …` over many rows. A group commit inserts its journal rows this
 * way: one step of a statement per chunk instead of one per row saves SQLite's per-statement work
 * and node:sqlite's per-call crossing (measured: 3.1-3.2 µs of CPU a row in chunks of 8 to 32,
 * against 3.4-3.9 one by one). A statement is prepared once for each chunk size a group needs.
 * (An `UPDATE … FROM (VALUES …)` was measured too and lost: SQLite materialises the join first.)
 *
 * Rows are added value by value into arrays of one chunk each, which a full chunk's statement binds
 * as they are and the next group fills again: a group allocates no array of its rows, nor a copy
 * of each chunk.
 */
export class MultiRowStatement {
  readonly #database: DatabaseSync;
  readonly #width: number;
  readonly #maxRows: number;
  readonly #chunkLength: number;
  readonly #sql: (valuesList: string) => string;
  readonly #prepared: (StatementSync | undefined)[] = [];
  readonly #placeholders: string;
  /** Chunk arrays: those before #chunkIndex are full, the one at it holds #offset values. */
  readonly #chunks: SQLInputValue[][] = [];
  #chunkIndex = 0;
  #chunk: SQLInputValue[];
  #offset = 0;

  /** `sql` receives the `(?, ?), (?, ?)` list for a chunk; `width` is the values of one row. */
  constructor(database: DatabaseSync, options: { width: number; maxRows: number; sql: (valuesList: string) => string }) {
    this.#database = database;
    this.#width = options.width;
    this.#maxRows = options.maxRows;
    this.#chunkLength = options.width * options.maxRows;
    this.#sql = options.sql;
    this.#placeholders = `(${Array.from({ length: options.width }, () => '?').join(', ')})`;
    this.#chunk = this.#newChunk();
    this.#chunks.push(this.#chunk);
  }

  /** Adds the next value of the rows to insert: `width` values a row, row after row. */
  push(value: SQLInputValue): void {
    if (this.#offset === this.#chunkLength) {
      this.#chunkIndex += 1;
      let chunk = this.#chunks[this.#chunkIndex];
      if (chunk === undefined) {
        chunk = this.#newChunk();
        this.#chunks.push(chunk);
      }
      this.#chunk = chunk;
      this.#offset = 0;
    }
    this.#chunk[this.#offset] = value;
    this.#offset += 1;
  }

  /** Inserts the rows added since the last run or discard; none added, nothing is run. */
  run(): void {
    if (this.#chunkIndex === 0 && this.#offset === 0) return;
    try {
      const unfinished = this.#offset % this.#width;
      if (unfinished !== 0) throw new Error(`multi-row statement: the last row has ${unfinished} of its ${this.#width} values; nothing was inserted`);
      for (let index = 0; index < this.#chunkIndex; index += 1) this.#statement(this.#maxRows).run(...(this.#chunks[index] as SQLInputValue[]));
      const rows = this.#offset / this.#width;
      if (rows === this.#maxRows) this.#statement(rows).run(...this.#chunk);
      else if (rows > 0) this.#statement(rows).run(...this.#chunk.slice(0, this.#offset));
    } finally {
      this.discard();
    }
  }

  /** Forgets the rows added since the last run (a group rolled back), and lets go of their values. */
  discard(): void {
    for (let index = 0; index < this.#chunkIndex; index += 1) (this.#chunks[index] as SQLInputValue[]).fill(null);
    this.#chunk.fill(null, 0, this.#offset);
    if (this.#chunks.length > keptChunks) this.#chunks.length = keptChunks;
    this.#chunkIndex = 0;
    this.#chunk = this.#chunks[0] as SQLInputValue[];
    this.#offset = 0;
  }

  // Filled with null, not allocated with holes: a packed array is what a spread call binds fastest.
  #newChunk(): SQLInputValue[] {
    return Array.from({ length: this.#chunkLength }, () => null);
  }

  #statement(rows: number): StatementSync {
    let statement = this.#prepared[rows];
    if (statement === undefined) {
      statement = this.#database.prepare(this.#sql(Array.from({ length: rows }, () => this.#placeholders).join(', ')));
      this.#prepared[rows] = statement;
    }
    return statement;
  }
}
