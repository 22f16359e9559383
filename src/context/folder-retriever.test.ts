import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256 } from '../journal/index.ts';
import { chunkDocument } from './chunk-document.ts';
import { parseFrontMatter } from './front-matter.ts';
import { FolderRetriever } from './index.ts';

const day = 86_400_000;
const now = Date.parse('2025-01-11T00:00:00Z');
let folder = '';

const refunds = `---
title: Refunds
updated: 2025-01-01
---
# Refunds

Refunds go back to the original payment card within five working days.

## Damaged parcels

A damaged parcel is refunded in full once the customer sends a photo of the parcel.

## Late deliveries

A late delivery earns a voucher, not a refund.
`;
const shipping = `---
updated: "2023-06-01T12:00:00"
---
# Shipping

Parcels ship from Rotterdam. Tracking numbers arrive by email.
`;
const warranty = 'Warranty covers manufacturing faults for two years.\n\nBatteries are covered for one year.\n';

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keel-folder-retriever-'));
  await mkdir(join(folder, 'notes'));
  await writeFile(join(folder, 'refunds.md'), refunds);
  await writeFile(join(folder, 'shipping.md'), shipping);
  await writeFile(join(folder, 'notes', 'warranty.txt'), warranty);
  await writeFile(join(folder, '.draft.md'), '# Refunds are free for everyone');
  await writeFile(join(folder, 'logo.png'), 'refund refund refund');
  // No front matter: the age comes from the file's mtime.
  await utimes(join(folder, 'notes', 'warranty.txt'), new Date(now - 3 * day), new Date(now - 3 * day));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const open = () => FolderRetriever.open({ folder, name: 'folder:kb', now: () => now });

test('indexes .md and .txt files chunk by heading, skipping hidden and other files', async () => {
  const retriever = await open();
  // refunds: three headed sections; shipping: one; warranty: two short paragraphs, one chunk.
  assert.equal(retriever.chunkCount, 3 + 1 + 1);
  const { results } = await retriever.retrieve('photo', { limit: 5 });
  assert.deepEqual(results, [
    {
      documentId: 'refunds.md',
      chunkId: 'refunds.md#2',
      version: sha256(refunds).slice(0, 16),
      text: '## Damaged parcels\n\nA damaged parcel is refunded in full once the customer sends a photo of the parcel.',
      score: results[0]?.score,
      ageMs: 10 * day,
      path: 'refunds.md',
    },
  ]);
});

test('ranks by relevance, best first, ties by chunk id; respects the limit', async () => {
  const retriever = await open();
  const { results } = await retriever.retrieve('damaged parcel refund', { limit: 10 });
  assert.equal(results[0]?.chunkId, 'refunds.md#2');
  for (let index = 1; index < results.length; index += 1) {
    const previous = results[index - 1];
    const current = results[index];
    assert.ok(previous !== undefined && current !== undefined);
    assert.ok(previous.score > current.score || (previous.score === current.score && previous.chunkId < current.chunkId));
  }
  assert.equal((await retriever.retrieve('damaged parcel refund', { limit: 2 })).results.length, 2);
  // Same query, same answer.
  assert.deepEqual(await retriever.retrieve('damaged parcel refund', { limit: 10 }), { results, coverage: 1 });
});

test('ages come from front matter (date-only and zoneless times read as UTC), else from mtime', async () => {
  const retriever = await open();
  const shippingResult = (await retriever.retrieve('Rotterdam', { limit: 1 })).results[0];
  assert.equal(shippingResult?.ageMs, now - Date.parse('2023-06-01T12:00:00Z'));
  const warrantyResult = (await retriever.retrieve('batteries', { limit: 1 })).results[0];
  assert.equal(warrantyResult?.documentId, 'notes/warranty.txt');
  assert.ok(Math.abs((warrantyResult?.ageMs ?? 0) - 3 * day) < 1_000);
});

test('coverage is the share of distinct query terms found in the results; stop words do not count', async () => {
  const retriever = await open();
  assert.equal((await retriever.retrieve('how do I get a refund for a damaged parcel', { limit: 3 })).coverage, 3 / 4);
  assert.equal((await retriever.retrieve('refund xylophone', { limit: 3 })).coverage, 1 / 2);
  assert.deepEqual(await retriever.retrieve('quantum chromodynamics', { limit: 3 }), { results: [], coverage: 0 });
  assert.equal((await retriever.retrieve('the', { limit: 3 })).coverage, 0);
});

test('a changed document gets a new version after refresh', async () => {
  const retriever = await open();
  const before = (await retriever.retrieve('batteries', { limit: 1 })).results[0]?.version;
  await writeFile(join(folder, 'notes', 'warranty.txt'), `${warranty}\nBatteries: eighteen months from 2025.\n`);
  await retriever.refresh();
  const after = (await retriever.retrieve('batteries', { limit: 1 })).results[0]?.version;
  assert.notEqual(after, before);
  await writeFile(join(folder, 'notes', 'warranty.txt'), warranty);
});

test('an aborted retrieval rejects; a missing folder cannot be opened', async () => {
  const retriever = await open();
  await assert.rejects(retriever.retrieve('refund', { limit: 1, signal: AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(FolderRetriever.open({ folder: join(folder, 'missing') }), { code: 'ENOENT' });
});

test('chunking: long sections split at paragraphs, each chunk keeps its heading, fenced # is code', () => {
  const body = `# Guide\n\n${'alpha '.repeat(30)}\n\n${'beta '.repeat(30)}\n\n\`\`\`sh\n# not a heading\n\`\`\`\n\n## Next\n\ntext`;
  const chunks = chunkDocument(body, true, 200);
  assert.deepEqual(chunks.map((chunk) => chunk.heading), ['Guide', 'Guide', 'Next']);
  assert.ok(chunks.every((chunk) => chunk.text.length <= 200));
  assert.ok(chunks[1]?.text.endsWith('```sh\n# not a heading\n```'));
  assert.ok(chunks.slice(0, 2).every((chunk) => chunk.text.startsWith('# Guide\n\n')));
  assert.deepEqual(chunkDocument('x '.repeat(150), false, 100).map((chunk) => chunk.text.length <= 100), [true, true, true]);
  assert.deepEqual(chunkDocument('# Heading only\n## Sub\n\nbody', true, 100), [{ heading: 'Sub', text: '## Sub\n\nbody' }]);
});

test('front matter: only ISO dates count', () => {
  assert.equal(parseFrontMatter('---\nupdated: 2024-02-29\n---\nbody').updatedMs, Date.parse('2024-02-29T00:00:00Z'));
  assert.equal(parseFrontMatter('---\nupdated: 2024-02-29T10:00:00+02:00\n---\nbody').updatedMs, Date.parse('2024-02-29T08:00:00Z'));
  assert.deepEqual(parseFrontMatter('---\nupdated: last Tuesday\n---\nbody'), { body: 'body' });
  assert.deepEqual(parseFrontMatter('no front matter'), { body: 'no front matter' });
});
