import { KeelError } from '../errors/index.ts';
import { canonicalJson, sha256 } from '../journal/index.ts';
import type { CachedResponseV1, EmbedOptionsV1, EmbedResultV1, GenerateOptionsV1, GenerateResultV1, ResponseCacheStoreV1, StreamPartV1 } from '../spec/index.ts';

export interface ResponseCacheSettings {
  /** Model names as clients send them (`support`, `openai:gpt-4o-mini`). */
  models: readonly string[];
  ttlMs: number;
  maxBytes?: number | undefined;
  maxEntryBytes?: number | undefined;
  /** The clock entries are aged by; default Date.now. */
  now?: () => number;
}

/** Whose answer it is and what was asked: everything that makes two requests the same request. */
export type CacheableRequest = {
  tenant: string;
  principal: string;
  /** The model as the client named it, resolved (a route's or a concrete model's name). */
  model: string;
} & ({ options: GenerateOptionsV1; embed?: never } | { embed: EmbedOptionsV1; options?: never });

/** What is kept: a generated answer, or an embeddings request's vectors. */
export type CacheableAnswer = GenerateResultV1 | EmbedResultV1;

export interface CachedAnswer {
  result: CacheableAnswer;
  /** The run whose model call produced it. */
  runId: string;
  storedAt: number;
}

const defaultMaxBytes = 64 * 1024 * 1024;
const defaultMaxEntryBytes = 1024 * 1024;

/**
 * The gateway's response cache: off unless the config's `gateway.cache` names models. An answer is
 * kept under the SHA-256 of its tenant, principal, model and every option that shapes the answer
 * (messages, tools, tool choice, response format, token limit, sampling, stop sequences, seed; for
 * embeddings, the values and dimensions), so one tenant or principal never reads another's, and a
 * request differing in any of them is a miss. Embeddings are kept as vectors of numbers: how the
 * client asked to receive them (`encoding_format`) is applied to what is kept, on every answer.
 * Entries live where `store` keeps them: this process's memory (MemoryResponseCache, the default)
 * or the store every gateway on it shares (`gateway.cache.shared`). Each is the answer's JSON text,
 * parsed afresh on every hit, so no caller can change another's. A cache that fails to read is a
 * miss and one that fails to write keeps nothing: it never fails a request.
 */
export class ResponseCache {
  readonly #models: ReadonlySet<string>;
  readonly #ttlMs: number;
  readonly #maxEntryBytes: number;
  readonly #now: () => number;
  readonly #store: ResponseCacheStoreV1;
  readonly #log: ((line: string) => void) | undefined;
  #failing = false;

  constructor(settings: ResponseCacheSettings & { store?: ResponseCacheStoreV1 | undefined; log?: ((line: string) => void) | undefined }) {
    if (settings.models.length === 0) throw new KeelError('config-invalid', 'gateway.cache.models names no model: name the routes or provider:model names whose answers are cached');
    this.#models = new Set(settings.models);
    this.#ttlMs = settings.ttlMs;
    this.#now = settings.now ?? Date.now;
    this.#store = settings.store ?? new MemoryResponseCache({ maxBytes: settings.maxBytes ?? defaultMaxBytes });
    this.#maxEntryBytes = Math.min(settings.maxEntryBytes ?? defaultMaxEntryBytes, settings.maxBytes ?? defaultMaxBytes);
    this.#log = settings.log;
  }

