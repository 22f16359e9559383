/**
 * Key store specification, version 1: the gateway's virtual keys. Types only. A key stands for one
 * tenant and principal and carries its limits; the store keeps a SHA-256 hash of the secret, never
 * the secret, and looks a key up by that hash. Keys are revoked, never deleted, so a journal that
 * names a key id can always be traced to its owner.
 */

/** How long a key's budget lasts before it starts again: one run, a UTC day or a UTC month. */
export type KeyBudgetPeriodV1 = 'run' | 'day' | 'month';

/** What a key may do. Absent fields are not limited. */
export interface KeySettingsV1 {
  /** Models (route or concrete names) the key may call; empty: every model. Decided by the policy engine. */
  models: string[];
  /** Integer micro-USD per period. */
  budget?: { micros: number; per: KeyBudgetPeriodV1 };
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (prompt and answer) per minute. */
  tpm?: number;
  /** ISO-8601 UTC: from then on the key is refused, as a revoked one is. */
  expiresAt?: string;
}

export interface ApiKeyRecordV1 {
  /** Public and short (`key_` and 12 characters): shown in lists and journals. */
  keyId: string;
  tenant: string;
  principal: string;
  settings: KeySettingsV1;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC; null while the key is live. */
  revokedAt: string | null;
}

export interface NewApiKeyV1 {
  keyId: string;
  /** Lower-case hex SHA-256 of the secret. */
  secretHash: string;
  tenant: string;
  principal: string;
  settings: KeySettingsV1;
  createdAt: string;
}

export interface KeyStoreV1 {
  readonly keySpecificationVersion: 'v1';
  /** Fails with `key-exists` when the id or the secret's hash is taken. */
  createKey(key: NewApiKeyV1): Promise<ApiKeyRecordV1>;
  /** The key whose secret hashes to this, revoked or not; undefined when there is none. */
  findKeyBySecretHash(secretHash: string): Promise<ApiKeyRecordV1 | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listKeys(): Promise<ApiKeyRecordV1[]>;
  /** True once any key was created (revoked keys count: keys are never deleted). */
  hasKeys(): Promise<boolean>;
  /** Marks the key revoked (the first revocation's time is kept); undefined when there is no such key. */
  revokeKey(keyId: string, revokedAt: string): Promise<ApiKeyRecordV1 | undefined>;
  /**
   * Gives a live key a new secret: from then on the key is found by `secretHash` and the old secret
   * by nothing; its id, owner, settings and spend stay. Undefined when no live key has that id
   * (unknown or revoked); `key-exists` when the hash is taken. Optional, added to version 1 later.
   */
  rotateKey?(keyId: string, secretHash: string): Promise<ApiKeyRecordV1 | undefined>;
}
