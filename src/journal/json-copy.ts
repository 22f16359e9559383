import { canonicalJson } from './hash.ts';

const notJson = Symbol('not JSON data');

/** A copy of JSON data taken as a snapshot (see `jsonSnapshot`). */
export interface JsonSnapshot {
  data: object;
  /** True when `JSON.stringify(data)` is its canonical text: no key is an array index (those V8 keeps first, in numeric order). */
  ordered: boolean;
}

/** Set while a copy is taken when a key may be an array index. */
let indexKey = false;

/**
 * A copy of `value` when it is JSON data built of plain objects, arrays and JSON primitives, at
 * most `depth` levels of objects and arrays deep; `undefined` for anything else (class instances,
 * `toJSON`, non-finite numbers, functions, bigints, symbols, a `__proto__` key, deeper or cyclic
 * data), which must be serialised at once. Such a copy is a complete snapshot, strings shared: the
 * caller can go on mutating its objects, and its canonical text (the same as the original's) can
 * wait. Copying is a few times cheaper than serialising: on a model call's path it stands in for
 * the canonical text of the step's start (the request) and end (the answer), written at the
 * batch's flush.
 *
 * The copy is what that text parses back to: a field whose value is undefined is left out, an
 * undefined or absent array item is null, -0 is 0, and keys are set in canonical order (UTF-16
 * code units). So the sealed event can keep it as its data instead of parsing its text again, and
 * the text is the engine's own `JSON.stringify` of it (`snapshotText`), a few times faster than a
 * canonical serialiser, unless a key may be an array index.
 */
export function jsonSnapshot(value: object, depth: number): JsonSnapshot | undefined {
  // Saved and restored: a getter read while copying could itself take a snapshot.
  const outer = indexKey;
  indexKey = false;
  const copy = copyOf(value, depth);
  const ordered = !indexKey;
  indexKey = outer;
  return copy === notJson ? undefined : { data: copy as object, ordered };
}

/** The snapshot's canonical text (RFC 8785, as `canonicalJson`). */
export function snapshotText(snapshot: JsonSnapshot): string {
  return snapshot.ordered ? JSON.stringify(snapshot.data) : canonicalJson(snapshot.data);
}

function copyOf(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      // -0 === 0: both are written, and read back, as 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : notJson;
    case 'object': {
      if (value === null) return null;
      if (depth === 0 || typeof (value as { toJSON?: unknown }).toJSON === 'function') return notJson;
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype === Array.prototype) {
        const items = value as unknown[];
        const copy: unknown[] = new Array(items.length);
        for (let index = 0; index < items.length; index += 1) {
          const item = copyOf(items[index], depth - 1);
          if (item === notJson) return notJson;
          copy[index] = item === undefined ? null : item;
        }
        return copy;
      }
      if (prototype !== Object.prototype) return notJson;
      const copy: { [key: string]: unknown } = {};
      for (const key of sortedKeys(Object.keys(value))) {
        // Setting it would set the copy's prototype, not a field.
        if (key === '__proto__') return notJson;
        const first = key.charCodeAt(0);
        if (first >= 48 && first <= 57) indexKey = true;
        const item = copyOf((value as { [key: string]: unknown })[key], depth - 1);
        if (item === notJson) return notJson;
        if (item !== undefined) copy[key] = item;
      }
      return copy;
    }
    default:
      return notJson;
  }
}

// Canonical order: by UTF-16 code units, as `<` compares strings. An object has a handful of keys:
// an insertion sort, in place, beats Array.prototype.sort there.
function sortedKeys(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let index = 1; index < keys.length; index += 1) {
    const key = keys[index] as string;
    let before = index - 1;
    if ((keys[before] as string) <= key) continue;
    while (before >= 0 && (keys[before] as string) > key) {
      keys[before + 1] = keys[before] as string;
      before -= 1;
    }
    keys[before + 1] = key;
  }
  return keys;
}
