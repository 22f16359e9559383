/**
 * A map that forgets its oldest entries past a size limit. Used only for memoising pure functions
 * of a text (token counts, hashes), so what it forgets changes speed, never results.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    this.#entries.set(key, value);
    if (this.#entries.size <= this.#limit) return;
    // Forget the oldest tenth at once, so a full cache does not pay for an eviction on every insert.
    let excess = Math.ceil(this.#limit / 10);
    for (const oldest of this.#entries.keys()) {
      this.#entries.delete(oldest);
      excess -= 1;
      if (excess === 0) break;
    }
  }
}
