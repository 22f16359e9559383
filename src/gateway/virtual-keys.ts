import { createHash, randomBytes } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import type { ApiKeyRecordV1, KeySettingsV1, KeyStoreV1 } from '../spec/index.ts';
import { identityPattern } from './request-identity.ts';

/** Every secret starts with it, so a leaked one is recognisable (and scannable) as Keel's. */
export const keySecretPrefix = 'keel_';

/** `keel_` and 32 random bytes in base64url: the secret the client sends; shown once, never stored. */
export function newKeySecret(): string {
  return `${keySecretPrefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * What the store keeps of a secret: its SHA-256 in hex. The secret has 256 random bits, so a fast
 * hash is enough (nothing to guess from), and it is looked up by hash, so no comparison of secrets
 * happens whose timing could leak them.
 */
export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** `key_` and 12 hex characters: public, short enough to read in a list or a journal. */
export function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

export interface VirtualKeyRequest {
  tenant: string;
  principal: string;
  settings: KeySettingsV1;
}

/** Checks a key's identity and settings (an expiry must be to come, after `now`); throws `usage-invalid` naming the first problem, in one line. */
export function checkVirtualKey(request: VirtualKeyRequest, now: Date = new Date()): void {
  for (const field of ['tenant', 'principal'] as const) {
    if (!identityPattern.test(request[field])) {
      throw new KeelError('usage-invalid', `key ${field} must be 1 to 200 letters, digits or . _ @ : + / - (starting with a letter or digit); got ${JSON.stringify(request[field].slice(0, 40))}`);
    }
  }
  const { models, budget, rpm, tpm } = request.settings;
  for (const model of models) {
    if (model.trim() === '' || model.length > 200) throw new KeelError('usage-invalid', `key models: each model is a route or provider:model name of 1 to 200 characters; got ${JSON.stringify(model.slice(0, 40))}`);
  }
  if (budget !== undefined && (!Number.isSafeInteger(budget.micros) || budget.micros <= 0)) throw new KeelError('usage-invalid', `key budget must be a positive integer of micro-USD, got ${budget.micros}`);
  for (const [name, value] of [['rpm', rpm], ['tpm', tpm]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) throw new KeelError('usage-invalid', `key ${name} must be a positive integer, got ${value}`);
  }
  const { expiresAt } = request.settings;
  if (expiresAt !== undefined) {
    const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    // Kept as written, so it must already be the ISO form every reader compares and prints.
    if (!Number.isFinite(at) || new Date(at).toISOString() !== expiresAt) throw new KeelError('usage-invalid', `key expiresAt must be an ISO-8601 UTC time such as 2027-01-31T00:00:00.000Z, got ${JSON.stringify(String(expiresAt).slice(0, 40))}`);
    if (at <= now.getTime()) throw new KeelError('usage-invalid', `key expiresAt ${expiresAt} has already passed (now ${now.toISOString()})`);
  }
}

/** Whether the key has expired by `now`: refused from its expiry on, as a revoked key is. */
export function keyExpired(settings: KeySettingsV1, now: number = Date.now()): boolean {
  return settings.expiresAt !== undefined && Date.parse(settings.expiresAt) <= now;
}

/** Creates a key; the secret is in the answer and nowhere else. */
export async function createVirtualKey(keys: KeyStoreV1, request: VirtualKeyRequest, now: Date = new Date()): Promise<{ secret: string; key: ApiKeyRecordV1 }> {
  checkVirtualKey(request, now);
  const secret = newKeySecret();
  const key = await keys.createKey({ keyId: newKeyId(), secretHash: hashKeySecret(secret), tenant: request.tenant, principal: request.principal, settings: request.settings, createdAt: now.toISOString() });
  return { secret, key };
}

/**
 * Gives a live key a new secret, returned here and nowhere else; the old secret is refused from now
 * on by every gateway on the store. The key keeps its id, owner, limits and what it has spent.
 */
export async function rotateVirtualKey(keys: KeyStoreV1, keyId: string): Promise<{ secret: string; key: ApiKeyRecordV1 }> {
  if (keys.rotateKey === undefined) throw new KeelError('runtime-unsupported', 'this store cannot rotate keys: revoke the key and create another');
  const secret = newKeySecret();
  const key = await keys.rotateKey(keyId, hashKeySecret(secret));
  if (key === undefined) throw new KeelError('key-not-found', `no live key ${keyId}: it does not exist or was revoked (keel keys list shows them)`);
  return { secret, key };
}
