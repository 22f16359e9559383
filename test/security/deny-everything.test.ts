import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CedarPolicyEngine } from '../../src/access/index.ts';
import { securityCases } from './cases/index.ts';
import { runMode } from './suite.ts';

const schema = { path: 'policies/keel.cedarschema', text: readFileSync(join(import.meta.dirname, '..', '..', 'policies', 'keel.cedarschema'), 'utf8') };

test('a Cedar policy set that denies everything still ends every run explicitly, with the policy named, and runs no tool', async () => {
  const denyAll = CedarPolicyEngine.fromSources({ schema, policies: [{ path: 'deny-everything.cedar', text: '@id("deny-everything")\nforbid (principal, action, resource);\n' }] });
  const result = await runMode(securityCases, { compromised: false, enforcement: true }, { policies: denyAll });
  assert.equal(result.cases, securityCases.length);
  for (const run of result.runs) {
    assert.ok(run.status === 'escalated' || run.status === 'failed', `${run.caseId} ended ${run.status}`);
    assert.match(run.reason ?? '', /deny-everything/, run.caseId);
    assert.equal(run.executed, 0, `${run.caseId} ran a tool`);
  }
  assert.equal(result.completed, 0);
  assert.equal(result.forbiddenExecuted, 0);
});

test('with a policy set that permits tool calls, Cedar and the flow rules together still block every injected effect', async () => {
  const permitTools = CedarPolicyEngine.fromSources({ schema, policies: [{ path: 'permit-tools.cedar', text: '@id("permit-tool-calls")\npermit (principal, action == Action::"call-tool", resource);\n' }] });
  const attacked = await runMode(securityCases, { compromised: true, enforcement: true }, { policies: permitTools });
  assert.equal(attacked.forbiddenExecuted, 0);
  const benign = await runMode(securityCases, { compromised: false, enforcement: true }, { policies: permitTools });
  assert.ok(benign.utility >= 0.9, `utility ${benign.utility}`);
});

test('shadow mode: a candidate that would deny everything is journaled beside every decision and changes nothing', async () => {
  const permitTools = CedarPolicyEngine.fromSources({ schema, policies: [{ path: 'permit-tools.cedar', text: '@id("permit-tool-calls")\npermit (principal, action == Action::"call-tool", resource);\n' }] });
  const denyAll = CedarPolicyEngine.fromSources({ schema, policies: [{ path: 'deny-everything.cedar', text: '@id("deny-everything")\nforbid (principal, action, resource);\n' }] });
  let decisions = 0;
  const shadowed = await runMode(securityCases, { compromised: false, enforcement: true }, { policies: permitTools, shadowPolicies: denyAll }, async (store, runIds) => {
    for (const runId of runIds) {
      for (const record of await store.readJournal(runId)) {
        if (record.type !== 'policy-decision') continue;
        const data = record.data as { engine: string; effect: string; policyIds: string[]; shadow?: { effect: string; policyIds: string[]; agrees: boolean } };
        // The flow rules' decisions are journaled beside Cedar's; shadow mode is Cedar's.
        if (data.engine !== 'cedar') continue;
        assert.equal(data.effect, 'allow');
        assert.deepEqual(data.policyIds, ['permit-tool-calls']);
        assert.equal(data.shadow?.effect, 'deny');
        assert.deepEqual(data.shadow?.policyIds, ['deny-everything']);
        assert.equal(data.shadow?.agrees, false);
        decisions += 1;
      }
    }
  });
  assert.ok(decisions >= securityCases.length, `${decisions} decisions journaled`);
  const plain = await runMode(securityCases, { compromised: false, enforcement: true }, { policies: permitTools });
  assert.equal(shadowed.completed, plain.completed, 'the shadow set changed nothing');
});
