/**
 * The group commit's multi-row insert (multi-row-statement.ts) keeps its chunk arrays from one run
 * to the next: every row added is inserted once, in order, whatever the count against the chunk
 * size, and nothing of an earlier, larger or discarded batch is inserted again.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { MultiRowStatement } from './multi-row-statement.ts';

function table(): { database: DatabaseSync; insert: MultiRowStatement; rows: () => [number, string][] } {
  const database = new DatabaseSync(':memory:');
  database.exec('CREATE TABLE item (id INTEGER NOT NULL UNIQUE, label TEXT NOT NULL) STRICT');
  const insert = new MultiRowStatement(database, { width: 2, maxRows: 4, sql: (valuesList) => `INSERT OR ROLLBACK INTO item (id, label) VALUES ${valuesList}` });
  const select = database.prepare('SELECT id, label FROM item ORDER BY rowid');
  return { database, insert, rows: () => select.all().map((row) => [Number(row.id), String(row.label)]) };
}

function add(insert: MultiRowStatement, first: number, count: number): [number, string][] {
  const added: [number, string][] = [];
  for (let id = first; id < first + count; id += 1) {
    insert.push(id);
    insert.push(`item ${id}`);
    added.push([id, `item ${id}`]);
  }
  return added;
}

test('batches below, at, across and far past the chunk size are inserted whole and in order, run after run', () => {
  const { database, insert, rows } = table();
  try {
    const expected: [number, string][] = [];
    let next = 1;
    // Chunks of 4 rows: a big batch first leaves full chunk arrays behind for the smaller ones after it.
    for (const count of [13, 1, 4, 5, 8, 0, 3, 9]) {
      expected.push(...add(insert, next, count));
      next += count;
      insert.run();
      assert.deepEqual(rows(), expected, `after a batch of ${count}`);
    }
  } finally {
    database.close();
  }
});

test('discarded rows are never inserted; a failing chunk inserts nothing of its batch and leaves nothing behind', () => {
  const { database, insert, rows } = table();
  try {
    add(insert, 1, 6);
    insert.discard();
    insert.run();
    assert.deepEqual(rows(), []);

    database.exec('BEGIN');
    // The second chunk repeats id 2: OR ROLLBACK undoes the first chunk's rows with it.
    add(insert, 1, 4);
    add(insert, 2, 1);
    assert.throws(() => insert.run(), { code: 'ERR_SQLITE_ERROR' });
    assert.equal(database.isTransaction, false);
    assert.deepEqual(rows(), []);

    const after = add(insert, 10, 2);
    insert.run();
    assert.deepEqual(rows(), after);
  } finally {
    database.close();
  }
});

test('an unfinished row is refused, not inserted short', () => {
  const { database, insert, rows } = table();
  try {
    add(insert, 1, 1);
    insert.push(2);
    assert.throws(() => insert.run(), /the last row has 1 of its 2 values; nothing was inserted/);
    assert.deepEqual(rows(), []);
    // The refused batch is gone: the next one is inserted alone.
    const after = add(insert, 3, 1);
    insert.run();
    assert.deepEqual(rows(), after);
  } finally {
    database.close();
  }
});
