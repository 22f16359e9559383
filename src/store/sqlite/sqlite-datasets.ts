/**
 * Evaluation datasets in the SQLite file (src/spec/dataset-store-v1.ts): one row per dataset, its
 * items as JSON text, written once through the store's immediate transactions.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import type { DatasetRecordV1, DatasetStoreV1, DatasetSummaryV1, JsonValue } from '../../spec/index.ts';
import type { SqliteBudgetAccess } from './sqlite-budget-book.ts';

type Row = Record<string, unknown>;

export class SqliteDatasets implements DatasetStoreV1 {
  readonly datasetSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareDatasetStatements> | undefined;
  readonly #access: SqliteBudgetAccess;

  constructor(database: DatabaseSync, access: SqliteBudgetAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareDatasetStatements> {
    return (this.#statements ??= prepareDatasetStatements(this.#database));
  }

  createDataset(dataset: DatasetRecordV1): Promise<void> {
    return this.#access.write(() => {
      if (this.#sql.taken.get(dataset.name) !== undefined) throw new KeelError('dataset-exists', `dataset ${dataset.name} already exists; a pinned dataset is never replaced, so choose another name`);
      this.#sql.insert.run(dataset.name, dataset.contentHash, JSON.stringify(dataset.definition), JSON.stringify(dataset.items), dataset.createdAt);
    });
  }

  getDataset(name: string): Promise<DatasetRecordV1 | undefined> {
    return this.#access.read(() => {
      const row = this.#sql.byName.get(name);
      if (row === undefined) return undefined;
      return { ...summaryFields(row), items: JSON.parse(String(row.items)) as JsonValue[] };
    });
  }

  listDatasets(): Promise<DatasetSummaryV1[]> {
    return this.#access.read(() => this.#sql.all.all().map((row) => ({ ...summaryFields(row), itemCount: Number(row.item_count) })));
  }
}

function summaryFields(row: Row) {
  return {
    name: String(row.name),
    contentHash: String(row.content_hash),
    definition: JSON.parse(String(row.definition)) as JsonValue,
    createdAt: String(row.created_at),
  };
}

function prepareDatasetStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    taken: prepare('SELECT 1 FROM datasets WHERE name = ?'),
    insert: prepare('INSERT INTO datasets (name, content_hash, definition, items, created_at) VALUES (?, ?, ?, ?, ?)'),
    byName: prepare('SELECT name, content_hash, definition, items, created_at FROM datasets WHERE name = ?'),
    all: prepare('SELECT name, content_hash, definition, json_array_length(items) AS item_count, created_at FROM datasets ORDER BY created_at, name'),
  };
}
