import MiniSearch from 'minisearch';
import { KeelError } from '../errors/index.ts';
import type { RetrievalResultV1, RetrievalV1, RetrieveOptionsV1, RetrieverV1 } from '../spec/index.ts';
import { compareCodeUnits, compareNumbers } from './compare.ts';
import type { FolderChunk } from './folder-documents.ts';
import { readFolderChunks } from './folder-documents.ts';
import { normaliseTerm, queryTerms, splitWords } from './search-terms.ts';

export type FolderRetrieverOptions = {
  folder: string;
  /** Defaults to `folder:<the folder path as given>`. */
  name?: string;
  /** The clock ages are measured against; tests pin it. */
  now?: () => number;
  /** Longest chunk, in characters (default 1200, about 300 tokens of English). */
  maxChunkCharacters?: number;
};

/**
 * The built-in retriever: a BM25 lexical index (MiniSearch) over the `.md`/`.txt` files of a
 * folder, in memory, with no server. Right for a few thousand documents; past that, the same
 * RetrieverV1 over PostgreSQL full-text search or pgvector (see src/spec/retriever-v1.ts).
 */
export class FolderRetriever implements RetrieverV1 {
  readonly specificationVersion = 'v1';
  readonly name: string;
  readonly #options: FolderRetrieverOptions;
  readonly #now: () => number;
  #index: MiniSearch<FolderChunk>;
  #chunks = new Map<string, FolderChunk>();

  private constructor(options: FolderRetrieverOptions) {
    this.#options = options;
    this.name = options.name ?? `folder:${options.folder}`;
    this.#now = options.now ?? Date.now;
    this.#index = createIndex();
  }

  /** Reads and indexes the folder; rejects when it cannot be read. */
  static async open(options: FolderRetrieverOptions): Promise<FolderRetriever> {
    const retriever = new FolderRetriever(options);
    await retriever.refresh();
    return retriever;
  }

  get chunkCount(): number {
    return this.#chunks.size;
  }

  /** Re-reads the folder. The old index keeps serving until the new one is complete. */
  async refresh(): Promise<void> {
    const chunks = await readFolderChunks(this.#options.folder, this.#options.maxChunkCharacters ?? 1200);
    const index = createIndex();
    index.addAll(chunks);
    this.#index = index;
    this.#chunks = new Map(chunks.map((chunk) => [chunk.chunkId, chunk]));
  }

  async retrieve(query: string, options: RetrieveOptionsV1): Promise<RetrievalV1> {
    options.signal?.throwIfAborted();
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new KeelError('config-invalid', `retrieval limit must be a positive integer, got ${options.limit}`);
    const now = this.#now();
    const hits = this.#index
      .search(query, { combineWith: 'OR' })
      // Rounded so that last-bit differences in floating point cannot reorder results; ties by id.
      .map((hit) => ({ chunkId: String(hit.id), score: Math.round(hit.score * 1e6) / 1e6, queryTerms: hit.queryTerms }))
      .sort((left, right) => compareNumbers(right.score, left.score) || compareCodeUnits(left.chunkId, right.chunkId))
      .slice(0, options.limit);
    const results: RetrievalResultV1[] = [];
    const matched = new Set<string>();
    for (const hit of hits) {
      const chunk = this.#chunks.get(hit.chunkId);
      if (chunk === undefined) continue;
      for (const term of hit.queryTerms) matched.add(term);
      results.push({
        documentId: chunk.documentId,
        chunkId: chunk.chunkId,
        version: chunk.version,
        text: chunk.text,
        score: hit.score,
        ageMs: Math.max(0, now - chunk.updatedMs),
        path: chunk.path,
      });
    }
    const terms = queryTerms(query);
    const covered = terms.filter((term) => matched.has(term)).length;
    return { results, coverage: terms.length === 0 ? 0 : covered / terms.length };
  }
}

function createIndex(): MiniSearch<FolderChunk> {
  return new MiniSearch<FolderChunk>({
    idField: 'chunkId',
    fields: ['heading', 'text'],
    tokenize: splitWords,
    processTerm: normaliseTerm,
    searchOptions: {
      boost: { heading: 2 },
      // Prefixes catch inflections ("refund" → "refunds"); fuzziness only for long words, where a
      // typo is likelier than a different word.
      prefix: (term) => term.length >= 4,
      fuzzy: (term) => (term.length >= 7 ? 0.2 : false),
    },
  });
}
