/**
 * The gateway's virtual keys in PostgreSQL (src/spec/key-store-v1.ts), shared by every gateway on
 * the schema: a key created or revoked by `keel keys` is seen at the next request anywhere.
 */
import type { Pool } from 'pg';
import { KeelError } from '../../errors/index.ts';
import type { ApiKeyRecordV1, KeyStoreV1, NewApiKeyV1 } from '../../spec/index.ts';
import { parseKeySettings } from '../key-records.ts';
import { isUniqueViolation, toStoreError } from './postgres-errors.ts';

interface KeyRow {
  key_id: string;
  tenant: string;
  principal: string;
  settings: unknown;
  created_at: Date;
  revoked_at: Date | null;
}

export class PostgresKeyStore implements KeyStoreV1 {
  readonly keySpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #location: string;
  readonly #sql: ReturnType<typeof keyStatements>;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#location = location;
    this.#sql = keyStatements(schema);
  }

  async createKey(key: NewApiKeyV1): Promise<ApiKeyRecordV1> {
    try {
      const { rows } = await this.#pool.query<KeyRow>(this.#sql.insert, [key.keyId, key.secretHash, key.tenant, key.principal, JSON.stringify(key.settings), key.createdAt]);
      return keyOf(rows[0] as KeyRow);
    } catch (error) {
      if (isUniqueViolation(error)) throw new KeelError('key-exists', `key ${key.keyId} (or its secret) already exists`);
      throw toStoreError(error, `cannot create key in ${this.#location}`);
    }
  }

  async findKeyBySecretHash(secretHash: string): Promise<ApiKeyRecordV1 | undefined> {
    const row = (await this.#query(this.#sql.bySecretHash, [secretHash], 'read key')).at(0);
    return row === undefined ? undefined : keyOf(row);
  }

  async listKeys(): Promise<ApiKeyRecordV1[]> {
    return (await this.#query(this.#sql.all, [], 'list keys')).map(keyOf);
  }

  async hasKeys(): Promise<boolean> {
    return (await this.#query(this.#sql.any, [], 'read keys')).length > 0;
  }

  async revokeKey(keyId: string, revokedAt: string): Promise<ApiKeyRecordV1 | undefined> {
    const row = (await this.#query(this.#sql.revoke, [keyId, revokedAt], 'revoke key')).at(0);
    return row === undefined ? undefined : keyOf(row);
  }

  async rotateKey(keyId: string, secretHash: string): Promise<ApiKeyRecordV1 | undefined> {
    try {
      const row = (await this.#pool.query<KeyRow>(this.#sql.rotate, [keyId, secretHash])).rows.at(0);
      return row === undefined ? undefined : keyOf(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new KeelError('key-exists', `the new secret of key ${keyId} is another key's`);
      throw toStoreError(error, `cannot rotate key in ${this.#location}`);
    }
  }

  async #query(text: string, values: unknown[], what: string): Promise<KeyRow[]> {
    try {
      return (await this.#pool.query<KeyRow>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
  }
}

function keyOf(row: KeyRow): ApiKeyRecordV1 {
  return {
    keyId: row.key_id,
    tenant: row.tenant,
    principal: row.principal,
    settings: parseKeySettings(row.key_id, row.settings),
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at === null ? null : row.revoked_at.toISOString(),
  };
}

function keyStatements(schema: string) {
  const keys = `${schema}.api_keys`;
  const columns = 'key_id, tenant, principal, settings, created_at, revoked_at';
  return {
    insert: `INSERT INTO ${keys} (key_id, secret_hash, tenant, principal, settings, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::timestamptz) RETURNING ${columns}`,
    bySecretHash: `SELECT ${columns} FROM ${keys} WHERE secret_hash = $1`,
    all: `SELECT ${columns} FROM ${keys} ORDER BY created_at, key_id`,
    any: `SELECT 1 FROM ${keys} LIMIT 1`,
    // The first revocation's time is kept; revoking again returns the key as it is.
    revoke: `
      WITH revoked AS (UPDATE ${keys} SET revoked_at = $2::timestamptz WHERE key_id = $1 AND revoked_at IS NULL RETURNING ${columns})
      SELECT ${columns} FROM revoked UNION ALL SELECT ${columns} FROM ${keys} WHERE key_id = $1 AND NOT EXISTS (SELECT 1 FROM revoked)`,
    rotate: `UPDATE ${keys} SET secret_hash = $2 WHERE key_id = $1 AND revoked_at IS NULL RETURNING ${columns}`,
  };
}