  /** The cache key of a request to a cached model; undefined for a model whose answers are not cached. */
  keyOf(request: CacheableRequest): string | undefined {
    if (!this.#models.has(request.model)) return undefined;
    const asker = { tenant: request.tenant, principal: request.principal, model: request.model };
    if (request.embed !== undefined) {
      const { values, dimensions } = request.embed;
      // Under `embed`, so no conversation's key can be an embeddings request's.
      return sha256(canonicalJson({ ...asker, embed: dimensions === undefined ? { values } : { values, dimensions } }));
    }
    const { messages, tools, toolChoice, responseFormat, maxOutputTokens, temperature, topP, stopSequences, seed } = request.options;
    const shaping = { messages, tools, toolChoice, responseFormat, maxOutputTokens, temperature, topP, stopSequences, seed };
    // Options left out are left out of the key, not written as null: the two are the same request.
    const given = Object.fromEntries(Object.entries(shaping).filter(([, value]) => value !== undefined));
    return sha256(canonicalJson({ ...asker, ...given }));
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    let entry: CachedResponseV1 | undefined;
    try {
      entry = await this.#store.readCachedResponse(key, this.#now());
    } catch (error) {
      this.#failed('read', error);
      return undefined;
    }
    this.#recovered();
    return entry === undefined ? undefined : { result: JSON.parse(entry.text) as CacheableAnswer, runId: entry.runId, storedAt: entry.storedMs };
  }

  /** Keeps an answer; one larger than `maxEntryBytes`, or one the store could not take, is not kept. Returns whether it was. */
  async put(key: string, result: CacheableAnswer, runId: string): Promise<boolean> {
    // What the call cost is its run's; a hit costs nothing.
    const { cost: _cost, ...answer } = result;
    const text = JSON.stringify(answer);
    if (Buffer.byteLength(text) > this.#maxEntryBytes) return false;
    const storedMs = this.#now();
    try {
      await this.#store.writeCachedResponse(key, { text, runId, storedMs, expiresMs: storedMs + this.#ttlMs });
    } catch (error) {
      this.#failed('write', error);
      return false;
    }
    this.#recovered();
    return true;
  }

  /** Said once when the store starts failing, and once when it works again, not per request. */
  #failed(what: string, error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#log?.(`keel gateway: the response cache could not ${what} (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): requests go to their models until it can`);
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#log?.('keel gateway: the response cache works again');
  }
}

const sweepEveryMs = 60_000;

interface MemoryEntry extends CachedResponseV1 {
  bytes: number;
}

/**
 * Kept answers in this process's memory, least recently used first out past `maxBytes`: the
 * default home of the gateway's cache. Processes do not share it, so a process that misses costs
 * one model call, never a wrong answer.
 */
export class MemoryResponseCache implements ResponseCacheStoreV1 {
  readonly responseCacheSpecificationVersion = 'v1';
  readonly #maxBytes: number;
  /** In use order, least recent first (a Map keeps insertion order; a hit is moved to the end). */
  readonly #entries = new Map<string, MemoryEntry>();
  #bytes = 0;
  #sweptMs = Number.NEGATIVE_INFINITY;

  constructor(options: { maxBytes: number }) {
    this.#maxBytes = options.maxBytes;
  }

  /** Memory the kept answers take, in bytes of their text. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  readCachedResponse(key: string, nowMs: number): Promise<CachedResponseV1 | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return Promise.resolve(undefined);
    if (entry.expiresMs <= nowMs) {
      this.#remove(key, entry);
      return Promise.resolve(undefined);
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const { bytes: _bytes, ...kept } = entry;
    return Promise.resolve(kept);
  }

  writeCachedResponse(key: string, entry: CachedResponseV1): Promise<void> {
    const bytes = Buffer.byteLength(entry.text);
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    if (bytes > this.#maxBytes) return Promise.resolve();
    this.#entries.set(key, { ...entry, bytes });
    this.#bytes += bytes;
    // Expired entries are dropped once a minute (a write's time is its storedMs), so they do not
    // hold room until they are read or become the least recent.
    if (entry.storedMs - this.#sweptMs >= sweepEveryMs) {
      this.#sweptMs = entry.storedMs;
      for (const [stale, kept] of this.#entries) if (kept.expiresMs <= entry.storedMs) this.#remove(stale, kept);
    }
    for (const [oldest, kept] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest, kept);
    }
    return Promise.resolve();
  }

  #remove(key: string, entry: MemoryEntry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

/** A kept answer as the parts of a stream, for a client that asked for one: what a provider would have sent. */
export function streamPartsOf(result: GenerateResultV1): StreamPartV1[] {
  const parts: StreamPartV1[] = [{ type: 'response-start', response: result.response }];
  for (const part of result.content) parts.push(part.type === 'text' ? { type: 'text-delta', delta: part.text } : part);
  parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage, ...(result.refusal === undefined ? {} : { refusal: result.refusal }) });
  return parts;
}
