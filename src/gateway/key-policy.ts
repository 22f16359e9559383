import { CedarPolicyEngine } from '../access/index.ts';
import type { PolicyEngineV1, PolicyRequestV1 } from '../spec/index.ts';
import type { CatalogModel } from './model-catalog.ts';
import type { RequestIdentity } from './request-identity.ts';

// The part of policies/keel.cedarschema a key's model list needs, so the gateway decides it with
// Cedar whether or not the deployment brought a policy set of its own.
const schema = `
entity Role;
entity User in [Role] { tenant: String };
entity Service in [Role] { tenant: String };
entity Model { name: String, route: Bool };
type KeyContext = { id: String, models: Set<String>, allModels: Bool };
type ModelCallContext = { task: String, tenant: String, key?: KeyContext };
action "call-model" appliesTo { principal: [User, Service], resource: [Model], context: ModelCallContext };
`;

// The same policy as policies/gateway-keys.cedar.
const keyModelsPolicy = `
@id("key-models")
@reason("a virtual key calls only the models it lists; a key that lists none may call every model")
permit (principal, action == Action::"call-model", resource is Model)
when { context has key && (context.key.allModels || context.key.models.contains(resource.name)) };
`;

/** The Cedar policy set that decides which models a virtual key may call. */
export function keyModelPolicies(): PolicyEngineV1 {
  return CedarPolicyEngine.fromSources({ schema: { path: 'gateway-keys.cedarschema', text: schema }, policies: [{ path: 'gateway-keys.cedar', text: keyModelsPolicy }] });
}

/**
 * `call-model` on `Model::"<name>"`, as policies/keel.cedarschema declares it: the model's name and
 * whether it is a route, the run's task and tenant, and the key's model list as `context.key` when
 * the request came with a key. The key's policy set and the deployment's are asked the same request.
 */
export function modelCallRequest(identity: RequestIdentity, target: Pick<CatalogModel, 'name' | 'route'>, task: string): PolicyRequestV1 {
  const key = identity.key;
  return {
    principal: { type: 'User', id: identity.principal, attributes: { tenant: identity.tenant } },
    action: 'call-model',
    resource: { type: 'Model', id: target.name, attributes: { name: target.name, route: target.route } },
    context: {
      task,
      tenant: identity.tenant,
      ...(key === undefined ? {} : { key: { id: key.keyId, models: key.settings.models, allModels: key.settings.models.length === 0 } }),
    },
  };
}
