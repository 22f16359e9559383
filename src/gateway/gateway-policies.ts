import { join } from 'node:path';
import { CedarPolicyEngine, schemaFileName } from '../access/index.ts';
import { KeelError } from '../errors/index.ts';
import type { RequestIdentity } from './request-identity.ts';
import { modelCallRequest } from './key-policy.ts';

// A request without a key and one with, as the gateway sends them: the schema must accept both.
const samples: RequestIdentity[] = [
  { principal: 'anonymous', tenant: 'default' },
  {
    principal: 'anonymous',
    tenant: 'default',
    key: { keyId: 'key_000000000000', tenant: 'default', principal: 'anonymous', settings: { models: [] }, createdAt: '1970-01-01T00:00:00.000Z', revokedAt: null },
  },
];

/**
 * A deployment's policy set for the gateway: `<directory>/keel.cedarschema` and its `*.cedar` files,
 * validated as `CedarPolicyEngine.load` does, and the schema checked to accept the `call-model`
 * request the gateway sends (policies/keel.cedarschema declares it). A schema that does not would
 * deny every call as "could not be evaluated"; this says so once, at load, naming the schema file.
 */
export async function loadGatewayPolicies(directory: string): Promise<CedarPolicyEngine> {
  const engine = await CedarPolicyEngine.load(directory);
  for (const identity of samples) {
    const problem = engine.requestProblem(modelCallRequest(identity, { name: 'sim:default', route: false }, 'gateway:sim:default'));
    if (problem !== undefined) {
      const shape = identity.key === undefined ? 'without a key' : 'with a key';
      throw new KeelError(
        'policy-invalid',
        `invalid policy set: ${join(directory, schemaFileName)}: does not accept the gateway's call-model request ${shape} (declare it as policies/keel.cedarschema does): ${problem}`,
      );
    }
  }
  return engine;
}
