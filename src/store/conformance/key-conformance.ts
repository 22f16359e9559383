/**
 * The conformance suite of a key store (src/spec/key-store-v1.ts). `first` and `second` are two
 * handles on one store (two connections, as `keel keys` and a gateway would hold), so a key made
 * through one is checked through the other.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { KeelError } from '../../errors/index.ts';
import type { KeyStoreV1, NewApiKeyV1 } from '../../spec/index.ts';

export interface KeyStoresUnderTest {
  first: KeyStoreV1;
  second: KeyStoreV1;
  dispose: () => Promise<void>;
}

export type KeyStoresFactory = () => Promise<KeyStoresUnderTest>;

function newKey(overrides: Partial<NewApiKeyV1> = {}): NewApiKeyV1 {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  return {
    keyId: `key_${id}`,
    secretHash: createHash('sha256').update(`keel_${randomUUID()}`).digest('hex'),
    tenant: 'acme',
    principal: 'svc-billing',
    settings: { models: ['sim:a', 'sim:b'], budget: { micros: 5_000, per: 'day' }, rpm: 60, tpm: 10_000 },
    createdAt: '2030-01-15T12:00:00.000Z',
    ...overrides,
  };
}

async function withStores(factory: KeyStoresFactory, work: (stores: KeyStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runKeyConformance(label: string, factory: KeyStoresFactory | { skip: string }): void {
  describe(`key store conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('a key made through one handle is found by its secret hash through the other, settings intact', async () => {
      await withStores(factory, async ({ first, second }) => {
        assert.equal(await second.hasKeys(), false, 'a new store holds no keys');
        const key = newKey();
        const created = await first.createKey(key);
        const expected = { keyId: key.keyId, tenant: 'acme', principal: 'svc-billing', settings: key.settings, createdAt: key.createdAt, revokedAt: null };
        assert.deepEqual(created, expected);
        assert.deepEqual(await second.findKeyBySecretHash(key.secretHash), expected);
        assert.equal(await second.findKeyBySecretHash(createHash('sha256').update('keel_other').digest('hex')), undefined);
        assert.equal(await second.hasKeys(), true);
      });
    });

    void test('a taken id or secret hash is refused with key-exists, and nothing is overwritten', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = newKey();
        await first.createKey(key);
        await assert.rejects(second.createKey(newKey({ keyId: key.keyId })), (error: unknown) => error instanceof KeelError && error.code === 'key-exists');
        await assert.rejects(second.createKey(newKey({ secretHash: key.secretHash, tenant: 'other' })), (error: unknown) => error instanceof KeelError && error.code === 'key-exists');
        assert.equal((await first.findKeyBySecretHash(key.secretHash))?.tenant, 'acme');
        assert.equal((await first.listKeys()).length, 1);
      });
    });

    void test('keys are listed oldest first; revoking keeps the first revocation time and the key stays listed', async () => {
      await withStores(factory, async ({ first, second }) => {
        const older = newKey({ createdAt: '2030-01-15T12:00:00.000Z', settings: { models: [] } });
        const newer = newKey({ createdAt: '2030-01-15T12:00:01.000Z' });
        await first.createKey(newer);
        await first.createKey(older);
        assert.deepEqual(
          (await second.listKeys()).map((key) => key.keyId),
          [older.keyId, newer.keyId],
        );
        const revoked = await second.revokeKey(older.keyId, '2030-01-16T08:00:00.000Z');
        assert.equal(revoked?.revokedAt, '2030-01-16T08:00:00.000Z');
        assert.equal((await first.revokeKey(older.keyId, '2030-01-17T08:00:00.000Z'))?.revokedAt, '2030-01-16T08:00:00.000Z', 'revoking again changes nothing');
        assert.equal((await first.findKeyBySecretHash(older.secretHash))?.revokedAt, '2030-01-16T08:00:00.000Z', 'a revoked key is still found, so it can be refused by name');
        assert.deepEqual((await first.listKeys()).map((key) => key.revokedAt), ['2030-01-16T08:00:00.000Z', null]);
        assert.deepEqual((await first.listKeys())[0]?.settings, { models: [] });
        assert.equal(await first.revokeKey('key_nobody', '2030-01-16T08:00:00.000Z'), undefined);
      });
    });

    void test('rotating gives a live key a new secret: found by the new hash, not the old, its settings kept; a revoked, unknown or taken one is not rotated', async () => {
      await withStores(factory, async ({ first, second }) => {
        const key = newKey({ settings: { models: ['support'], rpm: 5 } });
        const other = newKey();
        await first.createKey(key);
        await first.createKey(other);
        assert.ok(first.rotateKey !== undefined && second.rotateKey !== undefined, 'the store can rotate keys');
        const rotated = await second.rotateKey(key.keyId, 'f'.repeat(64));
        assert.deepEqual(rotated?.settings, { models: ['support'], rpm: 5 });
        assert.equal(await first.findKeyBySecretHash(key.secretHash), undefined, 'the old secret finds nothing');
        assert.equal((await first.findKeyBySecretHash('f'.repeat(64)))?.keyId, key.keyId);
        await assert.rejects(first.rotateKey(key.keyId, other.secretHash), (error: unknown) => error instanceof KeelError && error.code === 'key-exists');
        assert.equal((await first.findKeyBySecretHash('f'.repeat(64)))?.keyId, key.keyId, 'a refused rotation changes nothing');
        await first.revokeKey(other.keyId, '2030-01-16T08:00:00.000Z');
        assert.equal(await first.rotateKey(other.keyId, 'e'.repeat(64)), undefined, 'a revoked key keeps its secret');
        assert.equal(await first.findKeyBySecretHash('e'.repeat(64)), undefined);
        assert.equal(await first.rotateKey('key_nobody', 'd'.repeat(64)), undefined);
      });
    });
  });
}
