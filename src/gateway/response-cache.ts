import { KeelError } from '../errors/index.ts';
import { canonicalJson, sha256 } from '../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, StreamPartV1 } from '../spec/index.ts';

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
export interface CacheableRequest {
  tenant: string;
  principal: string;
  /** The model as the client named it, resolved (a route's or a concrete model's name). */
  model: string;
  options: GenerateOptionsV1;
}

export interface CachedAnswer {
  result: GenerateResultV1;
  /** The run whose model call produced it. */
  runId: string;
  storedAt: number;
}

interface Entry {
  text: string;
  bytes: number;
  runId: string;
  storedAt: number;
  expiresAt: number;
}

const defaultMaxBytes = 64 * 1024 * 1024;
const defaultMaxEntryBytes = 1024 * 1024;

/**
 * The gateway's response cache: off unless the config's `gateway.cache` names models. An answer is
 * kept under the SHA-256 of its tenant, principal, model and every option that shapes the answer
 * (messages, tools, tool choice, response format, token limit, sampling, stop sequences, seed), so
 * one tenant or principal never reads another's, and a request differing in any of them is a miss.
 * Entries live in this process's memory, least recently used first out past `maxBytes`, each for
 * `ttlMs`; a gateway's processes do not share them (a miss costs one model call, never a wrong answer).
 * Each entry is the answer's JSON text, parsed afresh on every hit, so no caller can change another's.
 */
export class ResponseCache {
  readonly #models: ReadonlySet<string>;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  readonly #now: () => number;
  /** In use order, least recent first (a Map keeps insertion order; a hit is moved to the end). */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(settings: ResponseCacheSettings) {
    if (settings.models.length === 0) throw new KeelError('config-invalid', 'gateway.cache.models names no model: name the routes or provider:model names whose answers are cached');
    this.#models = new Set(settings.models);
    this.#ttlMs = settings.ttlMs;
    this.#maxBytes = settings.maxBytes ?? defaultMaxBytes;
    this.#maxEntryBytes = Math.min(settings.maxEntryBytes ?? defaultMaxEntryBytes, this.#maxBytes);
    this.#now = settings.now ?? Date.now;
  }

  /** The models whose answers are cached, as configured. */
  get models(): readonly string[] {
    return [...this.#models];
  }

  /** Memory the kept answers take, in bytes of their JSON text. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of a request to a cached model; undefined for a model whose answers are not cached. */
  keyOf(request: CacheableRequest): string | undefined {
    if (!this.#models.has(request.model)) return undefined;
    const { messages, tools, toolChoice, responseFormat, maxOutputTokens, temperature, topP, stopSequences, seed } = request.options;
    const shaping = { messages, tools, toolChoice, responseFormat, maxOutputTokens, temperature, topP, stopSequences, seed };
    // Options left out are left out of the key, not written as null: the two are the same request.
    const given = Object.fromEntries(Object.entries(shaping).filter(([, value]) => value !== undefined));
    return sha256(canonicalJson({ tenant: request.tenant, principal: request.principal, model: request.model, ...given }));
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(key, entry);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { result: JSON.parse(entry.text) as GenerateResultV1, runId: entry.runId, storedAt: entry.storedAt };
  }

  /** Keeps an answer; one larger than `maxEntryBytes` is not kept. Returns whether it was. */
  put(key: string, result: GenerateResultV1, runId: string): boolean {
    // What the call cost is its run's; a hit costs nothing.
    const { cost: _cost, ...answer } = result;
    const text = JSON.stringify(answer);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#maxEntryBytes) return false;
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    const storedAt = this.#now();
    this.#entries.set(key, { text, bytes, runId, storedAt, expiresAt: storedAt + this.#ttlMs });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest, entry);
    }
    return true;
  }

  #remove(key: string, entry: Entry): void {
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
