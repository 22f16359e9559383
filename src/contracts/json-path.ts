/**
 * Where in an output a violation is, written JSONPath-style (`$`, `$.refund.amountCents`,
 * `$.items[0].sku`, `$["odd key"]`): the same spelling in the journal, in errors and in the text
 * fed back to the model, so a path is a stable key a dashboard or an eval can group by.
 */
export type PathSegment = string | number;

export function formatPath(segments: readonly PropertyKey[]): string {
  let text = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/**
 * A field as a contract author names it: dotted, relative to the output (`assessment.confidence`,
 * `items.0.score`); all-digit segments are array indexes. A leading `$.` is accepted and ignored.
 */
export function parseFieldPath(field: string): PathSegment[] {
  const relative = field === '$' ? '' : field.startsWith('$.') ? field.slice(2) : field;
  if (relative === '') return [];
  return relative.split('.').map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** The value at `segments`, telling a missing key apart from a present `null`. */
export function valueAt(root: unknown, segments: readonly PropertyKey[]): { found: true; value: unknown } | { found: false } {
  let node: unknown = root;
  for (const segment of segments) {
    if (typeof node !== 'object' || node === null) return { found: false };
    if (Array.isArray(node)) {
      if (typeof segment !== 'number' || segment < 0 || segment >= node.length) return { found: false };
      node = node[segment];
    } else {
      if (typeof segment === 'symbol' || !Object.hasOwn(node, segment)) return { found: false };
      node = (node as Record<string | number, unknown>)[segment];
    }
  }
  return { found: true, value: node };
}
