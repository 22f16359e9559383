/**
 * The conformance suite of a dataset store (src/spec/dataset-store-v1.ts). `first` and `second`
 * are two handles on one store (two connections, as `keel dataset create` and `keel eval run`
 * would hold), so a dataset pinned through one is read through the other.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeelError } from '../../errors/index.ts';
import type { DatasetRecordV1, DatasetStoreV1 } from '../../spec/index.ts';

export interface DatasetStoresUnderTest {
  first: DatasetStoreV1;
  second: DatasetStoreV1;
  dispose: () => Promise<void>;
}

export type DatasetStoresFactory = () => Promise<DatasetStoresUnderTest>;

function dataset(name: string, createdAt: string, items: DatasetRecordV1['items']): DatasetRecordV1 {
  return { name, contentHash: `${name.length.toString(16).padStart(2, '0')}${'ab'.repeat(31)}`, definition: { task: 'support-refund', statuses: ['ok', 'degraded'], limit: 3 }, items, createdAt };
}

async function withStores(factory: DatasetStoresFactory, work: (stores: DatasetStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runDatasetConformance(label: string, factory: DatasetStoresFactory | { skip: string }): void {
  describe(`dataset store conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('a dataset pinned through one handle is read whole through the other: items, unicode and nesting intact', async () => {
      await withStores(factory, async ({ first, second }) => {
        assert.deepEqual(await second.listDatasets(), []);
        assert.equal(await second.getDataset('refunds'), undefined);
        const items = [
          { id: 'run_1', input: { message: 'Ünïcode ✓ "quoted" \\ back' }, reference: { output: null, toolCalls: [] } },
          { id: 'run_2', input: { message: 'two' }, reference: { output: { refundCents: 4200, nested: [1, [2, { deep: true }]] }, toolCalls: ['lookup_order'] } },
        ];
        const pinned = dataset('refunds', '2030-01-15T12:00:00.000Z', items);
        await first.createDataset(pinned);
        assert.deepEqual(await second.getDataset('refunds'), pinned);
      });
    });

    void test('a taken name is refused with dataset-exists, and the pinned items are unchanged', async () => {
      await withStores(factory, async ({ first, second }) => {
        const pinned = dataset('pinned', '2030-01-15T12:00:00.000Z', [{ id: 'run_a' }]);
        await first.createDataset(pinned);
        await assert.rejects(second.createDataset(dataset('pinned', '2030-01-16T12:00:00.000Z', [{ id: 'run_b' }])), (error: unknown) => error instanceof KeelError && error.code === 'dataset-exists');
        assert.deepEqual(await first.getDataset('pinned'), pinned);
      });
    });

    void test('datasets are listed oldest first with their item counts, without their items', async () => {
      await withStores(factory, async ({ first, second }) => {
        await first.createDataset(dataset('later', '2030-01-17T00:00:00.000Z', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]));
        await second.createDataset(dataset('earlier', '2030-01-16T00:00:00.000Z', []));
        await first.createDataset(dataset('also-earlier', '2030-01-16T00:00:00.000Z', [{ id: 'x' }]));
        const listed = await second.listDatasets();
        assert.deepEqual(
          listed.map((summary) => [summary.name, summary.itemCount, summary.createdAt]),
          [
            ['also-earlier', 1, '2030-01-16T00:00:00.000Z'],
            ['earlier', 0, '2030-01-16T00:00:00.000Z'],
            ['later', 3, '2030-01-17T00:00:00.000Z'],
          ],
        );
        assert.deepEqual(listed[2]?.definition, { task: 'support-refund', statuses: ['ok', 'degraded'], limit: 3 });
        assert.equal('items' in (listed[2] ?? {}), false);
      });
    });
  });
}
