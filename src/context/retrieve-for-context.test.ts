import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { RetrieverV1 } from './index.ts';
import { assembleContext, FolderRetriever, retrieveForContext } from './index.ts';

const day = 86_400_000;
const now = Date.parse('2025-03-01T00:00:00Z');
let folder = '';
let retriever: FolderRetriever;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keel-retrieve-for-context-'));
  await writeFile(join(folder, 'refunds.md'), '---\nupdated: 2025-02-20\n---\n# Refunds\n\nRefunds reach the card in five days.\n\n## Damaged\n\nDamaged parcels are refunded in full.\n');
  await writeFile(join(folder, 'old-refunds.md'), '---\nupdated: 2022-01-01\n---\n# Old refunds\n\nRefunds used to take ten days.\n\n## Damaged, old\n\nDamaged parcels used to be refunded in part.\n');
  retriever = await FolderRetriever.open({ folder, name: 'folder:kb', now: () => now });
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const options = { staleAfterMs: 365 * day, minCoverage: 0.6, limit: 10 };

test('results become untrusted user items carrying chunk id, document version, score and age', async () => {
  const outcome = await retrieveForContext(retriever, 'refunds damaged', options);
  assert.ok(outcome.ok);
  assert.equal(outcome.coverage, 1);
  const first = outcome.items[0];
  assert.deepEqual(first && { ...first, text: '', meta: { ...first.meta, score: 0 } }, {
    source: 'folder:kb',
    id: first?.id,
    version: first?.version,
    text: '',
    labels: { tenants: [], origins: ['untrusted'] },
    role: 'user',
    meta: { score: 0, ageMs: first?.meta?.ageMs },
  });
  assert.ok(outcome.items.every((item) => /^(old-)?refunds\.md#\d$/.test(item.id) && /^[0-9a-f]{16}$/.test(item.version)));
});

test('a result older than the bound is kept but signalled stale, once a document', async () => {
  const outcome = await retrieveForContext(retriever, 'refunds damaged', options);
  assert.ok(outcome.ok);
  assert.deepEqual(
    outcome.signals.map((signal) => [signal.kind, signal.documentId, signal.ageMs]),
    [['stale-result', 'old-refunds.md', now - Date.parse('2022-01-01T00:00:00Z')]],
  );
  assert.ok(outcome.items.some((item) => item.id.startsWith('old-refunds.md')));
});

test('an empty retrieval is a signal, not silence', async () => {
  const outcome = await retrieveForContext(retriever, 'quantum chromodynamics', options);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.items, []);
  assert.deepEqual(outcome.signals.map((signal) => signal.kind), ['empty-retrieval']);
});

test('low coverage is a signal: results that match only part of the question', async () => {
  const outcome = await retrieveForContext(retriever, 'damaged parcel insurance claim', { ...options, staleAfterMs: 10 * 365 * day });
  assert.ok(outcome.ok);
  assert.equal(outcome.coverage, 0.5);
  assert.deepEqual(outcome.signals.map((signal) => [signal.kind, signal.coverage]), [['low-coverage', 0.5]]);
  assert.match(outcome.signals[0]?.detail ?? '', /cover 50% of the query's terms; at least 60% expected/);
});

test('a retriever that is down gives a retriever-down signal and a retryable KeelError for the failure contract', async () => {
  const down: RetrieverV1 = {
    specificationVersion: 'v1',
    name: 'pg:kb',
    retrieve: async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    },
  };
  const outcome = await retrieveForContext(down, 'refunds', options);
  assert.ok(!outcome.ok);
  assert.deepEqual(outcome.signals, [{ kind: 'retriever-down', detail: 'retriever pg:kb failed: connect ECONNREFUSED 127.0.0.1:5432', retriever: 'pg:kb' }]);
  assert.ok(outcome.error instanceof KeelError && outcome.error.code === 'retriever-unavailable' && outcome.error.isRetryable);
  assert.deepEqual(outcome.error.details, { retriever: 'pg:kb' });
  // A Keel error from the retriever keeps its own code.
  const failing: RetrieverV1 = { ...down, retrieve: async () => Promise.reject(new KeelError('db-unavailable', 'pool exhausted')) };
  const kept = await retrieveForContext(failing, 'refunds', options);
  assert.ok(!kept.ok && kept.error.code === 'db-unavailable');
});

test('retrieved items and their signals go through assembly into one manifest', async () => {
  const outcome = await retrieveForContext(retriever, 'refunds damaged', options);
  assert.ok(outcome.ok);
  const { manifest } = assembleContext({
    sections: [{ name: 'knowledge', kind: 'retrieval', priority: 1, maxTokens: 60, truncation: 'drop-lowest-score', items: outcome.items }],
    target: { provider: 'openai', modelId: 'gpt-4o', contextWindow: 1_000 },
    reserveForOutput: 100,
    signals: outcome.signals,
  });
  assert.deepEqual(manifest.signals.map((signal) => signal.kind), ['stale-result']);
  assert.ok(manifest.items.length > 0 && manifest.items.every((item) => item.labels.origin === 'untrusted' && item.ageMs !== undefined));
  assert.ok(manifest.dropped.every((drop) => drop.reason === 'over-section-budget'));
  assert.ok(manifest.dropped.length > 0);
});
