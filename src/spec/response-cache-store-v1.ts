/**
 * Response cache store specification, version 1: where the gateway keeps answers it may hand out
 * again (src/gateway/response-cache.ts), shared by every process on one store. Types only. The
 * store keeps each entry's text as given and never interprets it; the key is already a digest of
 * tenant, principal, model and request, so a store need not know what it covers.
 */

export interface CachedResponseV1 {
  /** The answer, as the gateway wrote it (JSON text). */
  text: string;
  /** The run whose model call produced it. */
  runId: string;
  /** Milliseconds since the epoch: when it was stored, and when it stops being handed out. */
  storedMs: number;
  expiresMs: number;
}

export interface ResponseCacheStoreV1 {
  readonly responseCacheSpecificationVersion: 'v1';
  /** The entry under `key`, or undefined when there is none or it expired at or before `nowMs`. */
  readCachedResponse(key: string, nowMs: number): Promise<CachedResponseV1 | undefined>;
  /**
   * Stores the entry under `key`, replacing any there. Entries past their expiry are deleted now
   * and then (at most once a minute per process), so the table holds little more than live entries.
   * A write's time is its `entry.storedMs`, as a read's is its `nowMs`: the minute is counted,
   * and expiry judged, by it.
   * Needs no fdatasync: a lost entry costs one model call, never a wrong answer.
   */
  writeCachedResponse(key: string, entry: CachedResponseV1): Promise<void>;
}
