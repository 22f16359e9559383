const notJson = Symbol('not JSON data');

/**
 * A copy of `value` when it is JSON data built of plain objects, arrays and JSON primitives, at
 * most `depth` levels of objects and arrays deep; `undefined` for anything else (class instances,
 * `toJSON`, non-finite numbers, functions, bigints, symbols, deeper or cyclic data), which must be
 * serialised at once. Such a copy is a complete snapshot, strings shared: the caller can go on
 * mutating its objects, and its canonical text (the same as the original's) can wait. Copying is
 * a few times cheaper than serialising: on a model call's path it stands in for the canonical text
 * of the step's start (the request) and end (the answer), which are written at the batch's flush.
 *
 * The copy is also what that text parses back to, but for the order of its keys: a field whose
 * value is undefined is left out, an undefined or absent array item is null, and -0 is 0. So the
 * sealed event can keep the copy as its data instead of parsing its text again.
 */
export function jsonCopy(value: object, depth: number): object | undefined {
  const copy = copyOf(value, depth);
  return copy === notJson ? undefined : (copy as object);
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
      for (const key of Object.keys(value)) {
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
