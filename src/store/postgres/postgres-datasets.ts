/**
 * Evaluation datasets in PostgreSQL (src/spec/dataset-store-v1.ts), shared by every process on
 * the schema: one row per dataset, its items as JSON text, written once.
 */
import type { Pool } from 'pg';
import { KeelError } from '../../errors/index.ts';
import type { DatasetRecordV1, DatasetStoreV1, DatasetSummaryV1, JsonValue } from '../../spec/index.ts';
import { isUniqueViolation, toStoreError } from './postgres-errors.ts';

interface DatasetRow {
  name: string;
  content_hash: string;
  definition: string;
  items?: string;
  item_count?: number;
  created_at: string;
}

export class PostgresDatasets implements DatasetStoreV1 {
  readonly datasetSpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #location: string;
  readonly #sql: ReturnType<typeof datasetStatements>;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#location = location;
    this.#sql = datasetStatements(schema);
  }

  async createDataset(dataset: DatasetRecordV1): Promise<void> {
    try {
      await this.#pool.query(this.#sql.insert, [dataset.name, dataset.contentHash, JSON.stringify(dataset.definition), JSON.stringify(dataset.items), dataset.createdAt]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new KeelError('dataset-exists', `dataset ${dataset.name} already exists; a pinned dataset is never replaced, so choose another name`);
      throw toStoreError(error, `cannot create dataset in ${this.#location}`);
    }
  }

  async getDataset(name: string): Promise<DatasetRecordV1 | undefined> {
    const row = (await this.#query(this.#sql.byName, [name], 'read dataset')).at(0);
    if (row === undefined) return undefined;
    return { ...summaryFields(row), items: JSON.parse(row.items ?? '[]') as JsonValue[] };
  }

  async listDatasets(): Promise<DatasetSummaryV1[]> {
    return (await this.#query(this.#sql.all, [], 'list datasets')).map((row) => ({ ...summaryFields(row), itemCount: Number(row.item_count ?? 0) }));
  }

  async #query(text: string, values: unknown[], what: string): Promise<DatasetRow[]> {
    try {
      return (await this.#pool.query<DatasetRow>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
  }
}

function summaryFields(row: DatasetRow) {
  return { name: row.name, contentHash: row.content_hash, definition: JSON.parse(row.definition) as JsonValue, createdAt: row.created_at };
}

function datasetStatements(schema: string) {
  const datasets = `${schema}.datasets`;
  return {
    insert: `INSERT INTO ${datasets} (name, content_hash, definition, items, created_at) VALUES ($1, $2, $3, $4, $5)`,
    byName: `SELECT name, content_hash, definition, items, created_at FROM ${datasets} WHERE name = $1`,
    all: `SELECT name, content_hash, definition, json_array_length(items::json) AS item_count, created_at FROM ${datasets} ORDER BY created_at, name`,
  };
}
