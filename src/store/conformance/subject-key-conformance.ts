/**
 * The conformance suite of a subject key store (src/spec/subject-key-store-v1.ts). `first` and
 * `second` are two handles on one store (two connections, as two workers would hold), so a race to
 * create a subject's key, and a redaction seen from the other handle, are checked across them.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { SubjectKeyStoreV1, SubjectKeyV1 } from '../../spec/index.ts';

export interface SubjectKeyStoresUnderTest {
  first: SubjectKeyStoreV1;
  second: SubjectKeyStoreV1;
  dispose: () => Promise<void>;
}

export type SubjectKeyStoresFactory = () => Promise<SubjectKeyStoresUnderTest>;

function proposal(subject: string): SubjectKeyV1 {
  return { subject, keyId: randomUUID(), material: randomBytes(32).toString('base64'), createdAt: '2030-01-15T12:00:00.000Z' };
}

async function withStores(factory: SubjectKeyStoresFactory, work: (stores: SubjectKeyStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runSubjectKeyConformance(label: string, factory: SubjectKeyStoresFactory | { skip: string }): void {
  describe(`subject key store conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('two handles racing to create a subject key both get the one stored first', async () => {
      await withStores(factory, async ({ first, second }) => {
        const proposals = Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? first : second).ensureSubjectKeys([proposal('cust-1'), proposal(`other-${index}`)]));
        const results = await Promise.all(proposals);
        const keys = new Set(results.map((result) => `${result[0]?.keyId}/${result[0]?.material}`));
        assert.equal(keys.size, 1, 'every racer got the same key for cust-1');
        const [stored] = await second.readSubjectKeys([results[0]?.[0]?.keyId ?? '']);
        assert.equal(stored?.subject, 'cust-1');
        assert.equal(await first.knowsSubject('cust-1'), true);
        assert.equal(await first.knowsSubject('nobody'), false);
      });
    });

    void test('a destroyed key is gone for every handle, its redaction is recorded, a repeat destroys nothing, and the subject seen again gets a new key', async () => {
      await withStores(factory, async ({ first, second }) => {
        const [key] = await first.ensureSubjectKeys([proposal('cust-2')]);
        assert.ok(key !== undefined);
        const redaction = await second.destroySubjectKey('cust-2', { by: 'user:dpo', reason: 'erasure', at: '2030-02-01T00:00:00.000Z' });
        assert.deepEqual({ ...redaction, scrubbed: true }, { subject: 'cust-2', keyId: key.keyId, redactedAt: '2030-02-01T00:00:00.000Z', by: 'user:dpo', reason: 'erasure', scrubbed: true });
        assert.deepEqual(await first.readSubjectKeys([key.keyId]), []);
        assert.deepEqual(await first.readSubjectRedactions([key.keyId]), [{ subject: 'cust-2', keyId: key.keyId, redactedAt: '2030-02-01T00:00:00.000Z', by: 'user:dpo', reason: 'erasure' }]);
        assert.equal(await first.destroySubjectKey('cust-2', { by: 'user:dpo', reason: 'again', at: '2030-02-02T00:00:00.000Z' }), undefined);
        assert.equal(await first.knowsSubject('cust-2'), true, 'a redacted subject is still known');
        const [fresh] = await first.ensureSubjectKeys([proposal('cust-2')]);
        assert.notEqual(fresh?.keyId, key.keyId);
        assert.equal(await second.destroySubjectKey('nobody', { by: 'user:dpo', reason: 'x', at: '2030-02-01T00:00:00.000Z' }), undefined);
      });
    });
  });
}
