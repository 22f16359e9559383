/**
 * A copy of `value` when it is a plain object of JSON primitives, or of plain objects of them up
 * to `depth` levels down (the shape of a step's detail events: a route or budget decision, an
 * attempt with its usage); `undefined` for anything else (arrays, class instances, `toJSON`,
 * non-finite numbers, functions), which must be serialised at once. Such a copy is a complete
 * snapshot: the caller can go on mutating its objects, and its canonical text can wait.
 */
export function flatCopy(value: object, depth: number): { [key: string]: unknown } | undefined {
  if (Object.getPrototypeOf(value) !== Object.prototype || typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  const copy: { [key: string]: unknown } = {};
  for (const key of Object.keys(value)) {
    const item = (value as { [key: string]: unknown })[key];
    switch (typeof item) {
      case 'string':
      case 'boolean':
      case 'undefined':
        copy[key] = item;
        break;
      case 'number':
        if (!Number.isFinite(item)) return undefined;
        copy[key] = item;
        break;
      case 'object': {
        if (item === null) {
          copy[key] = null;
          break;
        }
        const inner = depth > 0 ? flatCopy(item, depth - 1) : undefined;
        if (inner === undefined) return undefined;
        copy[key] = inner;
        break;
      }
      default:
        return undefined;
    }
  }
  return copy;
}
