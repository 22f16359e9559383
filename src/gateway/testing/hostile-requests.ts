/**
 * A seeded generator of malformed and hostile requests for the gateway's POST routes, for its fuzz
 * test: the same seed gives the same requests. Every request it makes is one the gateway must
 * refuse (never a valid call), so the test can hold every answer to a 4xx.
 */

export type FuzzRoute = '/v1/chat/completions' | '/v1/responses' | '/v1/embeddings' | '/v1/messages' | '/v1/messages/count_tokens';
export const fuzzRoutes: readonly FuzzRoute[] = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/messages', '/v1/messages/count_tokens'];

export interface HostileRequest {
  route: FuzzRoute;
  /** What was done to it, for a failure's message. */
  kind: string;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

/** A valid body per route, which each mutation then breaks. */
function validBody(route: FuzzRoute): Record<string, unknown> {
  const messages = [{ role: 'user', content: 'hi' }];
  switch (route) {
    case '/v1/chat/completions':
      return { model: 'sim:default', messages };
    case '/v1/responses':
      return { model: 'sim:default', input: 'hi' };
    case '/v1/embeddings':
      return { model: 'sim:default', input: ['hi', 'there'] };
    case '/v1/messages':
      return { model: 'sim:default', max_tokens: 16, messages };
    case '/v1/messages/count_tokens':
      return { model: 'sim:default', messages };
  }
}

/** Values of the wrong kind for a field, none of which the field accepts. */
const wrongValues: Record<string, unknown[]> = {
  model: [42, null, [], {}, true, '', ['sim:default'], { name: 'sim:default' }],
  messages: [42, null, {}, true, [], 'hi', [42], [null], [{}], [{ role: 'robot', content: 'hi' }], [{ role: 'user', content: 42 }], [{ role: 'user' }], [{ role: 'user', content: [{ type: 'image', x: 1 }] }]],
  input: [42, null, {}, true, [], [42], [null], [{}], [{ type: 'web_search_call' }], [{ role: 'robot', content: 'hi' }], [{ type: 'function_call_output', call_id: 'nope', output: 'x' }]],
  max_tokens: ['16', -1, 0, 1.5, [], {}, true, 2 ** 60],
  temperature: ['hot', -1, 3, [], {}, true],
  stream: ['yes', 1, {}, [], 'true'],
  tools: ['x', 42, {}, [42], [{}], [null], [{ type: 'function' }], [{ name: 'has spaces', input_schema: {} }]],
  tool_choice: [42, 'sometimes', { type: 'function' }, [], { type: 'tool' }],
  dimensions: ['8', -1, 0, 1.5, [], {}, true, 100_000],
  encoding_format: [42, 'binary', null, [], {}, 'FLOAT'],
};

const routeFields: Record<FuzzRoute, string[]> = {
  '/v1/chat/completions': ['model', 'messages', 'max_tokens', 'temperature', 'stream', 'tools', 'tool_choice'],
  '/v1/responses': ['model', 'input', 'temperature', 'stream', 'tools', 'tool_choice'],
  '/v1/embeddings': ['model', 'input', 'dimensions', 'encoding_format'],
  '/v1/messages': ['model', 'messages', 'max_tokens', 'temperature', 'stream', 'tools', 'tool_choice'],
  '/v1/messages/count_tokens': ['model', 'messages', 'tools', 'tool_choice'],
};
const requiredFields: Record<FuzzRoute, string[]> = {
  '/v1/chat/completions': ['model', 'messages'],
  '/v1/responses': ['model', 'input'],
  '/v1/embeddings': ['model', 'input'],
  '/v1/messages': ['model', 'max_tokens', 'messages'],
  '/v1/messages/count_tokens': ['model', 'messages'],
};

const unknownKeys = ['__proto__', 'constructor', 'prototype', '', ' ', 'modell', 'Model', 'messages ', 'x'.repeat(300), '\u0000', '😀', 'toString', 'hasOwnProperty'];
const foreignContentTypes = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/json; charset=utf-16'];

/** mulberry32: small, fast and seeded; the fuzz test needs repeatability, not quality. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function* hostileRequests(count: number, seed: number, options: { maxBodyBytes: number }): Generator<HostileRequest> {
  const random = seeded(seed);
  const integer = (below: number) => Math.floor(random() * below);
  const pick = <Item>(items: readonly Item[]): Item => items[integer(items.length)] as Item;
  const json = { 'content-type': 'application/json' };
  const mutations: ((route: FuzzRoute) => Omit<HostileRequest, 'route' | 'method'> & { method?: string })[] = [
    // Any proper prefix of a JSON object is not JSON (the empty one is no body).
    (route) => {
      const text = JSON.stringify({ ...validBody(route), padding: 'x'.repeat(integer(200)) });
      return { kind: 'truncated', headers: json, body: text.slice(0, integer(text.length)) };
    },
    () => {
      const bytes = new Uint8Array(integer(2_000));
      for (let index = 0; index < bytes.length; index += 1) bytes[index] = integer(256);
      return { kind: 'random bytes', headers: pick([json, {}]), body: bytes };
    },
    (route) => {
      const field = pick(routeFields[route]);
      const value = pick(wrongValues[field] ?? [null]);
      return { kind: `wrong type of ${field}`, headers: json, body: JSON.stringify({ ...validBody(route), [field]: value }) };
    },
    (route) => {
      const depth = 65 + integer(pick([100, 5_000, 100_000]));
      const open = pick(['[', '{"a":']);
      const close = open === '[' ? ']' : '}';
      const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const field = pick(['metadata', 'tools', 'messages', 'input', 'deep']);
      const text = JSON.stringify(validBody(route)).replace(/}$/, `,"${field}":${nested}}`);
      return { kind: `nested ${depth} deep`, headers: json, body: text };
    },
    (route) => {
      const size = pick([10_000, 100_000, options.maxBodyBytes - 100, options.maxBodyBytes + 1, options.maxBodyBytes * 2]);
      const where = pick(['unknown', 'model']);
      const huge = pick(['x', 'é', '"', '\\', '\u0000']).repeat(Math.max(1, Math.floor(size / 2)));
      const body = where === 'unknown' ? { ...validBody(route), huge } : { ...validBody(route), model: huge };
      return { kind: `huge string (${where})`, headers: json, body: JSON.stringify(body) };
    },
    (route) => {
      const keys = Array.from({ length: 2_000 }, (_, index) => `"k${index}":${index}`).join(',');
      return { kind: 'thousands of unknown fields', headers: json, body: JSON.stringify(validBody(route)).replace(/}$/, `,${keys}}`) };
    },
    (route) => {
      const key = pick(unknownKeys);
      // Written as text: an object literal would make `__proto__` a prototype, not a key.
      const text = JSON.stringify(validBody(route)).replace(/}$/, `,${JSON.stringify(key)}:${JSON.stringify(pick([1, 'x', null, {}, [], { polluted: true }]))}}`);
      return { kind: `unknown field ${JSON.stringify(key.slice(0, 20))}`, headers: json, body: text };
    },
    () => {
      const type = pick(foreignContentTypes);
      const body = pick([`model=sim%3Adefault&messages=hi&input=hi`, `--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nsim:default\r\n--x--`, '<request><model>sim:default</model></request>', 'model: sim:default']);
      return { kind: `content-type ${type}`, headers: type === '' ? {} : { 'content-type': type }, body };
    },
    (route) => {
      const body = validBody(route);
      delete body[pick(requiredFields[route])];
      return { kind: 'missing field', headers: json, body: JSON.stringify(body) };
    },
    (route) => {
      // Bytes that are not UTF-8, and control characters, where only a model's name may be.
      const bytes = new TextEncoder().encode(JSON.stringify({ ...validBody(route), model: 'sim:default\u0001' }));
      const broken = new Uint8Array([...bytes.slice(0, 12), 0xff, 0xfe, 0xc3, ...bytes.slice(12)]);
      return { kind: 'invalid utf-8 in model', headers: json, body: broken };
    },
    (route) => {
      const field = route === '/v1/messages' ? 'max_tokens' : 'temperature';
      const text = JSON.stringify(validBody(route)).replace(/}$/, `,"${field}":${pick(['1e400', '-1e400', '0x10', 'NaN', 'Infinity', '01', '1.'])}}`);
      return { kind: `number ${field}`, headers: json, body: text };
    },
    // The last of duplicate keys wins, and here it is wrong.
    (route) => ({ kind: 'duplicate key', headers: json, body: JSON.stringify(validBody(route)).replace(/^{/, '{"model":"sim:default",').replace(/}$/, ',"model":42}') }),
    () => ({ kind: 'not an object', headers: json, body: pick(['[]', '[{"model":"sim:default"}]', '"sim:default"', '42', 'null', 'true', '  ', '\ufeff{}', '{}']) }),
    () => ({ kind: 'wrong method', method: pick(['GET', 'PUT', 'DELETE', 'PATCH']), headers: json, body: undefined }),
  ];
  for (let index = 0; index < count; index += 1) {
    const route = pick(fuzzRoutes);
    const made = pick(mutations)(route);
    const method = made.method ?? 'POST';
    yield { route, kind: made.kind, method, headers: made.headers, body: method === 'GET' || method === 'HEAD' ? undefined : made.body };
  }
}
