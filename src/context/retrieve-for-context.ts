import { KeelError } from '../errors/index.ts';
import type { ContextItem, ContextLabels, ContextSignal } from './context-spec.ts';
import type { RetrieverV1 } from '../spec/index.ts';

export type RetrieveForContextOptions = {
  /** A result older than this is used but signalled `stale-result`. */
  staleAfterMs: number;
  /** Coverage (0…1) below this is signalled `low-coverage`. */
  minCoverage: number;
  limit: number;
  signal?: AbortSignal;
  /** Labels for every item. Default: origin untrusted, because retrieved text is data, not instructions. */
  labels?: ContextLabels;
};

export type RetrievalForContext =
  | { ok: true; items: ContextItem[]; signals: ContextSignal[]; coverage: number }
  /** The retriever failed: journal the signals, then let the task's failure contract handle `error`. */
  | { ok: false; error: KeelError; signals: ContextSignal[] };

/**
 * Runs a retrieval and turns it into items for a retrieval section, plus the signals that must not
 * pass silently: stale results, an empty retrieval, low coverage, a retriever that is down. A
 * failure is returned, not thrown, so the caller journals the `retriever-down` signal before its
 * failure contract (retry, fall back, degrade, fail) decides what happens.
 */
export async function retrieveForContext(retriever: RetrieverV1, query: string, options: RetrieveForContextOptions): Promise<RetrievalForContext> {
  let retrieval;
  try {
    retrieval = await retriever.retrieve(query, options.signal === undefined ? { limit: options.limit } : { limit: options.limit, signal: options.signal });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const signal: ContextSignal = { kind: 'retriever-down', detail: `retriever ${retriever.name} failed: ${message}`, retriever: retriever.name };
    const error =
      cause instanceof KeelError
        ? cause
        : new KeelError('retriever-unavailable', `retriever ${retriever.name} is unavailable: ${message}`, { cause, details: { retriever: retriever.name } });
    return { ok: false, error, signals: [signal] };
  }

  const signals: ContextSignal[] = [];
  const coverage = Math.min(1, Math.max(0, retrieval.coverage));
  if (retrieval.results.length === 0) {
    signals.push({ kind: 'empty-retrieval', detail: `retriever ${retriever.name} found nothing for the query`, retriever: retriever.name, coverage });
  } else if (coverage < options.minCoverage) {
    signals.push({
      kind: 'low-coverage',
      detail: `results cover ${formatShare(coverage)} of the query's terms; at least ${formatShare(options.minCoverage)} expected`,
      retriever: retriever.name,
      coverage,
    });
  }
  const items: ContextItem[] = [];
  // One signal a stale document, however many of its chunks came back.
  const staleDocuments = new Set<string>();
  for (const result of retrieval.results) {
    const document = `${result.documentId}@${result.version}`;
    if (result.ageMs !== undefined && result.ageMs > options.staleAfterMs && !staleDocuments.has(document)) {
      staleDocuments.add(document);
      signals.push({
        kind: 'stale-result',
        detail: `${document} is ${result.ageMs} ms old; stale after ${options.staleAfterMs} ms`,
        retriever: retriever.name,
        documentId: result.documentId,
        version: result.version,
        ageMs: result.ageMs,
      });
    }
    items.push({
      source: retriever.name,
      id: result.chunkId,
      version: result.version,
      text: result.text,
      labels: copyLabels(options.labels ?? { tenants: [], origins: ['untrusted'] }),
      role: 'user',
      meta: result.ageMs === undefined ? { score: result.score } : { score: result.score, ageMs: result.ageMs },
    });
  }
  return { ok: true, items, signals, coverage };
}

function copyLabels(labels: ContextLabels): ContextLabels {
  return { ...labels, tenants: [...labels.tenants], origins: [...labels.origins] };
}

function formatShare(share: number): string {
  return `${Math.round(share * 100)}%`;
}
