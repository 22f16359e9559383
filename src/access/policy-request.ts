/** Access's names for the policy engine interface, which lives in src/spec/policy-engine-v1.ts. */
import type { EntityReferenceV1, PolicyEngineV1, PolicyEntityV1, PolicyRequestV1 } from '../spec/index.ts';

export type EntityReference = EntityReferenceV1;
export type PolicyEntity = PolicyEntityV1;
export type PolicyRequest = PolicyRequestV1;
export type PolicyEngine = PolicyEngineV1;
