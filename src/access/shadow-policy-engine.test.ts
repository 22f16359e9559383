import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { CedarPolicyEngine } from './cedar-policy-engine.ts';
import type { PolicyRequest } from './policy-request.ts';
import type { PolicySources } from './policy-sources.ts';
import { readPolicySources } from './policy-sources.ts';
import type { ShadowDecision } from './shadow-policy-engine.ts';
import { ShadowPolicyEngine } from './shadow-policy-engine.ts';
import { order, readOrder, refund, starterPolicyDirectory } from './testing/support-requests.ts';

/** The candidate tightens refunds: anything above 100.00 USD is now forbidden outright. */
const refundCap = '@id("refund-cap")\n@reason("refunds above 100.00 USD are handled by a person")\nforbid (principal, action == Action::"issue-refund", resource)\nwhen { context.amountCents > 10000 };\n';

describe('shadow mode', () => {
  let sources: PolicySources;
  let enforcing: CedarPolicyEngine;
  let candidate: CedarPolicyEngine;
  before(async () => {
    sources = await readPolicySources(starterPolicyDirectory);
    enforcing = CedarPolicyEngine.fromSources(sources);
    candidate = CedarPolicyEngine.fromSources({ ...sources, policies: [...sources.policies, { path: 'policies/refund-cap.cedar', text: refundCap }] });
  });

  test('enforces the current set and reports what the candidate would have decided', () => {
    const reported: { decision: ShadowDecision; request: PolicyRequest }[] = [];
    const engine = new ShadowPolicyEngine({ enforcing, candidate, onShadowDecision: (decision, request) => reported.push({ decision, request }) });
    const request = refund(order('42'), 20_000);

    const decision = engine.decide(request);

    assert.equal(decision.effect, 'allow', 'the enforcing set decides');
    assert.equal(decision.policySetVersion, enforcing.policySetVersion);
    assert.equal(reported.length, 1);
    const [{ decision: pair, request: seen }] = reported as [(typeof reported)[number]];
    assert.equal(seen, request);
    assert.equal(pair.enforced, decision);
    assert.equal(pair.agrees, false);
    assert.deepEqual(pair.shadow, {
      effect: 'deny',
      policyIds: ['refund-cap'],
      reason: 'forbidden by refund-cap (refunds above 100.00 USD are handled by a person)',
      engine: 'cedar',
      policySetVersion: candidate.policySetVersion,
    });
    assert.notEqual(candidate.policySetVersion, enforcing.policySetVersion);
  });

  test('agreement is on the effect', () => {
    const engine = new ShadowPolicyEngine({ enforcing, candidate });
    assert.equal(engine.decideWithShadow(readOrder(order('42'))).agrees, true);
    assert.equal(engine.decideWithShadow(refund(order('42'), 5_000)).agrees, true);
    assert.equal(engine.policySetVersion, enforcing.policySetVersion);
    assert.equal(engine.candidatePolicySetVersion, candidate.policySetVersion);
  });

  test('a candidate that throws cannot change the enforced decision', () => {
    const broken = { policySetVersion: 'broken', decide: () => { throw new Error('boom'); } };
    const engine = new ShadowPolicyEngine({ enforcing, candidate: broken });
    const result = engine.decideWithShadow(readOrder(order('42')));
    assert.equal(result.enforced.effect, 'allow');
    assert.equal(result.shadow.effect, 'deny');
    assert.equal(result.shadow.reason, 'the candidate policy set failed: boom');
    assert.equal(result.agrees, false);
  });
});
