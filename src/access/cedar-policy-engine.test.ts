import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { CedarPolicyEngine } from './cedar-policy-engine.ts';
import { readPolicySources } from './policy-sources.ts';
import { maya, order, order42Grants, readOrder, refund, starterPolicyDirectory, tenant } from './testing/support-requests.ts';

describe('the starter policy set', () => {
  let engine: CedarPolicyEngine;
  before(async () => {
    engine = await CedarPolicyEngine.load(starterPolicyDirectory);
  });

  test('loads, validates against the schema and names policies by @id', async () => {
    assert.deepEqual(engine.policyIds, ['customer-reads-own-order', 'customer-reads-refund-policies', 'customer-refunds-own-order', 'key-models', 'refund-over-limit', 'tenant-isolation']);
    assert.match(engine.policySetVersion, /^[0-9a-f]{64}$/);
    const again = CedarPolicyEngine.fromSources(await readPolicySources(starterPolicyDirectory));
    assert.equal(again.policySetVersion, engine.policySetVersion, 'the version depends on the files only');
  });

  test('the version changes when any file changes, the schema included', async () => {
    const sources = await readPolicySources(starterPolicyDirectory);
    const edited = CedarPolicyEngine.fromSources({ ...sources, schema: { ...sources.schema, text: `${sources.schema.text}\n// edited\n` } });
    assert.notEqual(edited.policySetVersion, engine.policySetVersion);
  });

  test('allows reading the granted order, naming the policy and its reason', () => {
    const decision = engine.decide(readOrder(order('42')));
    assert.deepEqual(decision, {
      effect: 'allow',
      policyIds: ['customer-reads-own-order'],
      reason: "permitted by customer-reads-own-order (a customer's agent may read the customer's own order when the run was granted it)",
      engine: 'cedar',
      policySetVersion: engine.policySetVersion,
    });
  });

  test('an order the run was not granted is not applicable, even the customer’s own', () => {
    const decision = engine.decide(readOrder(order('43')));
    assert.equal(decision.effect, 'not-applicable');
    assert.deepEqual(decision.policyIds, []);
    assert.equal(decision.reason, 'no policy permits read on Order::"43" for User::"maya"');
  });

  test('a granted order of another customer is not applicable', () => {
    assert.equal(engine.decide(readOrder(order('42', { customer: 'tom' }))).effect, 'not-applicable');
  });

  test('reads the refund policy documents without a grant, and no other document', () => {
    const document = (kind: string) => ({ type: 'Document', id: `refunds-${kind}`, attributes: { tenant, kind, labels: [] } });
    const allowed = engine.decide({ principal: maya, action: 'read', resource: document('refund-policy'), context: { task: 'support-refund', tenant } });
    assert.equal(allowed.effect, 'allow');
    assert.deepEqual(allowed.policyIds, ['customer-reads-refund-policies']);
    assert.equal(engine.decide({ principal: maya, action: 'read', resource: document('pricing'), context: { task: 'support-refund', tenant } }).effect, 'not-applicable');
  });

  test('a resource of another tenant is forbidden, whatever the grants', () => {
    const decision = engine.decide(readOrder(order('42', { tenant: 'globex' })));
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(decision.policyIds, ['tenant-isolation']);
    assert.match(decision.reason, /^forbidden by tenant-isolation \(a run acts only within its own tenant/);
  });

  test('a principal of another tenant is forbidden', () => {
    const outsider = { ...maya, attributes: { tenant: 'globex' } };
    const decision = engine.decide({ ...readOrder(order('42')), principal: outsider });
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(decision.policyIds, ['tenant-isolation']);
  });

  test('refunds within the grants up to 500.00 USD are allowed', () => {
    const decision = engine.decide(refund(order('42'), 50_000));
    assert.equal(decision.effect, 'allow');
    assert.deepEqual(decision.policyIds, ['customer-refunds-own-order']);
  });

  test('a repeated request gets the decision it got before, and one differing only in its context gets its own', () => {
    const first = engine.decide(refund(order('42'), 50_000));
    // A caller changing what it was given cannot change what the next caller is told.
    first.policyIds.push('tampered');
    assert.deepEqual(engine.decide(refund(order('42'), 50_000)).policyIds, ['customer-refunds-own-order']);
    assert.equal(engine.decide(refund(order('42'), 50_001)).effect, 'require-approval');
    assert.equal(engine.decide(refund(order('42'), 50_000)).effect, 'allow');
  });

  test('refunds above 500.00 USD require approval, naming the gate and the permit behind it', () => {
    const decision = engine.decide(refund(order('42'), 50_001));
    assert.equal(decision.effect, 'require-approval');
    assert.deepEqual(decision.policyIds, ['refund-over-limit', 'customer-refunds-own-order']);
    assert.equal(
      decision.reason,
      "approval required by refund-over-limit (refunds above 500.00 USD need a support lead's approval); once approved, permitted by customer-refunds-own-order (a customer's agent may refund the customer's own order, up to its total, when the run was granted it)",
    );
  });

  test('approval cannot help a refund nothing would permit: it is not applicable', () => {
    assert.equal(engine.decide(refund(order('43'), 60_000)).effect, 'not-applicable', 'not granted');
    assert.equal(engine.decide(refund(order('42', { totalCents: 55_000 }), 60_000)).effect, 'not-applicable', 'more than the order total');
  });

  test('a hard forbid beats an approval gate: a cross-tenant refund above the limit is denied', () => {
    const decision = engine.decide(refund(order('42', { tenant: 'globex' }), 60_000));
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(decision.policyIds, ['refund-over-limit', 'tenant-isolation']);
    assert.match(decision.reason, /^forbidden by tenant-isolation /);
  });

  test('an action no policy speaks of is not applicable', () => {
    const decision = engine.decide({ principal: maya, action: 'send-email', resource: { type: 'User', id: 'tom', attributes: { tenant } }, context: { task: 'support-refund', tenant }, grants: order42Grants });
    assert.equal(decision.effect, 'not-applicable');
  });

  test('a request that does not fit the schema is denied with the reason, not thrown', () => {
    const missingAmount = { ...refund(order('42'), 100), context: { task: 'support-refund', tenant } };
    const decision = engine.decide(missingAmount);
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(decision.policyIds, []);
    assert.match(decision.reason, /^the request could not be evaluated, so it is denied: .*amountCents/);
    assert.equal(engine.decide({ ...readOrder(order('42')), action: 'drop-tables' }).effect, 'deny', 'unknown action');
    const wrongAttribute = { ...order('42'), attributes: { ...order('42').attributes, totalCents: 'lots' } };
    assert.match(engine.decide(readOrder(wrongAttribute)).reason, /totalCents/);
  });
});

describe('a deny-everything policy set', () => {
  test('denies every request with its policy id, so the caller can end the run explicitly', async () => {
    const schema = { path: 'policies/keel.cedarschema', text: await readFile(join(starterPolicyDirectory, 'keel.cedarschema'), 'utf8') };
    const engine = CedarPolicyEngine.fromSources({
      schema,
      policies: [{ path: 'policies/lockdown.cedar', text: '@id("lockdown")\n@reason("incident lockdown: nothing runs")\nforbid (principal, action, resource);\n' }],
    });
    for (const request of [readOrder(order('42')), refund(order('42'), 100), refund(order('42'), 60_000)]) {
      const decision = engine.decide(request);
      assert.equal(decision.effect, 'deny');
      assert.deepEqual(decision.policyIds, ['lockdown']);
      assert.equal(decision.reason, 'forbidden by lockdown (incident lockdown: nothing runs)');
    }
  });
});
