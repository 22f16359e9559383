import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { GrantRule, GrantScope } from './grants.ts';
import { computeGrants, isGranted } from './grants.ts';

/** The refund agent for one order may read that order and refund it: nothing else. */
const supportRefund: GrantRule = {
  task: 'support-refund',
  grants: (input) => {
    const orderId = typeof input === 'object' && input !== null && !Array.isArray(input) ? input['orderId'] : undefined;
    if (typeof orderId !== 'string') return [];
    const resource = { type: 'Order', id: orderId };
    return [
      { action: 'read', resource },
      { action: 'issue-refund', resource },
      { action: 'read', resource },
    ];
  },
};

function scope(task: string, input: GrantScope['input']): GrantScope {
  return { task, principal: { type: 'User', id: 'maya' }, tenant: 'acme', input };
}

describe('task-scoped grants', () => {
  test('are computed from the task input, deduplicated and in a stable order', () => {
    const grants = computeGrants([supportRefund], scope('support-refund', { orderId: '42', message: 'refund please' }));
    assert.deepEqual(grants, [
      { action: 'issue-refund', resource: { type: 'Order', id: '42' } },
      { action: 'read', resource: { type: 'Order', id: '42' } },
    ]);
  });

  test('name single resources: order 42 is granted, order 43 is not', () => {
    const grants = computeGrants([supportRefund], scope('support-refund', { orderId: '42' }));
    assert.equal(isGranted(grants, 'read', { type: 'Order', id: '42' }), true);
    assert.equal(isGranted(grants, 'read', { type: 'Order', id: '43' }), false);
    assert.equal(isGranted(grants, 'send-email', { type: 'Order', id: '42' }), false);
    assert.equal(isGranted(grants, 'read', { type: 'Document', id: '42' }), false);
  });

  test('a task without a rule, or an input without what the rule needs, is granted nothing', () => {
    assert.deepEqual(computeGrants([supportRefund], scope('newsletter', { orderId: '42' })), []);
    assert.deepEqual(computeGrants([supportRefund], scope('support-refund', { message: 'hi' })), []);
  });

  test('a rule cannot grant a whole table or an unnamed resource', () => {
    const greedy: GrantRule = { task: 'greedy', grants: () => [{ action: 'read', resource: { type: 'Order', id: '*' } }] };
    assert.throws(() => computeGrants([greedy], scope('greedy', null)), (error: unknown) => error instanceof KeelError && /names every Order/.test(error.message));
    const vague: GrantRule = { task: 'vague', grants: () => [{ action: 'read', resource: { type: 'Order', id: '' } }] };
    assert.throws(() => computeGrants([vague], scope('vague', null)), /does not name a resource/);
  });

  test('two rules for one task are a configuration error', () => {
    assert.throws(() => computeGrants([supportRefund, supportRefund], scope('support-refund', {})), /more than one rule/);
  });
});
