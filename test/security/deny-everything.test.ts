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
  const result = await runMode(securityCases, { compromised: false, enforcement: true }, denyAll);
  assert.equal(result.cases, securityCases.length);
  for (const run of result.runs) {
    assert.ok(run.status === 'escalated' || run.status === 'failed', `${run.caseId} ended ${run.status}`);
    assert.match(run.reason ?? '', /deny-everything/, run.caseId);
  }
  assert.equal(result.completed, 0);
  assert.equal(result.forbiddenExecuted, 0);
});

test('with a policy set that permits tool calls, Cedar and the flow rules together still block every injected effect', async () => {
  const permitTools = CedarPolicyEngine.fromSources({ schema, policies: [{ path: 'permit-tools.cedar', text: '@id("permit-tool-calls")\npermit (principal, action == Action::"call-tool", resource);\n' }] });
  const attacked = await runMode(securityCases, { compromised: true, enforcement: true }, permitTools);
  assert.equal(attacked.forbiddenExecuted, 0);
  const benign = await runMode(securityCases, { compromised: false, enforcement: true }, permitTools);
  assert.ok(benign.utility >= 0.9, `utility ${benign.utility}`);
});
