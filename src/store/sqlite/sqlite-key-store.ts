/**
 * The gateway's virtual keys in the SQLite file (src/spec/key-store-v1.ts). Writes go through the
 * store's immediate transactions, so a key created or revoked by `keel keys` is seen by every
 * gateway on the file at its next request.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import type { ApiKeyRecordV1, KeyStoreV1, NewApiKeyV1 } from '../../spec/index.ts';
import { parseKeySettings } from '../key-records.ts';
import type { SqliteBudgetAccess } from './sqlite-budget-book.ts';

type Row = Record<string, unknown>;

export class SqliteKeyStore implements KeyStoreV1 {
  readonly keySpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareKeyStatements> | undefined;
  readonly #access: SqliteBudgetAccess;

  constructor(database: DatabaseSync, access: SqliteBudgetAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareKeyStatements> {
    return (this.#statements ??= prepareKeyStatements(this.#database));
  }

  createKey(key: NewApiKeyV1): Promise<ApiKeyRecordV1> {
    return this.#access.write(() => {
      if (this.#sql.taken.get(key.keyId, key.secretHash) !== undefined) throw new KeelError('key-exists', `key ${key.keyId} (or its secret) already exists`);
      this.#sql.insert.run(key.keyId, key.secretHash, key.tenant, key.principal, JSON.stringify(key.settings), key.createdAt);
      return { keyId: key.keyId, tenant: key.tenant, principal: key.principal, settings: key.settings, createdAt: key.createdAt, revokedAt: null };
    });
  }

  findKeyBySecretHash(secretHash: string): Promise<ApiKeyRecordV1 | undefined> {
    return this.#access.read(() => {
      const row = this.#sql.bySecretHash.get(secretHash);
      return row === undefined ? undefined : keyOf(row);
    });
  }

  listKeys(): Promise<ApiKeyRecordV1[]> {
    return this.#access.read(() => this.#sql.all.all().map(keyOf));
  }

  hasKeys(): Promise<boolean> {
    return this.#access.read(() => this.#sql.any.get() !== undefined);
  }

  revokeKey(keyId: string, revokedAt: string): Promise<ApiKeyRecordV1 | undefined> {
    return this.#access.write(() => {
      this.#sql.revoke.run(revokedAt, keyId);
      const row = this.#sql.byId.get(keyId);
      return row === undefined ? undefined : keyOf(row);
    });
  }

  rotateKey(keyId: string, secretHash: string): Promise<ApiKeyRecordV1 | undefined> {
    return this.#access.write(() => {
      try {
        if (Number(this.#sql.rotate.run(secretHash, keyId).changes) === 0) return undefined;
      } catch (error) {
        if (isUniqueViolation(error)) throw new KeelError('key-exists', `the new secret of key ${keyId} is another key's`);
        throw error;
      }
      const row = this.#sql.byId.get(keyId);
      return row === undefined ? undefined : keyOf(row);
    });
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /UNIQUE constraint failed/.test(error.message);
}

function keyOf(row: Row): ApiKeyRecordV1 {
  const keyId = String(row.key_id);
  return {
    keyId,
    tenant: String(row.tenant),
    principal: String(row.principal),
    settings: parseKeySettings(keyId, row.settings),
    createdAt: String(row.created_at),
    revokedAt: typeof row.revoked_at === 'string' ? row.revoked_at : null,
  };
}

function prepareKeyStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  const columns = 'key_id, tenant, principal, settings, created_at, revoked_at';
  return {
    taken: prepare(`SELECT 1 FROM api_keys WHERE key_id = ? OR secret_hash = ?`),
    insert: prepare(`INSERT INTO api_keys (key_id, secret_hash, tenant, principal, settings, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
    bySecretHash: prepare(`SELECT ${columns} FROM api_keys WHERE secret_hash = ?`),
    byId: prepare(`SELECT ${columns} FROM api_keys WHERE key_id = ?`),
    // Keys are listed in the order they were made; the id breaks ties within a millisecond.
    all: prepare(`SELECT ${columns} FROM api_keys ORDER BY created_at, key_id`),
    any: prepare(`SELECT 1 FROM api_keys LIMIT 1`),
    revoke: prepare(`UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL`),
    rotate: prepare(`UPDATE api_keys SET secret_hash = ? WHERE key_id = ? AND revoked_at IS NULL`),
  };
}
