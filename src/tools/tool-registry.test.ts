import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import { defineTool, ToolRegistry } from './index.ts';
import type { ToolV1 } from './index.ts';
import { issueRefund, lookupOrder, sendEmail } from './testing/example-tools.ts';

function isConfigInvalid(pattern: RegExp) {
  return (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && pattern.test(error.message);
}

test('a call without a version gets the highest registered one; a pinned version gets that one', () => {
  const registry = new ToolRegistry();
  for (const version of ['1.9.0', '1.10.0', '1.2.0']) registry.register({ ...lookupOrder, version });
  assert.deepEqual(registry.versions('lookup_order'), ['1.2.0', '1.9.0', '1.10.0']);
  assert.equal(registry.lookup('lookup_order')?.version, '1.10.0');
  assert.equal(registry.lookup('lookup_order', '1.2.0')?.version, '1.2.0');
  assert.equal(registry.lookup('lookup_order', '3'), undefined);
  assert.equal(registry.lookup('nothing'), undefined);
});

test('definitions are sorted by name and carry JSON Schema of the input the model sends', () => {
  const registry = new ToolRegistry();
  for (const tool of [sendEmail, lookupOrder, issueRefund]) registry.register(tool);
  const definitions = registry.definitionsFor(['lookup_order', 'issue_refund', 'lookup_order']);
  assert.deepEqual(definitions.map((definition) => definition.name), ['issue_refund', 'lookup_order']);
  assert.deepEqual(definitions[1], {
    name: 'lookup_order',
    description: 'Look up an order by id.',
    inputSchema: { type: 'object', properties: { orderId: { type: 'string', pattern: '^A-\\d+$' } }, required: ['orderId'], additionalProperties: false },
  });
  const [, lookup] = definitions;
  if (lookup !== undefined) lookup.description = 'changed by a caller';
  assert.equal(registry.definitionsFor(['lookup_order'])[0]?.description, 'Look up an order by id.', 'callers get copies');
  assert.throws(() => registry.definitionsFor(['lookup_order', 'ghost']), isConfigInvalid(/ghost is allowed but not registered/));
});

test('a run sees the tools whose every scope it was granted', () => {
  const registry = new ToolRegistry();
  for (const tool of [sendEmail, lookupOrder, issueRefund]) registry.register(tool);
  assert.deepEqual(registry.namesGrantedBy(['orders:read']), ['lookup_order']);
  assert.deepEqual(registry.namesGrantedBy(['orders:read', 'payments:refund', 'email:send']), ['issue_refund', 'lookup_order', 'send_email']);
});

test('declarations that cannot be enforced are refused at registration', () => {
  const registry = new ToolRegistry();
  registry.register(lookupOrder);
  assert.throws(() => registry.register(lookupOrder), isConfigInvalid(/registered twice/));
  const broken: [Partial<ToolV1<{ orderId: string }, unknown>>, RegExp][] = [
    [{ name: 'look up' }, /name must be/],
    [{ owner: ' ' }, /owner is empty/],
    [{ timeoutMs: 0 }, /timeoutMs must be a positive number/],
    [{ sideEffect: 'sometimes' as 'read' }, /side effect 'sometimes'/],
    [{ rateLimit: { perTenant: { limit: 0.5, windowMs: 1_000 } } }, /rateLimit\.perTenant/],
    [{ constraints: [{ id: 'a', check: () => true }, { id: 'a', check: () => true }] }, /constraint id 'a' is used twice/],
  ];
  for (const [change, message] of broken) assert.throws(() => new ToolRegistry().register({ ...lookupOrder, ...change }), isConfigInvalid(message));
  const dated = defineTool({
    name: 'dated',
    version: '1',
    owner: 'team-orders',
    description: 'Takes a Date, which JSON cannot carry.',
    inputSchema: z.object({ at: z.date() }),
    outputSchema: z.object({}),
    scopes: [],
    sideEffect: 'read',
    timeoutMs: 1_000,
    execute: () => ({}),
  });
  assert.throws(() => new ToolRegistry().register(dated), isConfigInvalid(/no JSON Schema form/));
});

test('a JSON Schema that cannot be enforced is refused at registration, on either side', () => {
  const asJson = { ...lookupOrder, inputSchema: { type: 'object', properties: { orderId: { type: 'string' } } }, outputSchema: { type: 'object' } };
  new ToolRegistry().register(asJson);
  assert.throws(() => new ToolRegistry().register({ ...asJson, inputSchema: { type: 'object', properties: { orderId: { type: 'banana' } } } }), isConfigInvalid(/lookup_order: its input JSON Schema cannot be enforced \(Unsupported type: banana\)/));
  assert.throws(() => new ToolRegistry().register({ ...asJson, outputSchema: { $ref: '#/definitions/missing' } }), isConfigInvalid(/its output JSON Schema cannot be enforced/));
});
