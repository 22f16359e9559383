import type { JsonValue } from '../spec/index.ts';

export type SchemaNode = { [key: string]: JsonValue };

/** Deep enough for any output schema; stops a recursive `$ref` from looping. */
const maxDepth = 32;

/**
 * The JSON Schema node that describes the value at `segments`, following `properties`, `items`,
 * `prefixItems`, local `$ref`s and the branches of `anyOf`/`oneOf`/`allOf` (the first branch that
 * leads somewhere). Used to word violations (what a field may be, which fields an object names)
 * and to check a contract's confidence field at definition; `undefined` when the schema does not
 * say, in which case the caller words things without it.
 */
export function schemaNodeAt(root: JsonValue, segments: readonly PropertyKey[]): SchemaNode | undefined {
  return walk(root, root, segments, 0);
}

function walk(node: JsonValue | undefined, root: JsonValue, segments: readonly PropertyKey[], depth: number): SchemaNode | undefined {
  if (!isNode(node) || depth > maxDepth) return undefined;
  if (typeof node.$ref === 'string') return walk(resolveReference(node.$ref, root), root, segments, depth + 1);
  const [segment, ...rest] = segments;
  if (segment === undefined) return node;
  const child = childOf(node, segment);
  if (child !== undefined) return walk(child, root, rest, depth + 1);
  for (const branches of [node.anyOf, node.oneOf, node.allOf]) {
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const found = walk(branch, root, segments, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function childOf(node: SchemaNode, segment: PropertyKey): JsonValue | undefined {
  if (typeof segment === 'number') {
    const prefix = node.prefixItems;
    if (Array.isArray(prefix) && segment < prefix.length) return prefix[segment];
    return node.items;
  }
  if (typeof segment !== 'string') return undefined;
  const properties = node.properties;
  if (isNode(properties) && Object.hasOwn(properties, segment)) return properties[segment];
  // A record (`additionalProperties: {schema}`) describes every key alike.
  return isNode(node.additionalProperties) ? node.additionalProperties : undefined;
}

/** The field names an object node declares, when it declares any (its own and its branches'). */
export function declaredProperties(node: SchemaNode | undefined, root: JsonValue): string[] | undefined {
  if (node === undefined) return undefined;
  const names = new Set<string>();
  collect(node, root, names, 0);
  return names.size === 0 ? undefined : [...names];
}

function collect(node: JsonValue | undefined, root: JsonValue, names: Set<string>, depth: number): void {
  if (!isNode(node) || depth > maxDepth) return;
  if (typeof node.$ref === 'string') collect(resolveReference(node.$ref, root), root, names, depth + 1);
  if (isNode(node.properties)) for (const name of Object.keys(node.properties)) names.add(name);
  for (const branches of [node.anyOf, node.oneOf, node.allOf]) {
    if (Array.isArray(branches)) for (const branch of branches) collect(branch, root, names, depth + 1);
  }
}

/** The node's `type` as words: `string`, `string or null`. */
export function typeWords(node: SchemaNode | undefined): string | undefined {
  const type = node?.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type) && type.every((item) => typeof item === 'string')) return type.join(' or ');
  return undefined;
}

/** Local references only (`#/$defs/Name`): output schemas are self-contained. */
function resolveReference(reference: string, root: JsonValue): JsonValue | undefined {
  if (!reference.startsWith('#')) return undefined;
  let node: JsonValue | undefined = root;
  for (const segment of reference.slice(1).split('/').filter((part) => part !== '')) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isNode(node) ? node[key] : undefined;
  }
  return node;
}

function isNode(value: JsonValue | undefined): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
