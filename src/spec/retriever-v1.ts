/**
 * Retriever specification, version 1: what every retrieval source implements (the built-in folder
 * retriever, and at scale PostgreSQL full-text search or pgvector). Types only.
 *
 * A PostgreSQL retriever implements the same interface over a `chunks(document_id, chunk_id,
 * version, path, text, updated_at, tsv tsvector, embedding vector)` table:
 * - full text: `SELECT …, ts_rank_cd(tsv, q) AS score FROM chunks, websearch_to_tsquery('english', $1) q
 *   WHERE tsv @@ q ORDER BY score DESC, chunk_id LIMIT $2` (a GIN index on tsv); coverage is the
 *   share of the query's lexemes (`tsvector_to_array(to_tsvector($1))`) found in the returned rows' tsv;
 * - pgvector: `ORDER BY embedding <=> $1, chunk_id LIMIT $2` (an HNSW index), score = 1 − distance;
 *   coverage still counts lexical query terms in the returned text, so "the answer is not in the
 *   corpus" stays visible even when nearest neighbours always exist;
 * - `ageMs` = now − updated_at; `version` = a hash of the document's content, stored at ingestion;
 * - the AbortSignal cancels the query (`pg_cancel_backend` via the driver), and a connection failure
 *   rejects, which retrieveForContext turns into a `retriever-down` signal.
 */

export type RetrievalResultV1 = {
  /** The document (file) the chunk belongs to. */
  documentId: string;
  /** Unique across the retriever: the document id and the chunk's place in it. */
  chunkId: string;
  /** The document's content version; changes whenever its text does. */
  version: string;
  text: string;
  /** Higher is more relevant; comparable only within one retrieval. */
  score: number;
  /** How old the document is; absent when the source cannot tell. */
  ageMs?: number;
  /** Where a person finds the document (a relative path, a URL). */
  path: string;
};

export type RetrievalV1 = {
  /** Best first; ties in a stable order (by chunk id). */
  results: RetrievalResultV1[];
  /** Share (0…1) of the query's distinct terms that appear in the results. */
  coverage: number;
};

export type RetrieveOptionsV1 = {
  limit: number;
  signal?: AbortSignal;
};

export interface RetrieverV1 {
  readonly specificationVersion: 'v1';
  /** Names the source in manifests and signals, e.g. `folder:docs`. */
  readonly name: string;
  /** Rejects when the source is unavailable; never resolves with partial garbage. */
  retrieve(query: string, options: RetrieveOptionsV1): Promise<RetrievalV1>;
}
